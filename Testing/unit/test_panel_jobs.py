"""The panel controller around a job, on the real .ui under PySide6 offscreen: Apply builds the request from
the bound parameter node and hands it to the Logic (a test double here, as SynthTrustSlicerLogic.start_run),
Apply <-> Cancel, progress, the log, and the results shown (table, badges, bullseye, plot, slice views).
The same controller with the real Logic and worker runs in test_widget_panel.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

QtWidgets = pytest.importorskip("PySide6.QtWidgets")
from __feature__ import true_property  # noqa: E402, F401 - attribute-style Qt properties, as PythonQt
from PySide6 import QtCore  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPOSITORY / "SynthTrustSlicer"), str(REPOSITORY / "Testing")]

from panel_fakes import (  # noqa: E402
    PARAMETER_NODE,
    READY,
    UI_FILE,
    FakeLogic,
    build_request,
    open_panel,
    progress,
)
from slicer_stand_ins import load_panel  # noqa: E402
from SynthTrustSlicerLib import panel_state  # noqa: E402
from SynthTrustSlicerLib.bullseye import BullseyeWidget, segment_at  # noqa: E402
from SynthTrustSlicerLib.panel_state import PanelController, PanelInputs, progress_display  # noqa: E402


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def panel(app):
    opened = open_panel()
    yield opened
    opened.widget.close()


# ------------------------------------------------------------------------------------------- jobs
def test_apply_turns_into_cancel_while_a_job_runs_and_back_after(panel):
    ui, controller = panel.ui, panel.controller
    panel.job.update(messages=[progress(2, 4, 6.2)], outcome=SimpleNamespace(table_node=None, results={}))
    controller.refresh(READY)
    QTest.mouseClick(ui.applyButton, QtCore.Qt.LeftButton)
    assert len(panel.jobs) == 1
    assert panel.logic.requests == [{"parameter_node": PARAMETER_NODE, "kind": "run"}], "built from the bound node"
    assert ui.applyButton.text == "Cancel" and ui.applyButton.enabled
    assert not ui.inputsCollapsibleButton.enabled and not ui.synthesisSettingsWidget.enabled
    assert ui.progressBar.visible
    controller.poll()
    assert ui.progressBar.format == "synthesis: step 2/4, ETA 0:06" and ui.progressBar.value == 500
    controller.poll()
    assert ui.applyButton.text == "Apply" and ui.applyButton.enabled and not controller.busy
    assert ui.inputsCollapsibleButton.enabled and not ui.progressBar.visible
    assert "Finished" in ui.logTextEdit.plainText


def test_clicking_cancel_stops_the_job_without_waiting_and_the_next_poll_ends_it(panel):
    ui = panel.ui
    panel.job.update(messages=[progress(1, 50, None)] * 5)
    panel.controller.refresh(READY)
    QTest.mouseClick(ui.applyButton, QtCore.Qt.LeftButton)
    panel.controller.poll()
    assert "ETA estimating" in ui.progressBar.format
    QTest.mouseClick(ui.applyButton, QtCore.Qt.LeftButton)
    assert panel.jobs[0].cancelled and panel.jobs[0].cancel_waited is False and len(panel.jobs) == 1
    # The GUI thread is free again at once; the button waits for the worker's end.
    assert ui.applyButton.text == "Cancelling..." and not ui.applyButton.enabled and panel.controller.busy
    panel.controller.poll()
    assert ui.applyButton.text == "Apply" and not panel.controller.busy
    assert "Cancelled; the scene is unchanged." in ui.logTextEdit.plainText


def test_a_failed_run_logs_the_error_and_restores_apply(panel):
    panel.job.update(messages=[{"type": "log", "level": "warning", "message": "low memory"}],
                     error="segmenter file missing: run with a local checkpoint")
    panel.controller.refresh(READY)
    QTest.mouseClick(panel.ui.applyButton, QtCore.Qt.LeftButton)
    panel.controller.poll()
    panel.controller.poll()
    log = panel.ui.logTextEdit.plainText
    assert "WARNING: low memory" in log and "Failed: segmenter file missing" in log
    assert panel.ui.applyButton.text == "Apply"


def test_a_qt_timer_polls_the_job_until_it_ends(panel, app):
    timer = QtCore.QTimer()
    timer.interval = 1
    panel.controller.timer = timer
    timer.timeout.connect(panel.controller.poll)
    panel.job.update(messages=[progress(i, 3, 3 - i) for i in (1, 2, 3)], outcome=SimpleNamespace(results={}))
    panel.controller.refresh(READY)
    QTest.mouseClick(panel.ui.applyButton, QtCore.Qt.LeftButton)
    assert timer.active
    deadline = QtCore.QDeadlineTimer(2000)
    while panel.controller.busy and not deadline.hasExpired():
        app.processEvents(QtCore.QEventLoop.AllEvents, 20)
    assert not timer.active and panel.ui.applyButton.text == "Apply"


def test_apply_without_a_bound_parameter_node_starts_nothing_and_says_why(panel):
    panel.controller.parameter_node = None  # the scene is closing
    panel.controller.refresh(READY)
    with pytest.raises(ValueError, match="No scene is open"):
        panel.controller.start()
    assert panel.jobs == [] and not panel.controller.busy and panel.ui.applyButton.text == "Apply"


class RecordingChoices:
    """Stand-in for ChoiceBoxes: records device refills and offers a status line."""

    def __init__(self, events: list):
        self.events, self.device_status = events, ""

    def fill_devices(self, pn) -> None:
        self.events.append(("fill_devices", pn))
        self.device_status = "GPU NVIDIA H200, 139.8 GiB (PyTorch 2.13.0, CUDA 12.8)"


def test_apply_asks_for_what_a_run_lacks_lists_the_devices_again_then_starts_the_run(app):
    widget, ui = load_panel(UI_FILE)
    events: list = []

    def ensure():
        events.append("ensure")
        return "GPU NVIDIA H200"

    def build(pn, kind):
        events.append(("build", kind))
        return {"parameter_node": pn, "kind": kind}

    logic = FakeLogic({})
    controller = PanelController(ui, logic, build, choices=RecordingChoices(events), ensure_dependencies=ensure)
    controller.parameter_node = PARAMETER_NODE
    controller.refresh(READY)
    controller.start()
    assert events == ["ensure", ("fill_devices", PARAMETER_NODE), ("build", "run")]
    assert ui.logTextEdit.plainText.splitlines()[:2] == ["GPU NVIDIA H200", "Run started."]
    assert ui.environmentStatusLabel.text.startswith("GPU NVIDIA H200") and not ui.environmentStatusLabel.isHidden()
    controller.cancel(wait=True)

    def declined():
        raise RuntimeError("Nothing was installed, and a run needs PyTorch.")

    controller.ensure_dependencies, events[:] = declined, []
    with pytest.raises(RuntimeError, match="Nothing was installed"):
        controller.start()
    assert events == [] and len(logic.jobs) == 1 and not controller.busy, "a declined install builds no request"
    widget.close()


def test_progress_text_counts_steps_and_formats_the_eta():
    assert progress_display(progress(12, 50, 34.4)) == (240, "synthesis: step 12/50, ETA 0:34")
    assert progress_display(progress(1, 2, 3725))[1].endswith("ETA 1:02:05")
    assert progress_display({"stage": "segmentation", "fraction": 0.25}) == (250, "segmentation: ETA estimating")


# ------------------------------------------------------------------------------------------- results
RESULTS = {
    "edit": {"edit": "scar", "parameters": {"segments": [7, 8]}},
    "variants": [{"index": i, "predictions": [{"segmenter": 0, "audits": {
        "conditioning_fidelity": {"dice": dice, "passed": dice >= 0.6},
        "hallucination": {"volume_ml": 0.0}, "off_target_change": {"voxels_changed": 0}}}]}
        for i, dice in enumerate((0.8, 0.7))],
}


def test_a_finished_run_fills_the_table_and_badges_and_paints_no_per_segment_bullseye(panel):
    scene = pytest.importorskip("synthtrust.scene", reason="needs slicer-core (pip install -e .[scene])")
    session = scene.SceneSession.create()
    rows = [{"case": "v1", "region": "scar", "Dice": 0.8}, {"case": "v2", "region": "scar", "Dice": 0.7}]
    table = scene.add_table(session, rows, "results", {"Dice": "2|A∩B| / (|A|+|B|)"})
    bullseye = BullseyeWidget()
    panel.controller.results_bullseye = bullseye
    panel.job.update(outcome=SimpleNamespace(table_node=table, results=RESULTS, segment_dice={}))
    panel.controller.refresh(READY)
    QTest.mouseClick(panel.ui.applyButton, QtCore.Qt.LeftButton)
    panel.controller.poll()
    view = panel.ui.resultsTableView
    assert (view.rowCount, view.columnCount) == (2, 3)
    assert view.item(1, 2).text() == "0.700" and view.horizontalHeaderItem(2).toolTip().startswith("2|A")
    assert panel.ui.fidelityBadgeLabel.text == "Fidelity 2/2 pass"
    assert "#2e7d32" in panel.ui.fidelityBadgeLabel.styleSheet
    assert panel.ui.offTargetBadgeLabel.text == "Off-target 0 voxels"
    assert not panel.ui.resultsCollapsibleButton.collapsed
    # One Dice for a scar over segments 7 and 8 is not a Dice per segment: the bullseye stays hidden.
    assert bullseye.isHidden() and bullseye.values == {}


class PlotLogic(FakeLogic):
    """A logic with the panel's plot view node and a scene, as SynthTrustSlicerLogic has."""

    def __init__(self, script: dict):
        super().__init__(script)
        self.plot_view = SimpleNamespace(chart_id=None, SetPlotChartNodeID=lambda i: setattr(self.plot_view,
                                                                                             "chart_id", i))
        self.session = SimpleNamespace(scene="the logic's scene")

    def panel_plot_view_node(self):
        return self.plot_view


def test_the_controller_shows_the_first_synthetic_volume_and_the_plot_and_keeps_the_run_for_compare(app):
    widget, ui = load_panel(UI_FILE)
    shown = []
    volume = SimpleNamespace(name="variant 0")
    plot = SimpleNamespace(GetID=lambda: "vtkMRMLPlotChartNode7")
    outcome = SimpleNamespace(table_node=None, results=RESULTS, synthetic_volume_nodes=[(volume, "flair")],
                              plot_node=plot)
    logic = PlotLogic({"outcome": outcome})
    controller = PanelController(ui, logic, build_request, show_volume=shown.append)
    controller.parameter_node = PARAMETER_NODE
    bullseye = BullseyeWidget()
    controller.results_bullseye = bullseye
    controller.refresh(READY)
    controller.start()
    controller.poll()
    assert shown == [volume] and controller.last_run is outcome
    assert logic.plot_view.chart_id == "vtkMRMLPlotChartNode7"
    assert (ui.resultsPlotView._scene, ui.resultsPlotView._view_node) == ("the logic's scene", logic.plot_view)
    controller.forget_results()
    assert controller.last_run is None and bullseye.isHidden()
    widget.close()


SCAR_READY = PanelInputs(task="cardiac-scar", channels=["LGE"], modalities=["lge"], anatomy_segmentation=True,
                         scar_segments=[7, 8, 13], segmenters=1)
SWEEP_RESULTS = {"kind": "sweep", "variants": [], "sweep": {"parameters": {"segments": [7, 8, 13]}, "rows": [
    {"segment": 7, "status": "ok", "fidelity_passed": True, "hallucinated_ml": 0.0, "off_target_voxels": 0},
    {"segment": 8, "status": "ok", "fidelity_passed": False, "hallucinated_ml": 0.4, "off_target_voxels": 0},
    {"segment": 13, "status": "not placed: no scar voxel fell in AHA segments [13]"}]}}


def test_the_sweep_button_waits_for_anatomy_segments_and_a_segmenter(panel):
    ui = panel.ui
    panel.controller.refresh(PanelInputs(**{**SCAR_READY.__dict__, "segmenters": 0}))
    assert not ui.sweepScarButton.enabled and "segmenter" in ui.sweepScarButton.toolTip
    panel.controller.refresh(PanelInputs(**{**SCAR_READY.__dict__, "scar_segments": []}))
    assert not ui.sweepScarButton.enabled and "AHA segment" in ui.sweepScarButton.toolTip
    panel.controller.refresh(SCAR_READY)
    assert ui.sweepScarButton.enabled and "each segment's Dice" in ui.sweepScarButton.toolTip
    assert not ui.applyButton.enabled, "a sweep needs no placed lesion, Apply does"


def test_a_sweep_runs_as_a_cancellable_job_and_colours_each_segment_by_its_own_dice(panel):
    ui = panel.ui
    bullseye = BullseyeWidget()
    panel.controller.results_bullseye = bullseye
    panel.job.update(messages=[progress(1, 3, 10.0)],
                     outcome=SimpleNamespace(table_node=None, results=SWEEP_RESULTS, segment_dice={7: 0.9, 8: 0.2}))
    panel.controller.refresh(SCAR_READY)
    QTest.mouseClick(ui.sweepScarButton, QtCore.Qt.LeftButton)
    assert [job.kind for job in panel.jobs] == ["sweep"]
    assert panel.logic.requests == [{"parameter_node": PARAMETER_NODE, "kind": "sweep"}]
    assert ui.applyButton.text == "Cancel" and not ui.sweepScarButton.enabled
    assert not ui.synthesisCollapsibleButton.collapsed, "progress and Cancel are in Synthesis"
    assert "Sweep started." in ui.logTextEdit.plainText
    panel.controller.poll()
    panel.controller.poll()
    assert bullseye.values == {7: pytest.approx(0.9), 8: pytest.approx(0.2)} and not bullseye.isHidden()
    assert ui.fidelityBadgeLabel.text == "Fidelity 1/2 pass" and "1 edit(s) gave no result" in \
        ui.resultsSummaryLabel.text
    # Unswept segments are grey, each swept one has its own colour.
    bullseye.resize(200, 200)
    image = bullseye.grab().toImage()
    assert (segment_at(122, 39, 200, 200), segment_at(122, 161, 200, 200)) == (7, 10)  # beside their labels
    anterior, inferior = image.pixelColor(122, 39), image.pixelColor(122, 161)
    assert anterior.green() > anterior.red() and (inferior.red(), inferior.green(), inferior.blue()) == (200, 200, 200)
    assert panel_state.summarize_results(SWEEP_RESULTS).hallucinated_ml == pytest.approx(0.4)


def test_a_failed_fidelity_audit_shows_a_red_badge():
    audits = {"conditioning_fidelity": {"dice": 0.2, "passed": False}, "hallucination": {"volume_ml": 0.0},
              "off_target_change": {"voxels_changed": 0}}
    failing = {"variants": [{"index": 0, "predictions": [{"segmenter": 0, "audits": audits}]}]}
    text, style = panel_state.badges(panel_state.summarize_results(failing))["fidelityBadgeLabel"]
    assert (text, style) == ("Fidelity 0/1 pass", "fail")


