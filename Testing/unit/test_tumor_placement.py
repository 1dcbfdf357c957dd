"""Tumour placement and lesion modification: nesting, sizes in mm, clipping, replay, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from synthtrust.editing.edit import mask_checksum
from synthtrust.editing.modify import grow, move, shrink, smooth
from synthtrust.editing.tumor import apply_tumor, place_tumor
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import brats_schema

SCHEMA = brats_schema(2021)


@pytest.fixture
def brain():
    """A 'head': a bright ellipsoid in a dark background, anisotropic voxels."""
    shape, spacing = (40, 64, 64), (1.0, 1.0, 2.0)
    z, y, x = np.ogrid[:40, :64, :64]
    head = ((x - 32) / 28.0) ** 2 + ((y - 32) / 28.0) ** 2 + ((z - 20) / 18.0) ** 2 <= 1
    image = Image.from_array(np.where(head, 100.0, 0.0).astype(np.float32) + 1.0 * head, spacing, name="brain")
    mask = image.with_array(head.astype(np.uint8))
    assert image.array.shape == shape
    return image, mask


def centre(image):
    return image.geometry.index_to_physical((32, 32, 20))


def test_necrosis_sits_inside_the_enhancing_rim_inside_edema(brain):
    image, mask = brain
    edit = place_tumor(image, centre(image), 20, edema_mm=6, enhancing_rim_mm=3, irregularity=0.2, seed=1,
                       brain_mask=mask)
    labels = edit.labels.array
    ncr, et, ed = labels == 1, labels == 4, labels == 2
    assert ncr.any() and et.any() and ed.any()
    core = ndimage.binary_fill_holes(ncr | et)
    assert not np.any(ndimage.binary_dilation(ncr) & ed), "necrosis must not touch edema"
    assert np.all(core[ncr])


def test_sizes_are_in_millimetres_under_anisotropic_spacing(brain):
    image, mask = brain
    edit = place_tumor(image, centre(image), 24, edema_mm=0.0, necrosis=False, irregularity=0.0, brain_mask=mask)
    et = edit.labels.array == 4
    extent_mm = [(np.ptp(np.flatnonzero(et.any(axis=tuple(a for a in range(3) if a != axis)))) + 1) * s
                 for axis, s in enumerate(image.spacing_zyx)]
    assert extent_mm == pytest.approx([24, 24, 24], abs=2.5)


def test_edema_shell_thickness_matches_the_request(brain):
    image, mask = brain
    edit = place_tumor(image, centre(image), 16, edema_mm=6.0, irregularity=0.0, brain_mask=mask)
    core = np.isin(edit.labels.array, (1, 4))
    depth = ndimage.distance_transform_edt(~core, sampling=image.spacing_zyx)
    assert depth[edit.labels.array == 2].max() == pytest.approx(6.0, abs=1.5)


def test_the_same_seed_replays_the_same_tumour_and_another_seed_differs(brain):
    image, mask = brain
    first = place_tumor(image, centre(image), 20, seed=5, brain_mask=mask)
    again = apply_tumor(image.geometry, first.parameters, mask.array)
    assert np.array_equal(again, first.labels.array)
    other = place_tumor(image, centre(image), 20, seed=6, brain_mask=mask)
    assert mask_checksum(other.labels.array) != mask_checksum(first.labels.array)


def test_tumours_are_clipped_to_the_brain(brain):
    image, mask = brain
    near_edge = image.geometry.index_to_physical((32, 8, 20))
    edit = place_tumor(image, near_edge, 30, brain_mask=mask)
    assert not np.any(edit.labels.array[mask.array == 0])


def test_a_centre_outside_the_image_or_brain_is_refused_clearly(brain):
    image, mask = brain
    with pytest.raises(InputError, match="outside the image"):
        place_tumor(image, (500.0, 0.0, 0.0), 20, brain_mask=mask)
    with pytest.raises(InputError, match="outside the brain"):
        place_tumor(image, image.geometry.index_to_physical((1, 1, 1)), 20, brain_mask=mask)


def test_brats_2023_numbering_writes_label_three_for_enhancing_tumour(brain):
    image, mask = brain
    edit = place_tumor(image, centre(image), 20, brain_mask=mask, schema=brats_schema(2023))
    assert set(np.unique(edit.labels.array)) == {0, 1, 2, 3}


def test_grow_and_shrink_change_the_volume_monotonically(brain):
    image, mask = brain
    labels = place_tumor(image, centre(image), 16, brain_mask=mask, seed=2).labels
    size = np.count_nonzero(labels.array)
    assert np.count_nonzero(grow(labels, 3.0, SCHEMA).labels.array) > size
    assert np.count_nonzero(shrink(labels, 2.0, SCHEMA).labels.array) < size
    assert np.count_nonzero(smooth(labels, 1.5, SCHEMA).labels.array) > 0


def test_move_shifts_the_lesion_centroid_by_the_offset_in_millimetres(brain):
    image, mask = brain
    labels = place_tumor(image, centre(image), 14, edema_mm=0, irregularity=0.0, brain_mask=mask).labels
    edit = move(labels, (6.0, 0.0, 4.0), SCHEMA)
    moved = edit.labels
    assert edit.parameters["offset_lps_mm"] == [6.0, 0.0, 4.0]

    def centroid_mm(array):
        k, j, i = np.nonzero(array)
        return image.geometry.index_to_physical((i.mean(), j.mean(), k.mean()))

    assert centroid_mm(moved.array) - centroid_mm(labels.array) == pytest.approx([6.0, 0.0, 4.0], abs=0.6)


def _solidity(labels, spacing):
    from synthtrust.trust.lesion_features import shape_features

    return shape_features(labels, SCHEMA, spacing)["shape.core_solidity"]


def test_the_core_is_lobulated_with_irregularity_and_keeps_the_requested_volume(brain):
    image, mask = brain
    spacing = image.spacing_zyx
    requested_ml = 4 / 3 * np.pi * 10 ** 3 / 1000
    smooth = place_tumor(image, centre(image), 20, irregularity=0.0, seed=2, brain_mask=mask).labels.array
    lobed = place_tumor(image, centre(image), 20, irregularity=1.0, seed=2, brain_mask=mask).labels.array
    for labels in (smooth, lobed):
        core_ml = np.isin(labels, (1, 4)).sum() * np.prod(spacing) / 1000
        assert core_ml == pytest.approx(requested_ml, rel=0.03)
    assert _solidity(smooth, spacing) > 0.85 and _solidity(lobed, spacing) < _solidity(smooth, spacing) - 0.15


def test_the_necrosis_sits_off_centre_towards_the_thin_side_of_the_rim(brain):
    image, mask = brain
    edit = place_tumor(image, centre(image), 24, enhancing_rim_mm=3, irregularity=0.8, seed=3, brain_mask=mask)
    labels, shift = edit.labels.array, np.asarray(edit.parameters["necrosis_shift"])
    spacing = np.asarray(image.spacing_zyx)
    core_centre = np.argwhere(np.isin(labels, (1, 4))).mean(axis=0) * spacing
    necrosis_centre = np.argwhere(labels == 1).mean(axis=0) * spacing
    moved_lps = (necrosis_centre - core_centre)[::-1]  # (x, y, z) mm; the grid's axes are LPS here
    assert np.linalg.norm(moved_lps) > 1.0 and moved_lps @ shift < 0


def test_parameters_recorded_before_the_lobulated_core_replay_as_the_star_shaped_tumour(brain):
    image, mask = brain
    parameters = dict(place_tumor(image, centre(image), 20, seed=5, brain_mask=mask).parameters)
    for key in ("shape", "lobes", "rim_border", "necrosis_shift"):
        parameters.pop(key)
    star = apply_tumor(image.geometry, parameters, mask.array)
    assert np.array_equal(star, apply_tumor(image.geometry, parameters, mask.array)) and (star == 1).any()
    assert not np.array_equal(star, place_tumor(image, centre(image), 20, seed=5, brain_mask=mask).labels.array)
