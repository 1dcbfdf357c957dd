"""``synthtrust synthesize`` with the learned engines, ``train-generator`` and ``sweep``, end to end on
tiny generators and toy images (CPU, seconds); Ctrl-C mid-sampling leaves nothing behind."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from synthtrust.cli.main import main
from synthtrust.errors import InputError
from synthtrust.imaging.io import load_image, save_image
from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer
from synthtrust.synthesis.engines import make_synthesizer
from synthtrust.synthesis.options import EngineOptions
from synthtrust.training.datasets import toy_case

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
    entry = json.loads((folder / "tiny.manifest-entry.json").read_text(encoding="utf-8"))
    assert entry["kind"] == "generator" and entry["engines"] == ["inpaint", "conditional"]


def test_synthesize_with_inpainting_writes_each_variant_and_channel_and_its_record(toy_files, tmp_path):
    out = tmp_path / "out"
    assert _synthesize(toy_files, out, "--variants", "2", "--seed", "3") == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["synthesis.json", "variant_0_0.nii.gz", "variant_0_1.nii.gz", "variant_1_0.nii.gz",
                     "variant_1_1.nii.gz"]
    record = json.loads((out / "synthesis.json").read_text(encoding="utf-8"))
    assert [v["seed"] for v in record["variants"]] == [3, 4]
    assert record["variants"][0]["provenance"]["model_id"] == "tiny"
    lesion = load_image(toy_files["lesion"]).array > 0
    original, synthetic = load_image(toy_files["flair"]).array, load_image(out / "variant_0_0.nii.gz").array
    assert np.array_equal(original[~lesion], synthetic[~lesion]) and not np.array_equal(original, synthetic)


def test_the_command_line_reaches_the_engine_as_typed_engine_options(toy_files, tmp_path, monkeypatch):
    built = []
    from_options = DiffusionSynthesizer.from_options.__func__

    def spy(cls, engine, options, **context):
        built.append((options, from_options(cls, engine, options, **context)))
        return built[-1][1]

    monkeypatch.setattr(DiffusionSynthesizer, "from_options", classmethod(spy))
    out = tmp_path / "out"
    assert _synthesize(toy_files, out, "--scheduler", "ddpm", "--guidance-steps", "0.1,0.3", "--resampling", "2") == 0
    (options, engine), = built
    assert isinstance(options, EngineOptions)
    assert options.given() == {"model": str(toy_files["model"]), "steps": 2, "scheduler": "ddpm", "guidance": 0.0,
                               "guidance_steps": [0.1, 0.3], "precision": "float32", "resampling": 2,
                               "whole_image": False, "candidates": 1}
    assert (engine.steps, engine.scheduler, engine.guidance_steps, engine.resampling) == (2, "ddpm", (0.1, 0.3), 2)
    parameters = json.loads((out / "synthesis.json").read_text(encoding="utf-8"))["parameters"]
    assert {k: parameters[k] for k in ("scheduler", "guidance_steps", "resampling", "steps")} == {
        "scheduler": "ddpm", "guidance_steps": [0.1, 0.3], "resampling": 2, "steps": 2}


def test_an_unknown_or_out_of_range_engine_option_is_refused_naming_the_valid_ones():
    with pytest.raises(InputError, match=r"unknown key\(s\) 'stpes'; valid keys are model, steps, scheduler"):
        make_synthesizer("inpaint", {"stpes": 5}, task="brain-tumor", channels=["flair", "t1c"])
    with pytest.raises(InputError, match="scheduler 'euler' is unknown; use one of ddim, ddpm"):
        make_synthesizer("inpaint", EngineOptions(scheduler="euler"))
    with pytest.raises(InputError, match="steps 0 must be at least 1"):
        DiffusionSynthesizer.from_options("inpaint", EngineOptions(steps=0))


def test_every_engine_option_is_taken_by_the_learned_engine_or_the_quality_filter():
    every = EngineOptions(model="m.safetensors", steps=2, scheduler="ddpm", guidance=1.0, quality_threshold=0.5,
                          candidates=2, precision="float16", threads=1, eta=0.5, resampling=2,
                          guidance_steps=[0.1, 0.2], whole_image=True)
    assert set(every.given()) == {f.name for f in dataclasses.fields(EngineOptions)}
    engine = DiffusionSynthesizer.from_options("conditional", every, device="cpu")
    assert (engine.model, engine.steps, engine.scheduler, engine.guidance, engine.precision, engine.threads,
            engine.eta, engine.resampling, engine.guidance_steps, engine.whole_image) == (
        "m.safetensors", 2, "ddpm", 1.0, "float16", 1, 0.5, 2, (0.1, 0.2), True)


def test_the_quality_filter_records_every_candidates_score_in_synthesis_json(toy_files, tmp_path):
    out = tmp_path / "filtered"
    assert _synthesize(toy_files, out, "--candidates", "2", "--quality-threshold", "0.0") == 0
    report = json.loads((out / "synthesis.json").read_text(encoding="utf-8"))["variants"][0]["provenance"]["quality_filter"]
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
    assert all(r["status"] == "ok" and r["off_target_voxels"] == "0" for r in rows)
    assert float(rows[0]["fidelity_dice"]) >= 0.0 and "scar dice" in rows[0]
    assert (tmp_path / "sweep.provenance.json").is_file()


def _refused(capsys, tmp_path, *arguments, env=None):
    out = tmp_path / "refused"
    code = main(["synthesize", *[str(a) for a in arguments], "--out", str(out), "--steps", "2", "--device", "cpu"])
    message = capsys.readouterr().err
    assert code == 2 and len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert not out.exists() and not list(tmp_path.glob(".refused*"))
    return message


def test_a_model_for_other_modalities_with_the_same_channel_count_is_refused(toy_files, tmp_path, capsys):
    message = _refused(capsys, tmp_path, "--engine", "inpaint", "--model", toy_files["model"], "--image",
                       toy_files["flair"], "--image", toy_files["t1c"], "--modalities", "t1,t2", "--lesion",
                       toy_files["lesion"])
    assert "flair+t1c" in message and "t1+t2" in message


def test_a_region_beyond_the_generators_limit_is_refused_before_any_output(toy_files, tmp_path, capsys):
    config = json.loads(toy_files["model"].with_suffix(".json").read_text(encoding="utf-8"))
    config["max_region"] = [4, 4, 4]
    small = tmp_path / "small"
    small.mkdir()
    (small / "small.json").write_text(json.dumps(config), encoding="utf-8")
    (small / "small.safetensors").write_bytes(toy_files["model"].read_bytes())
    message = _refused(capsys, tmp_path, "--engine", "conditional", "--model", small / "small.safetensors",
                       "--image", toy_files["flair"], "--image", toy_files["t1c"], "--modalities", "flair,t1c",
                       "--lesion", toy_files["lesion"])
    assert "limit" in message


def test_a_lesion_on_another_grid_than_the_image_is_refused_by_the_learned_engines(toy_files, tmp_path, capsys):
    from synthtrust.imaging.image import Image

    lesion = load_image(toy_files["lesion"])
    shifted = Image.from_array(lesion.array[:-2], spacing=(2.0, 2.0, 2.0), origin=(10.0, 0.0, 0.0), name="lesion")
    save_image(shifted, tmp_path / "shifted.nii.gz")
    _refused(capsys, tmp_path, "--engine", "inpaint", "--model", toy_files["model"], "--image", toy_files["flair"],
             "--image", toy_files["t1c"], "--modalities", "flair,t1c", "--lesion", tmp_path / "shifted.nii.gz")


def test_a_shipped_generator_that_does_not_match_its_manifest_hash_is_refused(toy_files, tmp_path, capsys,
                                                                              monkeypatch):
    import shutil

    models = tmp_path / "Resources" / "Models"
    shutil.copytree(REPOSITORY / "Resources" / "Models", models,
                    ignore=shutil.ignore_patterns("*unet*", "*loss*"))
    weights = models / "brain-tumor-flair-t1c-diffusion.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # same size, other content
    weights.write_bytes(bytes(data))
    monkeypatch.setenv("SYNTHTRUST_RESOURCES", str(tmp_path / "Resources"))
    message = _refused(capsys, tmp_path, "--engine", "inpaint", "--image", toy_files["flair"], "--image",
                       toy_files["t1c"], "--modalities", "flair,t1c", "--lesion", toy_files["lesion"])
    assert "sha256" in message and "restore" in message


def test_fill_healthy_replaces_only_the_region_and_records_how(toy_files, tmp_path, capsys):
    out = tmp_path / "filled"
    base = ["fill-healthy", "--model", str(toy_files["model"]), "--image", str(toy_files["flair"]), "--image",
            str(toy_files["t1c"]), "--modalities", "flair,t1c", "--region", str(toy_files["lesion"]), "--steps", "2",
            "--device", "cpu"]
    assert main([*base, "--out", str(out), "--strength", "0.5", "--seed", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fill.json", "filled_0.nii.gz", "filled_1.nii.gz"]
    region = load_image(toy_files["lesion"]).array > 0
    original, filled = load_image(toy_files["t1c"]).array, load_image(out / "filled_1.nii.gz").array
    assert np.array_equal(original[~region], filled[~region]) and not np.array_equal(original[region], filled[region])
    record = json.loads((out / "fill.json").read_text(encoding="utf-8"))
    assert record["parameters"]["strength"] == 0.5 and record["provenance"]["purpose"] == "healthy-tissue inpainting"
    capsys.readouterr()
    for bad, expected in ((["--strength", "0"], "--strength"), (["--modalities", "flair"], "modalities")):
        refused = tmp_path / "refused"
        try:
            code = main([*base, *bad, "--out", str(refused)])
        except SystemExit as exit_:  # the parser itself refuses an out-of-range --strength
            code = exit_.code
        assert code == 2
        message = capsys.readouterr().err
        assert expected in message and "Traceback" not in message, message
        assert not refused.exists() and not list(tmp_path.glob(".refused*"))


def test_train_generator_init_from_starts_from_the_given_weights_and_refuses_another_task(toy_files, tmp_path,
                                                                                           capsys):
    from synthtrust.synthesis.diffusion.model import load_generator

    base = ["train-generator", "--task", "brain-tumor", "--channels", "flair,t1c", "--dataset", "toy",
            "--batch-size", "1", "--iterations", "1", "--out", str(tmp_path), "--init-from", str(toy_files["model"])]
    # With a learning rate of 0 the one step changes nothing: the weights must be the source's.
    assert main([*base, "--id", "tuned", "--learning-rate", "0"]) == 0
    source, tuned = load_generator(toy_files["model"]), load_generator(tmp_path / "tuned.safetensors")
    for (name, a), b in zip(source.network.state_dict().items(), tuned.network.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert "fine-tuned from `tiny.safetensors`" in (tmp_path / "tuned.md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main([*base[:4], "flair", *base[5:], "--id", "other"]) == 2
    assert "same task and channels" in capsys.readouterr().err
