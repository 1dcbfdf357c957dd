"""The bad-input battery, training part: ``train-segmenter``, ``train-generator`` and ``--resume`` turn every bad
input into exit 2 with one line and leave the folder as it was (``refusals.refuse``). Checkpoints are read with
``weights_only=True`` only, so one that holds code is refused, never run. Toy data; no case trains."""

from __future__ import annotations

import pytest
import torch
from refusals import refuse

from synthtrust.cli.main import main

GENERATOR_ID = "brain-tumor-t1-diffusion"


def train_segmenter(out, *extra):
    return ["train-segmenter", "--task", "brain-tumor", "--channels", "t1", "--dataset", "toy", "--iterations", "1",
            "--out", out, *extra]


def train_generator(out, *extra):
    return ["train-generator", "--task", "brain-tumor", "--channels", "t1", "--dataset", "toy", "--iterations", "1",
            "--out", out, *extra]


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


def checkpoint(models):
    return models / f"{GENERATOR_ID}.checkpoint.pt"


# train-segmenter -------------------------------------------------------------------------------------------------

def test_train_segmenter_refuses_an_output_folder_that_is_a_file(tmp_path, capfd):
    (tmp_path / "models").write_text("an existing file", encoding="utf-8")
    refuse(capfd, train_segmenter(tmp_path / "models"), tmp_path, "--out", "is a file")


def test_train_segmenter_refuses_an_output_folder_under_a_file(tmp_path, capfd):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    refuse(capfd, train_segmenter(tmp_path / "file" / "models"), tmp_path, "is a file, not a folder")


def test_train_segmenter_refuses_its_data_folder_as_the_output(tmp_path, capfd, models):
    refuse(capfd, train_segmenter(models, "--data-root", models), tmp_path, "--out", "is the input")


@pytest.mark.parametrize("channels", ["xyz", "t1,xyz", ","])
def test_train_segmenter_refuses_an_unknown_modality(tmp_path, capfd, models, channels):
    argv = train_segmenter(models)
    argv[argv.index("--channels") + 1] = channels
    refuse(capfd, argv, tmp_path, "--channels", "flair, t1, t1c")


@pytest.mark.parametrize(("option", "value"), [("--iterations", "0"), ("--threads", "0"), ("--batch-size", "0"),
                                               ("--learning-rate", "-0.1"), ("--learning-rate", "inf"),
                                               ("--seed", "-1")])
def test_train_segmenter_refuses_numbers_out_of_range(tmp_path, capfd, models, option, value):
    refuse(capfd, [*train_segmenter(models), f"{option}={value}"], tmp_path, option, value)


# train-generator -------------------------------------------------------------------------------------------------

def test_train_generator_refuses_an_output_folder_that_is_a_file(tmp_path, capfd):
    (tmp_path / "models").write_text("an existing file", encoding="utf-8")
    refuse(capfd, train_generator(tmp_path / "models"), tmp_path, "--out", "is a file")


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--network-channels", "0", "an integer >= 8"), ("--network-channels", "16,8", "smallest first"),
    ("--lesion-share", "2", "<= 1"), ("--healthy-radius-mm", "12,4", "smallest first"),
    ("--healthy-radius-mm", "4", "2 comma-separated"), ("--iterations", "0", ">= 1"),
    ("--channels", "xyz", "unknown modality"), ("--batch-size", "-2", ">= 1")])
def test_train_generator_refuses_options_out_of_range(tmp_path, capfd, models, option, value, expected):
    refuse(capfd, [*train_generator(models), f"{option}={value}"], tmp_path, option, expected)


def test_train_generator_refuses_network_channels_its_normalisation_cannot_split(tmp_path, capfd, models):
    refuse(capfd, [*train_generator(models), "--network-channels", "12,24"], tmp_path, "multiple of 8")


def test_train_generator_refuses_fine_tuning_from_weights_that_do_not_exist(tmp_path, capfd, models):
    refuse(capfd, [*train_generator(models), "--init-from", tmp_path / "none.safetensors"], tmp_path,
           "--init-from", "is not a file")


def test_resume_without_a_checkpoint_is_refused_instead_of_starting_over(tmp_path, capfd, models):
    refuse(capfd, [*train_generator(models), "--resume"], tmp_path, "--resume", "no checkpoint", GENERATOR_ID)


def test_resume_from_a_corrupt_checkpoint_is_refused(tmp_path, capfd, models):
    checkpoint(models).write_bytes(b"PK\x03\x04 truncated zip" + bytes(200))
    refuse(capfd, [*train_generator(models), "--resume"], tmp_path, "--resume", "cannot be read", "corrupt")


class Payload:
    """Pickled inside a checkpoint, it would run code on an unsafe load."""

    def __reduce__(self):
        return (print, ("unsafe load ran code",))


def test_resume_never_unpickles_code_in_a_checkpoint(tmp_path, capfd, models):
    torch.save({"network": Payload(), "optimizer": {}, "iteration": 0, "losses": [], "seconds": 0.0},
               checkpoint(models))
    message = refuse(capfd, [*train_generator(models), "--resume"], tmp_path, "--resume", "cannot be read")
    assert "unsafe load ran code" not in message


def test_resume_from_a_plain_state_dict_is_refused_as_not_a_training_checkpoint(tmp_path, capfd, models):
    torch.save({"weight": torch.zeros(3)}, checkpoint(models))
    refuse(capfd, [*train_generator(models), "--resume"], tmp_path, "not a generator training checkpoint")


def test_resume_from_the_checkpoint_of_another_task_is_refused(tmp_path, capfd, models):
    torch.save({"network": {}, "optimizer": {}, "iteration": 0, "losses": [], "seconds": 0.0,
                "config": {"id": GENERATOR_ID, "task": "cardiac-scar", "channels": ["lge"], "spatial_dims": 2,
                           "network_channels": [8, 16], "engines": ["inpaint", "conditional"]}}, checkpoint(models))
    refuse(capfd, [*train_generator(models), "--resume"], tmp_path, "belongs to another training",
           "task cardiac-scar there, brain-tumor here")


def test_resume_from_the_checkpoint_of_another_network_is_refused(tmp_path, capfd, models):
    torch.save({"network": {"conv.weight": torch.zeros(2, 2)}, "optimizer": {}, "iteration": 1, "losses": [0.5],
                "seconds": 1.0}, checkpoint(models))
    refuse(capfd, [*train_generator(models), "--resume"], tmp_path, "does not fit", "missing key")


def test_a_toy_training_publishes_its_files_together_and_resumes_from_its_checkpoint(tmp_path, capsys, models):
    assert main([str(a) for a in train_generator(models)]) == 0
    names = sorted(p.name for p in models.iterdir())
    assert names == sorted(f"{GENERATOR_ID}{suffix}" for suffix in (
        ".checkpoint.pt", ".json", ".manifest-entry.json", ".md", ".safetensors", "_loss.csv", "_loss.png"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a scratch folder was left behind"
    argv = train_generator(models, "--resume")
    argv[argv.index("--iterations") + 1] = "2"
    assert main([str(a) for a in argv]) == 0
    assert '"resumed_from": 1' in capsys.readouterr().out


def test_every_checkpoint_read_in_the_core_is_weights_only():
    import re
    from pathlib import Path

    import synthtrust

    calls = []
    for source in Path(synthtrust.__file__).parent.rglob("*.py"):
        for line in source.read_text(encoding="utf-8").splitlines():
            if re.search(r"\btorch\.(load|jit\.load)\(", line):
                calls.append((source.name, line.strip()))
    assert calls, "no torch.load found: the scan looks in the wrong place"
    unsafe = [call for call in calls if "weights_only=True" not in call[1] or "jit" in call[1]]
    assert not unsafe, unsafe
