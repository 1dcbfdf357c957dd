"""``synthtrust synthesize`` with the learned engines, ``train-generator`` and ``sweep``, end to end on
tiny generators and toy images (CPU, seconds); Ctrl-C mid-sampling leaves nothing behind."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from synthtrust.cli.main import main
from synthtrust.imaging.io import load_image, save_image
from synthtrust.segmentation.datasets import toy_case

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    case = toy_case("brain-tumor", ["flair", "t1c"], 7)
    paths = {"flair": folder / "flair.nii.gz", "t1c": folder / "t1c.nii.gz", "lesion": folder / "lesion.nii.gz"}
    save_image(case.channels[0], paths["flair"])
    save_image(case.channels[1], paths["t1c"])
    save_image(case.labels, paths["lesion"])
    assert main(["train-generator", "--task", "brain-tumor", "--channels", "flair,t1c", "--dataset", "toy",
                 "--iterations", "2", "--batch-size", "2", "--out", str(folder / "models"), "--id", "tiny"]) == 0
    paths["model"] = folder / "models" / "tiny.safetensors"
    return paths


def _synthesize(files, out, *extra):
    return main(["synthesize", "--engine", "inpaint", "--model", str(files["model"]), "--image", str(files["flair"]),
                 "--image", str(files["t1c"]), "--modalities", "flair,t1c", "--lesion", str(files["lesion"]),
                 "--out", str(out), "--steps", "2", "--device", "cpu", *extra])


def test_train_generator_writes_weights_config_card_loss_curve_and_manifest_entry(toy_files):
    folder = toy_files["model"].parent
    for name in ("tiny.safetensors", "tiny.json", "tiny.md", "tiny_loss.png", "tiny.manifest-entry.json"):
        assert (folder / name).is_file(), name
    entry = json.loads((folder / "tiny.manifest-entry.json").read_text())
    assert entry["kind"] == "generator" and entry["engines"] == ["inpaint", "conditional"]


def test_synthesize_with_inpainting_writes_each_variant_and_channel_and_its_record(toy_files, tmp_path):
    out = tmp_path / "out"
    assert _synthesize(toy_files, out, "--variants", "2", "--seed", "3") == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["synthesis.json", "variant_0_0.nii.gz", "variant_0_1.nii.gz", "variant_1_0.nii.gz",
                     "variant_1_1.nii.gz"]
    record = json.loads((out / "synthesis.json").read_text())
    assert [v["seed"] for v in record["variants"]] == [3, 4]
    assert record["variants"][0]["provenance"]["model_id"] == "tiny"
    lesion = load_image(toy_files["lesion"]).array > 0
    original, synthetic = load_image(toy_files["flair"]).array, load_image(out / "variant_0_0.nii.gz").array
    assert np.array_equal(original[~lesion], synthetic[~lesion]) and not np.array_equal(original, synthetic)


def test_the_quality_filter_records_every_candidates_score_in_synthesis_json(toy_files, tmp_path):
    out = tmp_path / "filtered"
    assert _synthesize(toy_files, out, "--candidates", "2", "--quality-threshold", "0.0") == 0
    report = json.loads((out / "synthesis.json").read_text())["variants"][0]["provenance"]["quality_filter"]
    assert len(report["candidates"]) == 2 and report["pass_rate"] == 1.0 and report["segmenter"]


def test_a_model_for_other_channels_is_refused_and_nothing_is_written(toy_files, tmp_path, capsys):
    out = tmp_path / "refused"
    code = main(["synthesize", "--engine", "inpaint", "--model", str(toy_files["model"]), "--image",
                 str(toy_files["flair"]), "--modalities", "flair", "--lesion", str(toy_files["lesion"]),
                 "--out", str(out), "--steps", "2"])
    assert code == 2 and "reads 2 channel(s)" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".refused*"))


def test_ctrl_c_during_sampling_leaves_no_output_and_no_process(toy_files, tmp_path):
    out = tmp_path / "interrupted"
    command = [sys.executable, "-m", "synthtrust", "synthesize", "--engine", "inpaint", "--model",
               str(toy_files["model"]), "--image", str(toy_files["flair"]), "--image", str(toy_files["t1c"]),
               "--modalities", "flair,t1c", "--lesion", str(toy_files["lesion"]), "--out", str(out),
               "--steps", "100", "--device", "cpu"]
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY / "Logic")}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    for line in process.stderr:
        if "step 2/100" in line or time.time() > deadline:
            break
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    assert not out.exists() and not list(tmp_path.glob(".interrupted*"))


def test_a_scar_sweep_writes_one_row_per_segment_and_level(tmp_path):
    from synthtrust.phantoms.cardiac import make_lge_phantom

    image, anatomy = make_lge_phantom(seed=2)
    save_image(image, tmp_path / "lge.nii.gz")
    save_image(anatomy, tmp_path / "labels.nii.gz")
    table = tmp_path / "sweep.csv"
    assert main(["sweep", "--task", "cardiac-scar", "--image", str(tmp_path / "lge.nii.gz"), "--labels",
                 str(tmp_path / "labels.nii.gz"), "--segments", "1,7", "--transmurality", "0.5,1.0", "--device",
                 "cpu", "--out", str(table)]) == 0
    rows = list(csv.DictReader(table.open()))
    assert [(r["segment"], r["transmurality"]) for r in rows] == [("1", "0.5"), ("1", "1.0"), ("7", "0.5"),
                                                                   ("7", "1.0")]
    assert all(r["status"] == "ok" and r["off-target voxels"] == "0" for r in rows)
    assert float(rows[0]["fidelity dice"]) >= 0.0 and "scar dice" in rows[0]
    assert (tmp_path / "sweep.provenance.json").is_file()
