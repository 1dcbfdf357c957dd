"""Segmenters on real images from ../shared/data: predictions on a real 1 mm brain, the default training
data built from the real sources, and (once trained) the shipped defaults on real scans."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import shared_file
from synthtrust.imaging.io import load_channels, load_image
from synthtrust.labels.schema import EMIDEC, brats_schema
from synthtrust.metrics import evaluate_labels
from synthtrust.models.manifest import read_manifest
from synthtrust.segmentation import NetworkConfig, Segmenter, build_network
from synthtrust.training.datasets import brain_tumor_dataset, cardiac_scar_dataset

pytestmark = pytest.mark.integration

TCGA = ("brainles_tcga", "TCGA-FG-6692")


def tcga_channels(*names: str):
    files = [shared_file(*TCGA, "sri24_skullstripped", f"TCGA-FG-6692_{name}.nii.gz") for name in names]
    return load_channels(files, list(names))


def test_a_segmenter_predicts_a_real_flair_t1c_brain_on_its_own_grid():
    channels = tcga_channels("fla", "t1c")
    config = NetworkConfig("unet", ["flair", "t1c"], "brain-tumor", [0, 1, 2, 4],
                           {"channels": [4, 8, 16], "strides": [2, 2], "num_res_units": 0},
                           target_spacing_mm=(2.0, 2.0, 2.0), roi_size=(32, 32, 32), id="tiny")
    torch.manual_seed(0)
    segmenter = Segmenter(build_network(config), config, "cpu")

    result = segmenter.predict(channels)

    assert result.labels.geometry.matches(channels[0].geometry)
    assert result.labels.array.shape == (155, 240, 240)
    assert set(np.unique(result.labels.array)) <= {0, 1, 2, 4}
    np.testing.assert_allclose(result.probabilities[:, ::7, ::7, ::7].sum(axis=0), 1.0, atol=1e-5)
    assert result.provenance["working_spacing_mm"] == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("source", ["TCGA-LGG (BraTS", "TCGA-LGG + project", "MNI ICBM152"])
def test_the_brain_training_data_builds_valid_cases_from_each_source(source):
    shared_file("brainles_tcga")
    shared_file("nilearn_mni152")
    dataset = brain_tumor_dataset(["t1"], seed=0, mni_cases=1, tcga_synthetic_cases=1, validation_cases=0)
    spec = next(s for s in dataset.training if s.source.startswith(source))

    case = spec.build()

    brats_schema(2021).validate(case.labels.array, spec.name)
    assert case.labels.geometry.matches(case.channels[0].geometry)
    assert np.isin(case.labels.array, (1, 2, 4)).any()


def test_the_cardiac_training_data_renders_real_sunnybrook_anatomy_with_scar():
    shared_file("sunnybrook_cine")
    dataset = cardiac_scar_dataset(seed=0, phantom_cases=1, sunnybrook_variants=1, validation_cases=0)
    spec = next(s for s in dataset.training if s.source.startswith("Sunnybrook"))

    case = spec.build()

    EMIDEC.validate(case.labels.array, spec.name)
    assert np.isin(case.labels.array, (3, 4)).any()
    assert case.channels[0].geometry.matches(case.labels.geometry)
    assert "EMIDEC" not in " ".join(source.name for source in dataset.sources)


def installed_default(task: str, channels: list[str]):
    for entry in read_manifest():
        if entry.task == task and sorted(entry.channels) == sorted(channels):
            return entry
    pytest.skip(f"no shipped default for {task} {channels} yet (scripts/train_default_segmenters.sh trains it)")


def test_the_shipped_flair_t1c_default_finds_the_real_tumour():
    from synthtrust.segmentation import load_default_segmenter

    installed_default("brain-tumor", ["flair", "t1c"])
    channels = tcga_channels("fla", "t1c")
    reference = load_image(shared_file(*TCGA, "algorithm_segmentations", "fusion_simple.nii.gz"))

    result = load_default_segmenter("brain-tumor", ["flair", "t1c"], device="cpu").predict(channels)

    # A case the default was trained on (labels: algorithm fusion): a sanity check, not an accuracy claim.
    evaluation = evaluate_labels(reference.array, result.labels.array, brats_schema(2021), reference.spacing_zyx)
    assert evaluation.regions["WT"].dice > 0.5


def test_the_shipped_t1_default_segments_the_real_mni_brain():
    from synthtrust.segmentation import load_default_segmenter

    installed_default("brain-tumor", ["t1"])
    t1 = load_image(shared_file("nilearn_mni152", "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"))

    result = load_default_segmenter("brain-tumor", ["t1"], device="cpu").predict([t1])

    # A healthy template: whatever is called tumour must be a small fraction of the brain.
    assert result.labels.geometry.matches(t1.geometry)
    assert np.count_nonzero(result.labels.array) < 0.01 * np.count_nonzero(t1.array)


def test_the_shipped_lge_default_runs_on_the_real_emidec_scan():
    from synthtrust.segmentation import load_default_segmenter

    installed_default("cardiac-scar", ["lge"])
    image = load_image(shared_file("emidec_Case_P100", "Case_P100_image.nii.gz"))

    # EMIDEC is non-commercial: evaluation only, never training.
    result = load_default_segmenter("cardiac-scar", ["lge"], device="cpu").predict([image])

    EMIDEC.validate(result.labels.array, "prediction")
    assert np.isin(result.labels.array, (2, 3, 4)).any()
