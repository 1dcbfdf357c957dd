"""The bias audit: per-stratum means with bootstrap CIs, the best-worst gap, strata flagged when their CI lies
below the overall mean; over a sweep CSV (columns as the catalogue names them) and over a trust study."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from dataset_folders import png_slices
from refusals import refuse

from synthtrust.audits.bias import audit
from synthtrust.cli.main import main
from synthtrust.results.table import column


def sweep_csv(path, rng):
    """Six edits per segment 7-12; segment 9's scars are missed (Dice ~0.2), the others found (~0.8)."""
    headers = [column("segment").header, column("transmurality").header, column("lesion_ml").header,
               f"scar {column('dice').header}"]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for segment in range(7, 13):
            for k in range(6):
                dice = (0.2 if segment == 9 else 0.8) + rng.normal(0, 0.03)
                writer.writerow([segment, (0.25, 0.5, 1.0)[k % 3], 1.0 + k, f"{dice:.4f}"])
    return path


def test_a_stratum_whose_interval_lies_below_the_mean_is_flagged_and_the_gap_is_best_minus_worst(tmp_path, rng):
    path = sweep_csv(tmp_path / "sweep.csv", rng)
    assert main(["audit", "bias", "--results", str(path), "--by", "segment,transmurality,size",
                 "--out", str(tmp_path / "bias")]) == 0
    result = json.loads((tmp_path / "bias" / "bias.json").read_text(encoding="utf-8"))
    segments = {s["stratum"]: s for s in result["strata"] if s["attribute"] == "segment"}
    assert [k for k, s in segments.items() if s["flagged"]] == ["9"]
    assert segments["9"]["ci_high"] < result["overall_mean"] < segments["7"]["ci_low"]
    assert result["gaps"]["segment"] == pytest.approx(max(s["mean"] for s in segments.values())
                                                      - min(s["mean"] for s in segments.values()))
    sizes = [s for s in result["strata"] if s["attribute"] == "size"]
    assert [s["stratum"] for s in sizes] == ["small", "medium", "large"] and sum(s["n"] for s in sizes) == 36
    assert (tmp_path / "bias" / "bias.png").read_bytes()[:4] == b"\x89PNG"


def test_equal_strata_give_no_flag_and_a_small_gap():
    values = np.tile([0.7, 0.8, 0.9], 11)  # every stratum: the same three values, nearly equally often
    result = audit(values[:30], {"segment": ["a"] * 10 + ["b"] * 10 + ["c"] * 10}, "test", "dice", n_bootstrap=200)
    assert not any(s.flagged for s in result.strata) and result.gaps["segment"] < 0.025


def test_a_study_is_audited_by_the_size_of_its_test_patients_lesions(tmp_path):
    real = png_slices(tmp_path / "hearts", patients=6, slices=2)
    argv = ["trust-study", "--task", "cardiac-scar", "--real", real, "--generate", "template", "--out",
            tmp_path / "study", "--alphas", "1", "--seeds", "1", "--train-size", "4", "--iterations", "1",
            "--batch-size", "2", "--image-size", "32", "--test-fraction", "0.5", "--bootstrap", "100"]
    assert main([str(a) for a in argv]) == 0
    assert main(["audit", "bias", "--results", str(tmp_path / "study" / "study.json"), "--by", "size",
                 "--out", str(tmp_path / "bias")]) == 0
    result = json.loads((tmp_path / "bias" / "bias.json").read_text(encoding="utf-8"))
    assert sum(s["n"] for s in result["strata"]) == 3 and result["metric"].startswith("scar")


def test_the_audit_refuses_an_unknown_attribute_and_an_attribute_a_sweep_did_not_vary(tmp_path, capfd, rng):
    path = sweep_csv(tmp_path / "sweep.csv", rng)
    refuse(capfd, ["audit", "bias", "--results", path, "--by", "colour", "--out", tmp_path / "b"], tmp_path,
           "unknown attribute colour", "size, segment, transmurality")
    refuse(capfd, ["audit", "bias", "--results", path, "--by", "segment", "--region", "MVO", "--out",
                   tmp_path / "b"], tmp_path, "has no column 'MVO")
