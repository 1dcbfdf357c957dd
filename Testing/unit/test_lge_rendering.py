"""Domain-randomised LGE training slices: anatomies with placed scars, rendering from recorded parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthtrust.training.lge_anatomies import (
    Anatomy,
    build_anatomy_pool,
    phantom_anatomies,
    thicken_myocardium,
    with_random_scar,
)
from synthtrust.training.lge_rendering import (
    PATCH,
    RV_BLOOD,
    add_surroundings,
    render_batch,
    render_slice,
    sample_rendering,
)


@pytest.fixture(scope="module")
def anatomy() -> Anatomy:
    return phantom_anatomies(1, seed=3)[0]


@pytest.fixture(scope="module")
def scarred(anatomy) -> Anatomy:
    result = with_random_scar(anatomy, seed=5)
    assert result is not None
    return result


def test_thickening_grows_the_wall_outwards_and_into_the_cavity(anatomy):
    thick = thicken_myocardium(anatomy.labels, outward=2, inward=1)
    wall, thick_wall = anatomy.labels == 2, thick == 2
    assert thick_wall.sum() > 1.3 * wall.sum()
    assert np.all(thick_wall[wall])  # nothing of the old wall is lost
    assert (thick == 1).sum() < (anatomy.labels == 1).sum()


def test_a_random_scar_is_drawn_by_the_editor_inside_the_myocardium(anatomy, scarred):
    scar = np.isin(scarred.labels, (3, 4))
    assert scar.any()
    assert np.all(np.isin(anatomy.labels[scar], (2,)))  # scar replaces myocardium, nothing else


def test_surroundings_add_an_rv_without_touching_the_heart_labels(scarred, rng):
    z = int(np.argmax(np.isin(scarred.labels, (3, 4)).sum(axis=(1, 2))))
    classes = add_surroundings(scarred.labels[z], 1.5, rng)
    heart = scarred.labels[z] > 0
    np.testing.assert_array_equal(classes[heart], scarred.labels[z][heart])
    assert np.all(classes[~heart] != 1) and np.all(~np.isin(classes[~heart], (2, 3, 4)))
    # The RV is drawn in most slices (85 %): among five seeds at least one has it.
    assert any((add_surroundings(scarred.labels[z], 1.5, np.random.default_rng(s)) == RV_BLOOD).any()
               for s in range(5))


def test_rendering_is_deterministic_from_its_recorded_parameters(scarred, rng):
    parameters = sample_rendering(rng, 1, has_cine=False)
    json.dumps(parameters)  # the provenance of a training sample is JSON-ready
    first = render_slice(scarred, parameters)
    second = render_slice(scarred, json.loads(json.dumps(parameters)))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[0].shape == (PATCH, PATCH) and first[0].dtype == np.float32 and np.isfinite(first[0]).all()
    assert set(np.unique(first[1])) <= {0, 1, 2, 3, 4}


def test_bright_lge_scar_is_brighter_than_remote_myocardium(scarred):
    parameters = sample_rendering(np.random.default_rng(0), 1, has_cine=False)
    levels = {"0": 0.3, "1": 0.9, "2": 0.05, "3": 0.9, "4": 0.1, "5": 0.8, "6": 0.1, "7": 0.7, "8": 0.02,
              "9": 0.4, "10": 0.3}
    scar_slice = int(np.argmax(np.isin(scarred.labels, (3,)).sum(axis=(1, 2))))
    slices = [z for z in range(scarred.labels.shape[0]) if np.isin(scarred.labels[z], (2, 3, 4)).any()]
    parameters.update(contrast="LGE-typical", levels=levels, noise_sd=0.01, bias=0.0, neighbour_weight=0.0,
                      slice_fraction=(slices.index(scar_slice) + 0.5) / len(slices), offset_mm=[0.0, 0.0], zoom=1.0)
    image, labels = render_slice(scarred, parameters)
    assert (labels == 3).sum() > 10
    assert image[labels == 3].mean() > image[labels == 2].mean() + 0.3


def test_a_batch_covers_both_contrast_families_and_the_scar():
    pool = build_anatomy_pool(phantom_anatomies(1, seed=4), scars_per_variant=2, thickening=((0, 0),))
    images, labels, records = render_batch(pool, 24, np.random.default_rng(2))
    assert images.shape == (24, PATCH, PATCH) and labels.shape == (24, PATCH, PATCH)
    assert {r["contrast"] for r in records} == {"LGE-typical", "random"}
    assert (labels == 3).any() and (labels == 2).any() and (labels == 1).any()
