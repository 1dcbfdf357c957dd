"""Trust factors T1-T5 on hand-computed tables, bootstrap intervals, and the per-edit audits."""

from __future__ import annotations

import numpy as np
import pytest

from synthtrust.trust import (
    DiceTable,
    TrustReport,
    compute_trust,
    conditioning_fidelity,
    hallucination,
    off_target_change,
    trust_over_variants,
)

REAL = DiceTable.from_scores({"a": {"WT": 0.9, "TC": 0.8}, "b": {"WT": 0.8, "TC": 0.6}})
SYNTHETIC = DiceTable.from_scores({"a": {"WT": 0.85, "TC": 0.7}, "b": {"WT": 0.75, "TC": 0.7},
                                   "c": {"WT": 0.8, "TC": 0.65}})


def test_trust_factors_match_their_formulas_on_a_small_table():
    report = compute_trust(REAL, SYNTHETIC, n_bootstrap=200, seed=0)
    assert report.get("T1", test_set="synthetic").value == pytest.approx(4.45 / 6)
    assert report.get("T3", "WT").value == pytest.approx(1 - abs(0.85 - 0.80))
    assert report.get("T4", "TC").value == pytest.approx(0.70 - 0.6833333, abs=1e-6)
    assert report.get("T5", "TC", "real").value == pytest.approx(0.1)
    means = np.array([0.85, 0.70])
    assert report.get("T2", test_set="real").value == pytest.approx(1 - means.std() / means.mean())


def test_every_trust_value_carries_its_formula_and_an_interval_around_it():
    report = compute_trust(REAL, SYNTHETIC, n_bootstrap=300, seed=1)
    for value in report.values:
        assert value.formula.startswith(value.factor)
        assert value.ci_low <= value.value + 1e-9 and value.value - 1e-9 <= value.ci_high
    assert "2502.02076" in report.to_dict()["source"]


def test_without_a_real_test_set_t3_and_t4_are_reported_as_undefined():
    report = compute_trust(None, SYNTHETIC, n_bootstrap=50)
    assert {v.factor for v in report.values} == {"T1", "T2", "T5"}
    assert "real" in report.undefined[0]


def test_trust_over_variants_with_the_real_image_compares_it_with_every_variant():
    variants = {"v1": {"WT": 0.85, "TC": 0.7}, "v2": {"WT": 0.75, "TC": 0.7}}
    report = trust_over_variants(variants, {"WT": 0.9, "TC": 0.6}, n_bootstrap=50, seed=2)
    assert report.get("T3", "WT").value == pytest.approx(1 - abs(0.9 - 0.8))
    assert report.get("T4", "all").value == pytest.approx(0.75 - 0.75)
    assert not report.undefined
    alone = trust_over_variants(variants, n_bootstrap=50, seed=2)
    assert alone.undefined and alone.rows() == compute_trust(None, DiceTable.from_scores(variants), 50, 2).rows()


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning")
def test_a_trust_report_read_back_from_json_with_null_values_is_the_same_report():
    import json
    import math

    from synthtrust.results.records import plain

    report = compute_trust(None, DiceTable.from_scores({"a": {"WT": 0.5, "TC": float("nan")}}), n_bootstrap=10)
    data = json.loads(json.dumps(plain(report.to_dict()), allow_nan=False))
    back = TrustReport.from_dict(data)
    assert math.isnan(back.get("T5", "TC").value) and back.get("T1").value == pytest.approx(0.5)
    assert plain(back.to_dict()) == data


def test_bootstrap_is_reproducible_with_a_seed():
    first = compute_trust(REAL, SYNTHETIC, n_bootstrap=100, seed=5).rows()
    assert first == compute_trust(REAL, SYNTHETIC, n_bootstrap=100, seed=5).rows()


def test_fidelity_passes_at_the_threshold_and_fails_below():
    intended = np.zeros((4, 4, 4), bool)
    intended[:2] = True
    assert conditioning_fidelity(intended, intended)["passed"]
    half = np.zeros_like(intended)
    half[:1] = True
    result = conditioning_fidelity(intended, half, threshold=0.7)
    assert result["dice"] == pytest.approx(2 * 16 / 48) and not result["passed"]


def test_hallucination_counts_only_lesion_beyond_the_margin_in_millilitres():
    intended = np.zeros((20, 20, 20), bool)
    intended[5:10, 5:10, 5:10] = True
    predicted = intended.copy()
    predicted[10, 5:10, 5:10] = True  # adjacent, within 2 mm
    predicted[18, 18, 18] = True  # far away
    result = hallucination(intended, predicted, (2.0, 1.0, 1.0), margin_mm=2.0)
    assert result["voxels"] == 1 and result["volume_ml"] == pytest.approx(0.002)


def test_off_target_change_counts_voxels_changed_outside_the_edit_region():
    original = np.zeros((2, 4, 4, 4), np.float32)
    synthetic = original.copy()
    region = np.zeros((4, 4, 4), bool)
    region[1, 1, 1] = True
    synthetic[:, 1, 1, 1] = 5.0
    assert off_target_change(original, synthetic, region)["voxels_changed"] == 0
    synthetic[1, 0, 0, 0] = 1.0
    result = off_target_change(original, synthetic, region)
    assert result["voxels_changed"] == 1 and result["max_abs_change"] == 1.0


def test_a_real_lesion_already_in_the_image_is_neither_a_hallucination_nor_a_false_positive_of_the_edit():
    from synthtrust.trust.audits import without_existing_lesions

    shape = (20, 20, 40)
    intended = np.zeros(shape, bool)
    intended[5:15, 5:15, 5:15] = True
    real = np.zeros(shape, bool)
    real[5:15, 5:15, 25:35] = True
    prediction = (intended | real).astype(np.uint8) * 2
    prediction[10, 10, 20] = 2  # a true hallucination between them, 5 mm from the real lesion
    assert conditioning_fidelity(intended, prediction > 0)["dice"] < 0.7
    kept = without_existing_lesions(prediction, real, intended, (1.0, 1.0, 1.0), margin_mm=2.0)
    assert conditioning_fidelity(intended, kept > 0)["dice"] == pytest.approx(2000 / 2001)
    assert hallucination(intended, kept > 0, (1.0, 1.0, 1.0))["voxels"] == 1
    assert kept.dtype == prediction.dtype and np.array_equal(kept[intended], prediction[intended])
    assert without_existing_lesions(prediction, None, intended, (1, 1, 1)) is prediction
