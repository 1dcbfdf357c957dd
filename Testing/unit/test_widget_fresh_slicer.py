"""The first run on a fresh 3D Slicer, where PyTorch, MONAI and nilearn are not installed: the panel opens
with every shipped model listed and Apply enabled, and Apply asks once to install what is missing
(PyTorch through the PyTorch extension, MONAI through Slicer's pip helper), then runs.

The panel runs in a process of its own (``Testing/slicer_stand_ins/fresh_slicer.py``) where the three
packages cannot be imported (a ``sys.meta_path`` blocker; the stand-in installers lift it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("slicer", reason="needs slicer-core (pip install -e .[scene])")

REPOSITORY = Path(__file__).resolve().parents[2]
SCRIPT = REPOSITORY / "Testing" / "slicer_stand_ins" / "fresh_slicer.py"
PROMPT_TITLE = "SynthTrust: install Python packages"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("fresh_slicer")
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(SCRIPT), str(out)], env=environment, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads((out / "fresh_slicer.json").read_text(encoding="utf-8"))
    report["out"] = out
    return report


def test_the_panel_opens_with_every_shipped_model_and_apply_enabled_without_pytorch(fresh):
    from synthtrust.models.manifest import read_manifest

    run = fresh["first_run"]
    brain = [e for e in read_manifest() if e.task == "brain-tumor"]
    assert len(run["segmenters"]) == len([e for e in brain if (e.kind or "segmenter") == "segmenter"]) >= 1
    assert len(run["generators"]) == 1 + len([e for e in brain if e.kind == "generator"])
    assert run["engines"][:1] == ["template"] and run["dialogs_on_open"] == []
    assert run["apply_enabled"], run["apply_tooltip"]
    assert run["status_before"] == "Apply first asks to install PyTorch (PyTorch extension), monai, then runs."


def test_apply_asks_once_and_a_declined_install_installs_nothing(fresh):
    declined = fresh["first_run"]["declined"]
    prompt, error = declined["dialogs"]
    assert prompt["title"] == PROMPT_TITLE and prompt["buttons"] == ["OK", "Cancel"]
    assert "PyTorch, through the PyTorch extension" in prompt["text"] and "monai>=1.4" in prompt["text"]
    assert error["text"].startswith("Could not start the run.\n\nNothing was installed, and a run needs PyTorch, monai.")
    assert (declined["busy"], declined["pip"], declined["torch"]) == (False, [], [])


def test_accepting_installs_pytorch_through_pytorch_utils_then_monai_and_the_run_starts(fresh):
    accepted = fresh["first_run"]["accepted"]
    assert [d["title"] for d in accepted["dialogs"]] == [PROMPT_TITLE], "one question, nothing else"
    assert accepted["torch"] == [{"askConfirmation": False, "forceComputationBackend": None,
                                  "torchVersionRequirement": ">=2.2"}]
    assert accepted["pip"] == [["pip_install", ["monai>=1.4"]]]
    assert fresh["first_run"]["missing_after_install"] == []
    assert accepted["busy"] and "Run started." in accepted["log"]
    # Once PyTorch is there the device box and the status line say what runs will use.
    assert accepted["status"].startswith(("CPU", "GPU")) and "cpu" in accepted["devices"]
    assert "Cancelled; the scene is unchanged." in fresh["first_run"]["after_cancel_log"]


def test_without_the_pytorch_extension_apply_says_to_install_it(fresh):
    no_extension = fresh["no_extension"]
    assert no_extension["busy"] is False
    assert no_extension["dialogs"] == ["Could not start the run.\n\nSynthTrust needs the PyTorch extension for "
                                       "PyTorch: install 'PyTorch' from the Extensions Manager, restart Slicer, and "
                                       "try again."]


def test_the_first_run_pictures_are_grabbed(fresh):
    for name in ("first_run_panel.png", "first_run_prompt.png"):
        assert (fresh["out"] / name).stat().st_size > 5000, name
