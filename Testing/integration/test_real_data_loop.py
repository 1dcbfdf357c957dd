"""The loop on real images from ../shared/data: editing, synthesis, metrics, and the CLI chain."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from conftest import shared_file
from synthtrust.cli.main import main
from synthtrust.editing.cardiac import aha_segments
from synthtrust.editing.scar import place_scar
from synthtrust.editing.tumor import place_tumor
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import EMIDEC, brats_schema
from synthtrust.metrics import evaluate_labels
from synthtrust.synthesis.template import TemplateSynthesizer

pytestmark = pytest.mark.integration
TCGA = ("brainles_tcga", "TCGA-FG-6692")


def tcga(name):
    return load_image(shared_file(*TCGA, "sri24_skullstripped", f"TCGA-FG-6692_{name}.nii.gz"))


def healthy_centre(image, labels):
    """A point mirrored across the midline from the real tumour, in healthy brain."""
    k, j, i = np.nonzero(labels.array)
    return image.geometry.index_to_physical((image.array.shape[2] - i.mean(), j.mean(), k.mean()))


def test_a_tumour_synthesized_into_real_flair_and_t1c_changes_only_the_lesion():
    flair, t1c = tcga("fla"), tcga("t1c")
    real = load_image(shared_file(*TCGA, "algorithm_segmentations", "fusion_simple.nii.gz"))
    edit = place_tumor(flair, healthy_centre(flair, real), 30, seed=3)
    assert not np.any(edit.labels.array[real.array > 0]), "the new tumour must not overlap the real one"
    result = TemplateSynthesizer().synthesize([flair, t1c], edit.labels, brats_schema(), ["flair", "t1c"], seed=1)
    outside = edit.labels.array == 0
    labels = edit.labels.array
    for original, synthetic in zip((flair, t1c), result.channels, strict=True):
        assert synthetic.array.dtype == original.array.dtype
        assert np.array_equal(synthetic.array[outside], original.array[outside])
    brain = flair.array[(flair.array > 0) & outside]
    assert result.channels[0].array[labels == 2].mean() > np.percentile(brain, 90)
    assert result.channels[1].array[labels == 4].mean() > result.channels[1].array[labels == 1].mean()


def test_a_scar_on_the_real_emidec_heart_stays_in_its_myocardium_and_covers_the_segments():
    labels = load_image(shared_file("emidec_Case_P100", "Case_P100_label.nii.gz"))
    labels = labels.with_array(labels.array.astype(np.uint8))
    anatomy = labels.with_array(np.where(np.isin(labels.array, (3, 4)), 2, labels.array).astype(np.uint8))
    segments = aha_segments(anatomy).array
    assert set(np.unique(segments[anatomy.array == 2])) == set(range(1, 18))
    edit = place_scar(anatomy, [2, 3, 8, 9], transmurality=0.7, mvo=0.3, seed=2)
    scar = np.isin(edit.labels.array, (3, 4))
    assert scar.any() and np.all(anatomy.array[scar] == 2)
    assert set(np.unique(segments[scar])) <= {1, 2, 3, 4, 7, 8, 9, 10}


def test_scar_synthesized_into_real_lge_is_brighter_than_remote_myocardium():
    image = load_image(shared_file("emidec_Case_P100", "Case_P100_image.nii.gz"))
    labels = load_image(shared_file("emidec_Case_P100", "Case_P100_label.nii.gz"))
    labels = labels.with_array(labels.array.astype(np.uint8))
    anatomy = labels.with_array(np.where(np.isin(labels.array, (3, 4)), 2, labels.array).astype(np.uint8))
    edit = place_scar(anatomy, [10, 11], transmurality=0.8, seed=5)
    synthetic = TemplateSynthesizer().synthesize([image], edit.labels, EMIDEC, ["lge"], seed=0).channels[0].array
    new_scar = edit.labels.array == 3
    remote = image.array[labels.array == 2]
    real_scar = image.array[labels.array == 3].mean()
    assert synthetic[new_scar].mean() > remote.mean() + 2 * remote.std()
    assert synthetic[new_scar].mean() == pytest.approx(real_scar, rel=0.1)


def test_two_real_algorithm_segmentations_are_compared_as_monai_would():
    torch = pytest.importorskip("torch")
    from monai.metrics import DiceMetric, HausdorffDistanceMetric

    folder = ("brainles_tcga", "TCGA-FG-6692", "algorithm_segmentations")
    reference = load_image(shared_file(*folder, "fusion_simple.nii.gz"))
    prediction = load_image(shared_file(*folder, "sanet0-20.nii.gz"))
    schema = brats_schema()
    ours = evaluate_labels(reference.array, prediction.array, schema, reference.spacing_zyx, hd95="monai")
    assert 0.8 < ours.regions["WT"].dice <= 1.0
    masks = [np.stack([schema.region_mask(a, r) for r in ("WT", "TC")])[None] for a in (reference.array,
                                                                                        prediction.array)]
    y, y_pred = (torch.from_numpy(m).float() for m in masks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dice = DiceMetric(include_background=True, ignore_empty=False)(y_pred, y)[0]
        hd95 = HausdorffDistanceMetric(include_background=True, percentile=95)(y_pred, y, spacing=(1, 1, 1))[0]
    for index, region in enumerate(("WT", "TC")):
        assert ours.regions[region].dice == pytest.approx(float(dice[index]), abs=1e-6)
        assert ours.regions[region].hd95 == pytest.approx(float(hd95[index]), abs=1e-6)


def test_the_cli_chain_places_synthesizes_segments_and_evaluates_a_real_brain(tmp_path, capsys):
    flair = shared_file(*TCGA, "sri24_skullstripped", "TCGA-FG-6692_fla.nii.gz")
    t1c = shared_file(*TCGA, "sri24_skullstripped", "TCGA-FG-6692_t1c.nii.gz")
    real = load_image(shared_file(*TCGA, "algorithm_segmentations", "fusion_simple.nii.gz"))
    centre = healthy_centre(load_image(flair), real)
    ras = f"{-centre[0]},{-centre[1]},{centre[2]}"
    assert main(["place-tumor", "--image", str(flair), f"--center={ras}", "--size", "30", "--seed", "4",
                 "--out", str(tmp_path / "tumour.nii.gz")]) == 0
    assert json.loads((tmp_path / "tumour.provenance.json").read_text(encoding="utf-8"))["edit"]["parameters"]["seed"] == 4
    assert main(["synthesize", "--image", str(flair), "--image", str(t1c), "--modalities", "flair,t1c",
                 "--lesion", str(tmp_path / "tumour.nii.gz"), "--out", str(tmp_path / "synthetic")]) == 0
    assert (tmp_path / "synthetic" / "variant_0_1.nii.gz").exists()
    assert main(["segment", "--image", str(tmp_path / "synthetic" / "variant_0_0.nii.gz"), "--image",
                 str(tmp_path / "synthetic" / "variant_0_1.nii.gz"), "--channels", "flair,t1c",
                 "--task", "brain-tumor", "--out", str(tmp_path / "prediction.nii.gz")]) == 0
    assert main(["evaluate", "--reference", str(tmp_path / "tumour.nii.gz"), "--prediction",
                 str(tmp_path / "prediction.nii.gz"), "--schema", "brats", "--json",
                 str(tmp_path / "metrics.json")]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    # The prediction also contains the real tumour, so only the whole-tumour overlap with the placed
    # tumour is checked loosely; the real tumour counts as false positive lesion.
    assert metrics["regions"]["WT"]["dice"] > 0.4
    assert metrics["regions"]["WT"]["detected_tp"] >= 1
