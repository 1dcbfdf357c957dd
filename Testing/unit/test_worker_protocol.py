"""The worker protocol end to end: JSON lines, errors as messages with exit codes, cancel killing the whole
process tree, and a real template-engine job writing its outputs (``python -m synthtrust.worker``)."""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPOSITORY
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image, save_image
from synthtrust.settings import RunSettings
from synthtrust.worker import protocol
from synthtrust.worker.__main__ import main as worker_main
from synthtrust.worker.jobs import OUTPUTS

sys.path.insert(0, str(REPOSITORY / "SynthTrustSlicer"))
from SynthTrustSlicerLib.process import WorkerProcess  # noqa: E402
from worker_runs import run_worker  # noqa: E402


def write_brain_job(folder: Path, kind: str = "synthesize", **overrides) -> Path:
    """A 48^3 ellipsoid 'brain' with a three-label BraTS tumour, as NRRD, plus job.json."""
    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[:48, :48, :48]
    brain = ((x - 24) ** 2 / 400 + (y - 24) ** 2 / 400 + (z - 24) ** 2 / 324) < 1
    image = Image.from_array(np.where(brain, 100 + 5 * rng.standard_normal(brain.shape), 0).astype(np.float32),
                             (2.0, 2.0, 2.0), name="t1")
    radius = np.sqrt((x - 26) ** 2 + (y - 22) ** 2 + (z - 24) ** 2)
    labels = np.select([radius < 3, radius < 5, radius < 8], [1, 4, 2], 0).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    save_image(image, folder / "channel_0.nrrd")
    save_image(image.with_array(labels), folder / "lesion.nrrd")
    spec = {"kind": kind, "task": "brain-tumor", "channels": ["channel_0.nrrd"], "modalities": ["t1"],
            "lesion": "lesion.nrrd", "variants": 2, "seed": 5, **overrides}
    RunSettings(**spec).write(folder)
    return folder


def test_progress_lines_parse_back_into_the_same_messages():
    message = protocol.progress("synthesize", 3, 25, elapsed_s=1.5, message="step 3/25", fraction=0.12)
    line = protocol.encode(message)
    assert "\n" not in line
    assert protocol.parse_line(line + "\n") == message
    assert message["eta_s"] == pytest.approx(1.5 * 22 / 3, abs=1e-3)
    assert protocol.parse_line(line.encode()) == message


def test_lines_that_are_not_messages_become_log_messages_and_blank_lines_are_skipped():
    assert protocol.parse_line("   \n") is None
    for text in ("UserWarning: something", '{"type": "progress", "step": 1', '{"no_type": 1}', "[1, 2]"):
        assert protocol.parse_line(text) == {"type": "log", "level": "output", "message": text}


def test_values_that_json_cannot_hold_travel_as_null():
    line = protocol.encode(protocol.log("x") | {"value": float("nan"), "nested": [float("inf")]})
    assert json.loads(line)["value"] is None and json.loads(line)["nested"] == [None]
    with pytest.raises(ValueError, match="unknown"):
        protocol.encode({"type": "chatter"})


def test_numpy_numbers_travel_as_numbers_and_their_undefined_values_as_null():
    values = {"nan32": np.float32("nan"), "inf64": np.float64("-inf"), "half": np.float32(0.5),
              "count": np.int64(3), "array": np.array([np.nan, 1.0], np.float32)}
    line = protocol.encode(protocol.log("x") | values)
    message = json.loads(line)
    assert (message["nan32"], message["inf64"], message["half"], message["count"]) == (None, None, 0.5, 3)
    assert message["array"] == [None, 1.0]


def test_a_template_job_writes_variants_and_results_and_reports_progress(tmp_path):
    folder = write_brain_job(tmp_path / "job")
    messages = []
    worker = run_worker(folder, on_message=messages.append, wait_for_completion=True, timeout=120,
                        remove_folder=False)
    assert worker.returncode == protocol.EXIT_OK and worker.state() == "succeeded", messages
    progress = [m for m in messages if m["type"] == "progress"]
    assert progress and progress[-1]["fraction"] == 1.0 and all(m["stage"] == "synthesize" for m in progress)
    assert messages[-1] == {"type": "result", "outputs": str((folder / OUTPUTS).resolve())}
    outputs = folder / OUTPUTS
    assert sorted(p.name for p in folder.iterdir()) == ["channel_0.nrrd", "job.json", "lesion.nrrd", "outputs"]
    results = json.loads((outputs / "results.json").read_text(encoding="utf-8"))
    assert [v["seed"] for v in results["variants"]] == [5, 6]
    assert results["edit"]["mask_sha256"] == results["variants"][0]["synthesis"]["mask_sha256"]
    synthetic = load_image(outputs / results["variants"][0]["channels"][0])
    original = load_image(folder / "channel_0.nrrd")
    lesion = load_image(folder / "lesion.nrrd").array > 0
    assert np.array_equal(synthetic.array[~lesion], original.array[~lesion])
    assert not np.array_equal(synthetic.array[lesion], original.array[lesion])


def test_an_input_error_arrives_as_a_message_with_exit_code_2_and_no_outputs(tmp_path):
    folder = write_brain_job(tmp_path / "job", modalities=["t1", "flair"])
    worker = run_worker(folder, wait_for_completion=True, timeout=60, remove_folder=False)
    assert worker.returncode == protocol.EXIT_INPUT_ERROR
    assert worker.error["error"] == "InputError" and "one modality per channel" in worker.error["message"]
    assert worker.state() == "failed" and "InputError" in worker.failure_message()
    assert not (folder / OUTPUTS).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".outputs")]


def test_a_crash_arrives_as_an_error_message_with_exit_code_1(tmp_path, monkeypatch, capsys):
    folder = write_brain_job(tmp_path / "job")

    def crash(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr("synthtrust.worker.jobs.execute", crash)
    assert worker_main([str(folder)]) == protocol.EXIT_FAILED
    lines = [protocol.parse_line(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1] == {"type": "error", "error": "RuntimeError", "message": "engine exploded"}
    assert not (folder / OUTPUTS).exists()


def test_a_job_folder_without_job_json_is_refused_with_exit_code_2(tmp_path, capsys):
    assert worker_main([str(tmp_path)]) == protocol.EXIT_INPUT_ERROR
    message = protocol.parse_line(capsys.readouterr().out.splitlines()[-1])
    assert message["error"] == "InputError" and "job.json" in message["message"]


# A worker whose engine starts a grandchild process and then blocks: cancel must take both down.
SLOW_WORKER = textwrap.dedent("""
    import subprocess, sys, time
    from pathlib import Path
    from synthtrust.synthesis import template

    def slow(self, channels, lesion, schema, modalities, seed=0, progress=None, **kwargs):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        Path(sys.argv[2]).write_text(str(child.pid))
        progress(1, 100, "working")
        time.sleep(120)

    template.TemplateSynthesizer.synthesize = slow
    from synthtrust.worker.__main__ import main
    sys.exit(main([sys.argv[1]]))
""")


class SlowWorker(WorkerProcess):
    def __init__(self, folder: Path, pid_file: Path):
        super().__init__(folder)
        self.pid_file = pid_file

    def command(self) -> list[str]:
        return [self.python_executable, "-c", SLOW_WORKER, str(self.job_folder), str(self.pid_file)]


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    # An orphan killed in a container may linger as a zombie until PID 1 reaps it: it is not running.
    return not (status.exists() and "\nState:\tZ" in status.read_text(encoding="utf-8"))


@pytest.mark.skipif(os.name == "nt", reason="POSIX process groups; Windows uses taskkill /T")
def test_cancel_mid_run_kills_the_process_tree_and_leaves_no_output_folder(tmp_path):
    folder = write_brain_job(tmp_path / "job")
    pid_file = tmp_path / "grandchild.pid"
    worker = SlowWorker(folder, pid_file).start()
    messages, deadline = [], time.monotonic() + 60
    while not any(m["type"] == "progress" for m in messages) or not pid_file.exists():
        assert time.monotonic() < deadline and worker.running, messages
        messages += worker.poll()
        time.sleep(0.05)
    grandchild = int(pid_file.read_text(encoding="utf-8"))
    assert is_alive(worker.process.pid) and is_alive(grandchild)
    worker.cancel()
    messages += worker.poll()
    assert worker.returncode == protocol.EXIT_CANCELLED and worker.state() == "cancelled"
    assert messages[-1]["type"] == "cancelled"
    deadline = time.monotonic() + 5
    while is_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_alive(worker.process.pid) and not is_alive(grandchild)
    assert not folder.exists()


def write_heart_sweep_job(folder: Path, segments=(7, 8), **overrides) -> Path:
    """The LGE phantom (8 slices of 96x96) and its EMIDEC anatomy as NRRD, plus a sweep job.json."""
    from synthtrust.phantoms.cardiac import make_lge_phantom

    image, anatomy = make_lge_phantom(seed=1, shape=(8, 96, 96))
    folder.mkdir(parents=True, exist_ok=True)
    save_image(image, folder / "channel_0.nrrd")
    save_image(anatomy, folder / "anatomy.nrrd")
    spec = {"kind": "sweep", "task": "cardiac-scar", "channels": ["channel_0.nrrd"], "modalities": ["lge"],
            "anatomy": "anatomy.nrrd", "variants": 1, "seed": 3, "device": "cpu",
            "sweep": {"segments": list(segments), "transmurality": [0.6], "seed": 4}, **overrides}
    # Written as JSON directly: a bad grid must reach the worker (RunSettings itself would refuse it here).
    (folder / "job.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def test_a_sweep_job_scores_each_aha_segment_with_one_progress_line_per_edit(tmp_path):
    folder = write_heart_sweep_job(tmp_path / "job")
    messages = []
    worker = run_worker(folder, on_message=messages.append, wait_for_completion=True, timeout=180,
                        remove_folder=False)
    assert worker.state() == "succeeded", messages
    progress = [m for m in messages if m["type"] == "progress"]
    assert [(m["stage"], m["step"], m["total"]) for m in progress] == [("sweep", 0, 2), ("sweep", 1, 2), ("sweep", 2, 2)]
    assert "'segment': 7" in progress[0]["message"] and "'segment': 8" in progress[1]["message"]
    assert progress[-1]["fraction"] == 1.0
    results = json.loads((folder / OUTPUTS / "results.json").read_text(encoding="utf-8"))
    assert results["kind"] == "sweep" and results["segmenters"][0]["model_id"] == "cardiac-scar-lge-unet"
    rows = results["sweep"]["rows"]
    assert [(r["segment"], r["transmurality"], r["status"]) for r in rows] == [(7, 0.6, "ok"), (8, 0.6, "ok")]
    per_segment = {entry["segment"]: entry for entry in results["sweep"]["segment_dice"]}
    assert sorted(per_segment) == [7, 8]
    for row in rows:
        # Each segment keeps its own Dice: the mean of that segment's edits, not the sweep's mean.
        assert per_segment[row["segment"]]["dice"] == pytest.approx(row["scar dice"])
        assert 0.0 <= row["scar dice"] <= 1.0
    assert (folder / OUTPUTS / "sweep.csv").read_text(encoding="utf-8").splitlines()[0].startswith("segmenter,segment,")


def test_a_sweep_job_without_anatomy_or_segments_is_refused_before_any_work(tmp_path):
    folder = write_heart_sweep_job(tmp_path / "no-anatomy", anatomy="")
    worker = run_worker(folder, wait_for_completion=True, timeout=60, remove_folder=False)
    assert worker.returncode == protocol.EXIT_INPUT_ERROR and "cardiac anatomy" in worker.error["message"]
    folder = write_heart_sweep_job(tmp_path / "bad-segment", segments=(7, 18))
    worker = run_worker(folder, wait_for_completion=True, timeout=60, remove_folder=False)
    assert worker.returncode == protocol.EXIT_INPUT_ERROR and "1-17" in worker.error["message"]


def test_the_segmentation_device_of_the_job_is_the_one_segmenters_are_loaded_on(tmp_path, monkeypatch):
    from synthtrust.worker import execute

    folder = write_brain_job(tmp_path / "job", kind="segment", device="cuda", segmentation_device="cpu")
    devices = []

    def record(names, task, modalities, device):
        devices.append(device)
        return []

    monkeypatch.setattr(execute, "load_segmenters", record)
    from synthtrust.worker.jobs import run_job

    run_job(folder, protocol.Emitter(io.StringIO()))
    assert devices == ["cpu"]
    folder = write_brain_job(tmp_path / "job2", kind="segment", device="auto")  # no segmentation device: the one
    run_job(folder, protocol.Emitter(io.StringIO()))
    assert devices == ["cpu", "auto"]
