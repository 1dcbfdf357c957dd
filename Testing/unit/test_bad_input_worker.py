"""The bad-input battery, worker part: a bad job folder is refused before any work, with exit code 2 and one
structured ``error`` line that names the key (or file) and what to do; nothing is written, no input changes,
and the worker never reads a file outside its job folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from refusals import assert_one_line, assert_unchanged, snapshot

from synthtrust.imaging.image import Image
from synthtrust.imaging.io import save_image
from synthtrust.worker import protocol
from synthtrust.worker.__main__ import main as worker_main


def _job(root: Path, **changes) -> Path:
    """A valid brain job (a small image and a tumour) in ``root/job`` with ``changes`` applied to job.json
    (a value of ``None`` removes the key), plus ``root/outside.nrrd``, a file the worker must never read."""
    folder = root / "job"
    folder.mkdir(parents=True)
    image = Image.from_array(np.full((12, 12, 12), 100.0, np.float32), (2.0, 2.0, 2.0), name="t1")
    labels = np.zeros((12, 12, 12), np.uint8)
    labels[4:8, 4:8, 4:8] = 2
    save_image(image, folder / "channel_0.nrrd")
    save_image(image.with_array(labels), folder / "lesion.nrrd")
    save_image(image, root / "outside.nrrd")
    job = {"kind": "run", "task": "brain-tumor", "channels": ["channel_0.nrrd"], "modalities": ["t1"],
           "lesion": "lesion.nrrd", "variants": 1, "device": "cpu"}
    job.update(changes)
    (folder / "job.json").write_text(json.dumps({k: v for k, v in job.items() if v is not None}), encoding="utf-8")
    return folder


def refuse_job(capsys, folder: Path, *expected: str, argv: list[str] | None = None) -> str:
    """Run the worker in-process on ``folder``; assert exit 2, one ``error`` message (InputError) holding the
    ``expected`` texts on one line, nothing else on stdout but protocol lines, and ``folder``'s parent untouched."""
    root = folder.parent
    before = snapshot(root)
    capsys.readouterr()
    code = worker_main([str(folder)] if argv is None else argv)
    out = capsys.readouterr().out
    messages = [json.loads(line) for line in out.splitlines()]
    assert code == protocol.EXIT_INPUT_ERROR, messages
    assert [m["type"] for m in messages] == ["error"] and messages[0]["error"] == "InputError", messages
    assert_one_line(messages[0]["message"], *expected)
    assert_unchanged(before, root)
    return messages[0]["message"]


def test_a_job_json_that_is_a_number_is_refused(tmp_path, capsys):
    folder = _job(tmp_path)
    (folder / "job.json").write_text("3", encoding="utf-8")
    refuse_job(capsys, folder, "job.json must be a JSON object", "not the integer 3")


def test_a_job_json_that_is_not_json_is_refused(tmp_path, capsys):
    folder = _job(tmp_path)
    (folder / "job.json").write_text('{"kind": "run",', encoding="utf-8")
    refuse_job(capsys, folder, "is not valid JSON", "rewrite it")


def test_variants_given_as_a_string_is_refused_naming_the_key_and_type(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, variants="3"), "'variants' must be an integer", "not the string '3'")


def test_a_flag_where_an_integer_belongs_is_refused(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, seed=True), "'seed' must be an integer", "not the flag True")


def test_a_fractional_seed_is_refused(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, seed=1.5), "'seed' must be an integer", "1.5")


def test_channels_given_as_one_string_is_refused(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, channels="channel_0.nrrd"), "'channels' must be a list of strings")


def test_a_missing_key_is_named_with_its_type(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, task=None), "missing key(s) 'task'", "task: a string", "add them")


def test_an_unknown_key_is_named_with_the_valid_keys(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, variantz=2), "unknown key(s) 'variantz'", "valid keys are kind, task")


def test_a_misspelt_engine_option_is_refused_not_dropped(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, engine="inpaint", engine_options={"stpes": 5}),
               "'engine_options': unknown key(s) 'stpes'", "valid keys are model, steps")


def test_an_engine_option_out_of_range_is_refused(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, engine_options={"steps": 0}), "engine option steps 0 must be at least 1")


def test_a_fidelity_threshold_outside_zero_to_one_is_refused(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, fidelity_threshold=2.0), "fidelity_threshold 2.0 must lie in [0.0, 1.0]")


def test_a_sweep_grid_with_a_segment_outside_the_aha_model_is_refused(tmp_path, capsys):
    folder = _job(tmp_path, kind="sweep", task="cardiac-scar", modalities=["lge"], lesion=None,
                  anatomy="lesion.nrrd", sweep={"segments": [7, 18], "transmurality": [0.5]})
    refuse_job(capsys, folder, "sweep segments [7, 18] must be AHA segment numbers 1-17")


def test_an_absolute_path_outside_the_job_folder_is_refused(tmp_path, capsys):
    folder = _job(tmp_path, channels=[str(tmp_path / "outside.nrrd")])
    refuse_job(capsys, folder, "channels[0]", "must be a file name inside the job folder")


def test_a_parent_folder_escape_is_refused(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, lesion="../outside.nrrd"), "lesion '../outside.nrrd'", "no '..'")


def test_a_link_inside_the_job_folder_pointing_outside_is_refused(tmp_path, capsys):
    folder = _job(tmp_path, reference="reference.nrrd")
    os.symlink(tmp_path / "outside.nrrd", folder / "reference.nrrd")
    refuse_job(capsys, folder, "reference 'reference.nrrd' is a link", "copy the file itself there")


def test_a_job_json_that_is_a_link_is_refused(tmp_path, capsys):
    folder = _job(tmp_path)
    (tmp_path / "elsewhere.json").write_text((folder / "job.json").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "job.json").unlink()
    os.symlink(tmp_path / "elsewhere.json", folder / "job.json")
    refuse_job(capsys, folder, "job.json does not exist (or is a link)")


def test_a_missing_input_file_is_named(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, lesion="no_such_lesion.nrrd"), "input no_such_lesion.nrrd is missing")


def test_one_modality_per_channel_is_required(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, modalities=["t1", "flair"]), "1 channel(s) but 2 modalities")


def test_an_unknown_engine_is_refused_naming_the_engines(tmp_path, capsys):
    refuse_job(capsys, _job(tmp_path, engine="magic"), "engine 'magic' is unknown", "template")


def test_an_existing_outputs_folder_is_left_as_it_is(tmp_path, capsys):
    folder = _job(tmp_path)
    (folder / "outputs").mkdir()
    (folder / "outputs" / "results.json").write_text("{}", encoding="utf-8")
    refuse_job(capsys, folder, "already exists", "start a new job")


@pytest.mark.parametrize("argv", [[], ["a", "b"]])
def test_the_worker_wants_exactly_one_job_folder(tmp_path, capsys, argv):
    refuse_job(capsys, _job(tmp_path), "usage: python -m synthtrust.worker JOB_FOLDER", argv=argv)


def test_a_worker_process_refuses_a_bad_job_with_exit_code_2_and_one_protocol_line(tmp_path):
    import subprocess
    import sys

    from conftest import REPOSITORY

    folder = _job(tmp_path, variants="3")
    before = snapshot(tmp_path)
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY / "Logic")}
    completed = subprocess.run([sys.executable, "-m", "synthtrust.worker", str(folder)], capture_output=True,
                               text=True, timeout=120, env=environment)
    assert completed.returncode == protocol.EXIT_INPUT_ERROR, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["type"] == "error"
    assert_one_line(json.loads(lines[0])["message"], "'variants' must be an integer")
    assert_unchanged(before, tmp_path)
