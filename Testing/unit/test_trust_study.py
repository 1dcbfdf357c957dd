"""The mixture study end to end on tiny PNG hearts: every (alpha, seed) task trained and tested, study.json
with compositions, per-case Dice and T1-T5 per alpha with CIs and formulas, the CSV, the curves, the page and
the provenance; --resume runs nothing twice; the same study through a local Ray cluster (loopback only)."""

from __future__ import annotations

import csv
import json
import os

import pytest
from dataset_folders import png_slices

from synthtrust.cli.main import main


def study_argv(real, out, *extra):
    return ["trust-study", "--task", "cardiac-scar", "--real", real, "--generate", "template", "--out", out,
            "--alphas", "0,1", "--seeds", "1", "--train-size", "4", "--iterations", "2", "--batch-size", "2",
            "--image-size", "32", "--test-fraction", "0.34", "--bootstrap", "100", *extra]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    real = png_slices(folder / "hearts", patients=6, slices=2)
    assert main([str(a) for a in study_argv(real, folder / "out")]) == 0
    return folder / "out"


def test_a_study_writes_every_task_with_its_composition_and_dice_on_both_test_sets(study):
    data = json.loads((study / "study.json").read_text(encoding="utf-8"))
    assert [(t["alpha"], t["seed"]) for t in data["tasks"]] == [(0.0, 0), (1.0, 0)]
    pure_synthetic, pure_real = data["tasks"]
    assert pure_synthetic["composition"]["n_real"] == 0 and pure_synthetic["composition"]["n_synthetic"] == 4
    assert pure_real["composition"]["n_real"] == 4 and all("(synthetic)" not in c for c in
                                                           pure_real["composition"]["real_cases"])
    assert set(data["data"]["test_patients"]).isdisjoint(data["data"]["train_patients"])
    for task in data["tasks"]:
        assert sorted(task["dice"]) == ["real", "synthetic"]
        assert sorted(task["dice"]["real"]) == data["data"]["test_patients"]
        for regions in task["dice"]["real"].values():
            assert sorted(regions) == ["MVO", "blood pool", "myocardium", "scar"]
            assert all(0.0 <= d <= 1.0 for d in regions.values())


def test_a_study_reports_t1_to_t5_per_alpha_with_intervals_and_formulas(study):
    data = json.loads((study / "study.json").read_text(encoding="utf-8"))
    assert [e["alpha"] for e in data["per_alpha"]] == [0.0, 1.0]
    for entry in data["per_alpha"]:
        factors = {v["factor"] for v in entry["trust"]["values"]}
        assert factors == {"T1", "T2", "T3", "T4", "T5"}
        t1 = next(v for v in entry["trust"]["values"] if v["factor"] == "T1" and v["test_set"] == "real")
        assert t1["ci_low"] <= t1["value"] <= t1["ci_high"] and t1["formula"].startswith("T1 = mean")
    assert len(data["verdicts"]) == 4 and all(isinstance(v["holds"], bool) for v in data["verdicts"])
    with open(study / "study.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["alpha"] for r in rows} == {"0.0", "1.0"} and {"T4", "T5"} <= {r["factor"] for r in rows}
    assert (study / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (study / "report.html").read_text(encoding="utf-8")
    assert "curves.png" in page and "T4" in page
    provenance = json.loads((study / "study.provenance.json").read_text(encoding="utf-8"))
    assert provenance["command"] == "trust-study" and provenance["parameters"]["alphas"] == [0.0, 1.0]


def test_a_resumed_study_runs_no_finished_task_again(study, capfd):
    tasks = sorted((study / "work" / "tasks").iterdir())
    stamps = {p.name: p.stat().st_mtime_ns for p in tasks}
    real = study.parent / "hearts"
    capfd.readouterr()
    assert main([str(a) for a in study_argv(real, study, "--resume")]) == 0
    assert "2 tasks, 2 already finished; running 0" in capfd.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in tasks} == stamps


def test_the_study_runs_through_a_local_ray_cluster(tmp_path):
    pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'synthtrust[ray]')")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    real = png_slices(tmp_path / "hearts", patients=6, slices=2)
    argv = study_argv(real, tmp_path / "out", "--executor", "ray", "--alphas", "0.5")
    assert main([str(a) for a in argv]) == 0
    data = json.loads((tmp_path / "out" / "study.json").read_text(encoding="utf-8"))
    assert data["settings"]["executor"] == "ray" and data["tasks"][0]["composition"]["n_real"] == 2
