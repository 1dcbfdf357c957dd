"""The coverage audit: a data set's scars counted per (AHA segment, transmurality band) cell, empty and thin cells
named, a heat map; --fill K writes K edits per empty cell in the data set's own anatomies, a data set that
reads back and covers the cells that were empty."""

from __future__ import annotations

import json

import numpy as np
from dataset_folders import emidec_folder
from refusals import refuse

from synthtrust.audits.coverage import coverage, stacked_cases
from synthtrust.cli.main import main
from synthtrust.datasets import read_dataset
from synthtrust.imaging.io import load_image, save_image


def test_coverage_counts_every_scar_once_per_segment_it_touches(tmp_path):
    root = emidec_folder(tmp_path / "emidec", cases=2)
    healthy = root / "Case_P000" / "Contours" / "Case_P000.nii.gz"
    labels = load_image(healthy)
    save_image(labels.with_array(np.where(labels.array > 2, 2, labels.array).astype(np.uint8)), healthy)
    dataset = read_dataset(root, "cardiac-scar")
    result = coverage(stacked_cases(dataset), ["segment", "transmurality"])
    assert len(result.cells) == 17 * 4 and sum(result.cells.values()) == len(result.lesions) > 0
    assert {lesion["case"] for lesion in result.lesions} == {"Case_P001"}  # the scar-free heart adds nothing
    assert len({x["segment"] for x in result.lesions}) == len(result.lesions)  # once per segment touched
    assert all(0.0 <= lesion["transmurality"] <= 1.0 for lesion in result.lesions)
    occupied = {cell for cell, count in result.cells.items() if count}
    assert len(result.empty()) == 68 - len(occupied) and set(result.thin()) == occupied  # one lesion each: thin


def test_filling_the_empty_cells_gives_a_data_set_that_covers_them(tmp_path):
    source = emidec_folder(tmp_path / "emidec", cases=2)
    argv = ["audit", "coverage", "--dataset", source, "--task", "cardiac-scar", "--grid", "segment,transmurality",
            "--report", tmp_path / "report", "--fill", "1", "--out", tmp_path / "filled"]
    assert main([str(a) for a in argv]) == 0
    report = json.loads((tmp_path / "report" / "coverage.json").read_text(encoding="utf-8"))
    placed = [m for m in report["fill"] if m["status"] == "ok"]
    assert placed and len(report["fill"]) == len(report["empty"])
    filled = read_dataset(tmp_path / "filled", "cardiac-scar")
    assert len(filled.cases) == len(placed)
    after = coverage(stacked_cases(filled), ["segment", "transmurality"])
    covered_segments = {x["segment"] for x in after.lesions}
    assert {int(m["cell"].split("|")[0]) for m in placed} <= covered_segments
    assert (tmp_path / "report" / "coverage.png").read_bytes()[:4] == b"\x89PNG"


def test_fill_without_an_output_data_set_is_refused(tmp_path, capfd):
    source = emidec_folder(tmp_path / "emidec", cases=1)
    refuse(capfd, ["audit", "coverage", "--dataset", source, "--task", "cardiac-scar", "--report",
                   tmp_path / "report", "--fill", "2"], tmp_path, "--fill K and --out DATASET2 go together")
