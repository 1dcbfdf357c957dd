"""Test doubles for the panel controller's Logic and job, and the panel they drive: the module's real .ui
under PySide6 offscreen (Slicer-only widgets replaced by Testing/slicer_stand_ins), with a PanelController
built as the widget builds it (constructor injection of the Logic and the request builder)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from slicer_stand_ins import load_panel
from SynthTrustSlicerLib.panel_state import PanelController, PanelInputs

UI_FILE = Path(__file__).resolve().parents[1] / "Resources" / "UI" / "SynthTrustSlicer.ui"
READY = PanelInputs(channels=["FLAIR", "T1c"], lesion_segmentation=True, segmenters=1)


class FakeJob:
    """Test double for the logic's RunJob: poll() replays scripted worker messages, then finishes the way
    RunJob does (on_finished(outcome, None) or on_finished(None, message)); cancel() finishes at once."""

    def __init__(self, on_message, on_finished, kind="run", messages=(), outcome=None, error=None):
        self.on_message, self.on_finished, self.kind = on_message, on_finished, kind
        self.messages, self.outcome, self.error = list(messages), outcome, error
        self.cancelled = self.done = False
        self.cancel_waited = None

    def poll(self) -> bool:
        if self.done:
            return False
        if self.messages:
            self.on_message(self.messages.pop(0))
            return True
        self.done = True
        self.on_finished(self.outcome, None if self.outcome is not None else self.error)
        return False

    def cancel(self, wait: bool = False) -> None:
        # As RunJob: without wait, cancel only stops the worker; the next poll() reports the end.
        self.cancelled, self.cancel_waited, self.messages = True, wait, []
        if wait:
            self.done = True
            self.on_finished(None, "cancelled; nothing was written")


class FakeLogic:
    """Test double for the module's Logic: start_run(request, on_message, on_finished) returns a FakeJob
    scripted by the test (``panel.job``), as SynthTrustSlicerLogic.start_run returns a RunJob."""

    def __init__(self, script: dict):
        self.script, self.jobs, self.requests = script, [], []

    def start_run(self, request, on_message, on_finished):
        self.requests.append(request)
        self.jobs.append(FakeJob(on_message, on_finished, request["kind"], **self.script))
        return self.jobs[-1]


PARAMETER_NODE = SimpleNamespace(name="the bound parameter node")


def build_request(pn, kind):
    """Stand-in for parameters.request_for: records what the controller built the request from."""
    return {"parameter_node": pn, "kind": kind}


def open_panel() -> SimpleNamespace:
    """The .ui shown with its controller; ``job`` scripts the next jobs (messages, outcome, error)."""
    widget, ui = load_panel(UI_FILE)
    script: dict = {}
    logic = FakeLogic(script)
    controller = PanelController(ui, logic, build_request)
    controller.parameter_node = PARAMETER_NODE
    widget.show()
    return SimpleNamespace(widget=widget, ui=ui, controller=controller, jobs=logic.jobs, job=script, logic=logic)


def progress(step, total, eta):
    return {"type": "progress", "stage": "synthesis", "step": step, "total": total, "fraction": None,
            "elapsed_s": 1.0, "eta_s": eta, "message": ""}
