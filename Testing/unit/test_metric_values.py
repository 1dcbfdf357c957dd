"""Segmentation metrics: hand-computed values, the empty-mask policy, properties, and MONAI agreement."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from synthtrust.labels.schema import brats_schema
from synthtrust.metrics import BRATS_POLICY, UNDEFINED_POLICY, evaluate_labels, evaluate_masks


def cube(shape, start, size):
    mask = np.zeros(shape, bool)
    mask[tuple(slice(s, s + size) for s in start)] = True
    return mask


def blob(rng, shape, center, radius):
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), 2) * radius * 3
    return ((z - center[0]) ** 2 + (y - center[1]) ** 2 + (x - center[2]) ** 2 + noise) < radius**2


def test_dice_and_volumes_of_two_shifted_cubes_match_hand_computation():
    reference = cube((10, 10, 10), (2, 2, 2), 4)
    prediction = cube((10, 10, 10), (2, 2, 3), 4)
    metrics = evaluate_masks(reference, prediction, (2.0, 1.0, 1.0))
    assert metrics.dice == pytest.approx(2 * 48 / 128)
    assert metrics.reference_volume_ml == pytest.approx(64 * 2 / 1000)
    assert metrics.volume_difference_ml == 0.0
    assert (metrics.detected_tp, metrics.detected_fn, metrics.detected_fp) == (1, 0, 0)


def test_distances_are_in_millimetres_with_anisotropic_spacing():
    reference = cube((12, 12, 12), (2, 4, 4), 4)
    prediction = cube((12, 12, 12), (4, 4, 4), 4)  # moved 2 voxels along z, 3 mm each
    metrics = evaluate_masks(reference, prediction, (3.0, 1.0, 1.0))
    assert metrics.hd95 == pytest.approx(6.0)


def test_dice_is_one_and_distances_zero_when_both_masks_are_empty_under_brats_policy():
    empty = np.zeros((5, 5, 5), bool)
    metrics = evaluate_masks(empty, empty, (1, 1, 1))
    assert (metrics.dice, metrics.hd95, metrics.surface_dice, metrics.empty) == (1.0, 0.0, 1.0, "both")


def test_a_missed_lesion_scores_zero_dice_and_the_worst_distance():
    reference = cube((8, 8, 8), (2, 2, 2), 3)
    metrics = evaluate_masks(reference, np.zeros_like(reference), (1, 1, 1))
    assert metrics.dice == 0.0 and metrics.hd95 == pytest.approx(373.13)
    assert metrics.detected_fn == 1 and metrics.empty == "prediction"


def test_the_undefined_policy_reports_nan_where_a_metric_is_undefined():
    empty = np.zeros((5, 5, 5), bool)
    metrics = evaluate_masks(empty, empty, (1, 1, 1), policy=UNDEFINED_POLICY)
    assert np.isnan(metrics.dice) and np.isnan(metrics.hd95)


def test_lesion_detection_counts_separate_components():
    reference = cube((20, 20, 20), (2, 2, 2), 3) | cube((20, 20, 20), (12, 12, 12), 3)
    prediction = cube((20, 20, 20), (2, 2, 2), 3) | cube((20, 20, 20), (2, 12, 2), 3)
    metrics = evaluate_masks(reference, prediction, (1, 1, 1))
    assert (metrics.detected_tp, metrics.detected_fn, metrics.detected_fp) == (1, 1, 1)
    assert metrics.lesion_f1 == pytest.approx(0.5)


def test_every_evaluation_states_its_empty_mask_policy_and_units():
    labels = np.zeros((6, 6, 6), np.uint8)
    labels[1:4, 1:4, 1:4] = 2
    result = evaluate_labels(labels, labels, brats_schema(), (1, 1, 1)).to_dict()
    assert result["empty_policy"]["name"] == "brats" and "BraTS convention" in result["empty_policy"]["description"]
    assert result["units"]["hd95"] == "mm"
    assert set(result["regions"]) == {"NCR", "ED", "ET", "TC", "WT"}
    assert result["regions"]["ET"]["empty"] == "both" and result["regions"]["ET"]["dice"] == 1.0


masks = st.integers(0, 2**31 - 1).map(lambda seed: np.random.default_rng(seed).random((6, 7, 5)) > 0.6)
spacings = st.tuples(*[st.sampled_from([0.5, 1.0, 2.5])] * 3)


@settings(max_examples=40, deadline=None)
@given(masks, masks, spacings, st.sampled_from(["brats", "monai"]))
def test_metrics_are_bounded_and_symmetric(reference, prediction, spacing, hd95):
    forward = evaluate_masks(reference, prediction, spacing, hd95=hd95)
    backward = evaluate_masks(prediction, reference, spacing, hd95=hd95)
    assert 0.0 <= forward.dice <= 1.0 and 0.0 <= forward.surface_dice <= 1.0 and forward.hd95 >= 0.0
    for name in ("dice", "hd95", "mean_surface_distance", "surface_dice"):
        assert getattr(forward, name) == pytest.approx(getattr(backward, name), abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(masks, spacings, st.sampled_from(["brats", "monai"]))
def test_a_mask_compared_with_itself_is_perfect(mask, spacing, hd95):
    metrics = evaluate_masks(mask, mask, spacing, hd95=hd95)
    if mask.any():
        assert (metrics.dice, metrics.hd95, metrics.mean_surface_distance, metrics.surface_dice) == (1.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_values_equal_monai_to_one_in_a_million(seed):
    torch = pytest.importorskip("torch")
    from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric, SurfaceDistanceMetric

    rng = np.random.default_rng(seed)
    shape, spacing, tolerance = (30, 40, 36), (2.5, 0.9, 0.8), 1.5
    reference = blob(rng, shape, (15, 20, 18), 8 + seed)
    prediction = blob(rng, shape, (16, 19, 20), 7 + seed)
    ours = evaluate_masks(reference, prediction, spacing, tolerance_mm=tolerance, hd95="monai")
    y, y_pred = (torch.tensor(m[None, None]).float() for m in (reference, prediction))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "dice": DiceMetric(include_background=True, ignore_empty=False)(y_pred, y).item(),
            "hd95": HausdorffDistanceMetric(include_background=True, percentile=95)(y_pred, y, spacing=spacing).item(),
            "mean_surface_distance": SurfaceDistanceMetric(include_background=True, symmetric=True)(y_pred, y, spacing=spacing).item(),
            "surface_dice": SurfaceDiceMetric(class_thresholds=[tolerance], include_background=True)(
                y_pred, y, spacing=spacing).item(),
        }
    for name, value in expected.items():
        assert getattr(ours, name) == pytest.approx(value, abs=1e-6), name


def test_policy_text_is_the_brats_convention_by_default():
    assert BRATS_POLICY.distance_one_empty == 373.13


def test_the_two_hd95_conventions_part_on_a_small_far_false_positive():
    reference = cube((40, 40, 40), (5, 5, 5), 9)
    prediction = reference | cube((40, 40, 40), (36, 36, 36), 3)  # 27 voxels at the far corner
    brats = evaluate_masks(reference, prediction, (1, 1, 1), hd95="brats")
    monai = evaluate_masks(reference, prediction, (1, 1, 1), hd95="monai")
    assert brats.hd95 == 0.0  # 26 of 798 pooled surface voxels are far: under 5 %
    assert monai.hd95 > 30.0  # 26 of 412 prediction surface voxels: over 5 %, MONAI's directed percentile sees them
    assert brats.dice == monai.dice and brats.surface_dice == monai.surface_dice


def test_brats_hd95_is_the_95th_percentile_of_both_directions_pooled():
    from synthtrust.metrics.surface import surface_distances

    rng = np.random.default_rng(3)
    reference, prediction = blob(rng, (24, 26, 28), (12, 13, 14), 7), blob(rng, (24, 26, 28), (11, 14, 13), 6)
    spacing = (2.0, 0.7, 1.1)
    distances = surface_distances(reference, prediction, spacing)
    pooled = np.percentile(np.concatenate([distances.prediction_to_reference, distances.reference_to_prediction]), 95)
    assert evaluate_masks(reference, prediction, spacing, hd95="brats").hd95 == pytest.approx(pooled, abs=1e-12)


def test_brats_hd95_scores_masks_without_a_common_voxel_as_the_worst_distance():
    reference = cube((20, 20, 20), (2, 2, 2), 4)
    prediction = cube((20, 20, 20), (10, 2, 2), 4)
    assert evaluate_masks(reference, prediction, (1, 1, 1), hd95="brats").hd95 == BRATS_POLICY.distance_one_empty
    assert evaluate_masks(reference, prediction, (1, 1, 1), hd95="monai").hd95 == pytest.approx(8.0)


def test_an_unknown_hd95_convention_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="brats, monai"):
        evaluate_masks(cube((5, 5, 5), (1, 1, 1), 2), cube((5, 5, 5), (1, 1, 1), 2), (1, 1, 1), hd95="nnunet")


def test_every_evaluation_states_its_hd95_convention_and_lesion_rules():
    from synthtrust.metrics import BRATS2023_LESION_RULES

    labels = np.zeros((8, 8, 8), np.uint8)
    labels[2:5, 2:5, 2:5] = 2
    plain = evaluate_labels(labels, labels, brats_schema(), (1, 1, 1)).to_dict()
    assert plain["hd95_convention"]["name"] == "brats" and "lesionwise" not in plain
    ranked = evaluate_labels(labels, labels, brats_schema(), (1, 1, 1), hd95="monai",
                             lesion_rules=BRATS2023_LESION_RULES).to_dict()
    assert ranked["hd95_convention"]["name"] == "monai" and ranked["lesion_rules"]["min_lesion_mm3"] == 50.0
    assert set(ranked["lesionwise"]) == set(ranked["regions"])


def lesion_scores(reference, prediction, rules=None):
    from synthtrust.metrics import BRATS_LESION_RULES
    from synthtrust.metrics.conventions import BRATS_HD95
    from synthtrust.metrics.lesionwise import lesionwise_scores

    return lesionwise_scores(reference, prediction, (1, 1, 1), 1.0, rules or BRATS_LESION_RULES, BRATS_POLICY,
                             BRATS_HD95)


def test_one_to_one_matching_counts_a_split_prediction_as_one_hit_and_one_false_lesion():
    reference = cube((20, 20, 20), (2, 2, 2), 8)
    prediction = cube((20, 20, 20), (2, 2, 2), 8)
    prediction[:, 4:7, :] = False  # split in two: rows y 2..3 (128 voxels) and y 7..9 (192 voxels)
    scores = lesion_scores(reference, prediction)
    assert (scores.tp, scores.fp, scores.fn) == (1, 1, 0)
    assert scores.f1 == pytest.approx(1 / (1 + 0.5))
    # the larger part (y 7..9, 3 of 8 rows) is matched: Dice 2 * 192 / (512 + 192)
    assert scores.lesion_dice == pytest.approx(2 * 192 / (512 + 192))
    old = evaluate_masks(reference, prediction, (1, 1, 1))
    assert (old.detected_tp, old.detected_fp) == (1, 0)  # overlap counting: both parts "detect" the lesion


def test_brats2023_rules_leave_out_small_lesions_and_penalise_false_ones():
    from synthtrust.metrics import BRATS2023_LESION_RULES

    reference = cube((30, 30, 30), (2, 2, 2), 6) | cube((30, 30, 30), (20, 20, 20), 3)  # 216 and 27 mm^3
    prediction = cube((30, 30, 30), (2, 2, 2), 6) | cube((30, 30, 30), (20, 2, 20), 2)  # exact + a false one
    scores = lesion_scores(reference, prediction, rules=BRATS2023_LESION_RULES)
    assert (scores.tp, scores.fn, scores.fp) == (1, 0, 1)  # the missed 27 mm^3 lesion is left out
    assert scores.lesion_dice == pytest.approx((1.0 + 0.0) / 2)
    assert scores.lesion_hd95 == pytest.approx((0.0 + 374.0) / 2)
    assert [lesion.counted for lesion in scores.lesions] == [True, False]


def test_brats2023_rules_merge_reference_lesions_closer_than_the_dilation():
    from synthtrust.metrics import BRATS2023_LESION_RULES, BRATS_LESION_RULES

    reference = cube((30, 30, 30), (5, 5, 5), 5) | cube((30, 30, 30), (5, 5, 12), 5)  # 2 voxels apart
    prediction = cube((30, 30, 30), (5, 5, 5), 12)
    assert lesion_scores(reference, prediction, rules=BRATS_LESION_RULES).reference_lesions == 2
    merged = lesion_scores(reference, prediction, rules=BRATS2023_LESION_RULES)
    assert (merged.reference_lesions, merged.tp, merged.fp, merged.fn) == (1, 1, 0, 0)


@pytest.fixture
def label_files(tmp_path):
    from synthtrust.imaging import io
    from synthtrust.imaging.image import Image

    labels = np.zeros((8, 9, 10), np.uint8)
    labels[2:6, 2:6, 2:6] = 2
    for name in ("reference", "prediction"):
        io.save_image(Image.from_array(labels, (1.0, 1.0, 1.0)), tmp_path / f"{name}.nii.gz")
    return tmp_path / "reference.nii.gz", tmp_path / "prediction.nii.gz"


@pytest.mark.parametrize(("option", "value", "named"), [("--hd95", "nnunet", "brats"),
                                                       ("--lesion-rules", "brats2019", "brats2023")])
def test_evaluate_refuses_an_unknown_convention_and_names_the_known_ones(tmp_path, capfd, label_files, option,
                                                                         value, named):
    from refusals import refuse

    reference, prediction = label_files
    refuse(capfd, ["evaluate", "--reference", reference, "--prediction", prediction, "--schema", "brats",
                   "--json", tmp_path / "metrics.json", option, value], tmp_path, option, value, named)


def test_a_worker_job_with_an_unknown_hd95_convention_is_refused_before_any_work():
    from synthtrust.errors import InputError
    from synthtrust.settings import RunSettings

    settings = RunSettings(kind="segment", task="brain-tumor", channels=["t1.nrrd"], modalities=["t1"], hd95="max")
    with pytest.raises(InputError, match="brats, monai"):
        settings.check()


@settings(max_examples=30, deadline=None)
@given(masks, masks)
def test_lesion_counts_add_up_and_a_mask_matches_itself_lesion_by_lesion(reference, prediction):
    scores = lesion_scores(reference, prediction)
    assert scores.tp + scores.fn == scores.reference_lesions and scores.tp + scores.fp == scores.predicted_lesions
    assert 0.0 <= scores.f1 <= 1.0 and 0.0 <= scores.panoptic_quality <= scores.f1
    itself = lesion_scores(reference, reference)
    if reference.any():
        assert (itself.fp, itself.fn, itself.f1, itself.lesion_dice, itself.lesion_hd95) == (0, 0, 1.0, 1.0, 0.0)
