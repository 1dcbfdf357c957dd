"""The template engine: bit-identical outside the edit, per-modality contrast, blending, validation."""

from __future__ import annotations

import numpy as np
import pytest

from synthtrust.editing.scar import place_scar
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import EMIDEC, brats_schema
from synthtrust.phantoms.cardiac import make_lge_phantom
from synthtrust.synthesis.template import TemplateSynthesizer

SCHEMA = brats_schema(2021)


@pytest.fixture
def brain_and_lesion(rng):
    z, y, x = np.ogrid[:32, :48, :48]
    head = ((x - 24) / 21.0) ** 2 + ((y - 24) / 21.0) ** 2 + ((z - 16) / 14.0) ** 2 <= 1
    radius = np.sqrt((x - 24) ** 2 + (y - 24) ** 2 + (z - 16) ** 2)
    labels = np.zeros((32, 48, 48), np.uint8)
    labels[radius <= 9] = 2
    labels[radius <= 5] = 4
    labels[radius <= 3] = 1
    # Tissue with realistic contrast: intensities from 200 to 500 across the head, plus noise.
    tissue = 200.0 + 300.0 * (x / 47.0) + 0.0 * y + 0.0 * z
    image = Image.from_array(np.where(head, tissue, 0.0) + rng.normal(0, 10, head.shape) * head, (1.0, 1.0, 1.5))
    image = image.with_array(image.array.astype(np.int16))
    return image, image.with_array(labels)


def test_voxels_outside_the_edit_region_stay_bit_identical(brain_and_lesion):
    image, lesion = brain_and_lesion
    result = TemplateSynthesizer().synthesize([image, image.copy()], lesion, SCHEMA, ["flair", "t1c"], seed=3)
    outside = lesion.array == 0
    for channel in result.channels:
        assert channel.array.dtype == np.int16
        assert np.array_equal(channel.array[outside], image.array[outside])
        assert not np.array_equal(channel.array, image.array)


def test_the_input_image_is_not_modified(brain_and_lesion):
    image, lesion = brain_and_lesion
    before = image.array.copy()
    TemplateSynthesizer().synthesize([image], lesion, SCHEMA, ["t1"], seed=0)
    assert np.array_equal(image.array, before)


def test_flair_edema_is_bright_and_t1c_rim_enhances_over_necrosis(brain_and_lesion):
    image, lesion = brain_and_lesion
    flair, t1c = TemplateSynthesizer().synthesize([image, image.copy()], lesion, SCHEMA, ["flair", "t1c"]).channels
    labels = lesion.array
    tissue = np.median(image.array[(labels == 0) & (image.array > 0)])
    assert flair.array[labels == 2].mean() > tissue
    assert t1c.array[labels == 4].mean() > t1c.array[labels == 1].mean() + 50


def test_the_border_is_blended_more_gently_than_the_core(brain_and_lesion):
    image, lesion = brain_and_lesion
    synthetic = TemplateSynthesizer(blend_mm=3.0).synthesize([image], lesion, SCHEMA, ["flair"]).channels[0]
    change = np.abs(synthetic.array.astype(float) - image.array)
    z, y, x = np.ogrid[:32, :48, :48]
    radius = np.sqrt((x - 24) ** 2 + (y - 24) ** 2 + (z - 16) ** 2)
    assert change[(radius > 8) & (radius <= 9)].mean() < change[(radius > 5) & (radius <= 7)].mean()


def test_synthesis_is_deterministic_per_seed(brain_and_lesion):
    image, lesion = brain_and_lesion
    engine = TemplateSynthesizer()
    first = engine.synthesize([image], lesion, SCHEMA, ["t2"], seed=1).channels[0].array
    assert np.array_equal(first, engine.synthesize([image], lesion, SCHEMA, ["t2"], seed=1).channels[0].array)
    assert not np.array_equal(first, engine.synthesize([image], lesion, SCHEMA, ["t2"], seed=2).channels[0].array)


def test_lge_scar_is_bright_against_remote_myocardium_and_mvo_dark():
    image, anatomy = make_lge_phantom(seed=2)
    edit = place_scar(anatomy, [7, 8], transmurality=0.8, mvo=0.5, seed=1)
    result = TemplateSynthesizer().synthesize([image], edit.labels, EMIDEC, ["lge"], seed=0)
    synthetic, labels = result.channels[0].array, edit.labels.array
    remote = synthetic[labels == 2].mean()
    assert synthetic[labels == 3].mean() > remote + 0.3
    assert synthetic[labels == 4].mean() < synthetic[labels == 3].mean() - 0.2
    assert result.provenance["mask_sha256"] and result.provenance["engine"] == "template"


def test_bad_synthesis_inputs_are_refused_with_the_fix(brain_and_lesion):
    image, lesion = brain_and_lesion
    engine = TemplateSynthesizer()
    with pytest.raises(InputError, match="empty"):
        engine.synthesize([image], lesion.with_array(np.zeros_like(lesion.array)), SCHEMA, ["t1"])
    with pytest.raises(InputError, match="whole image"):
        engine.synthesize([image], lesion.with_array(np.full_like(lesion.array, 2)), SCHEMA, ["t1"])
    with pytest.raises(InputError, match="modalities"):
        engine.synthesize([image], lesion, SCHEMA, ["pet"])
    with pytest.raises(InputError, match="one modality per channel"):
        engine.synthesize([image], lesion, SCHEMA, ["t1", "t2"])
    shifted = Image.from_array(lesion.array, (1.0, 1.0, 3.0))
    with pytest.raises(InputError, match="spacing 1x1x3 mm"):
        engine.synthesize([image], shifted, SCHEMA, ["t1"])
