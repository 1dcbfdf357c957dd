"""The Slicer panel under PySide6 offscreen: the real .ui (Slicer-only widgets replaced by the declared
stand-ins in Testing/slicer_stand_ins), driven by the same PanelController the module's widget uses.

What runs only inside 3D Slicer (parameter-node binding, Segment Editor, layouts) is covered by the
module's self-test; here: names agree between code and .ui, bindings are of kinds Slicer can bind,
enabling rules, Apply <-> Cancel around a job (a test double), progress, and results shown.
"""

from __future__ import annotations

import ast
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import SimpleNamespace

import pytest

QtWidgets = pytest.importorskip("PySide6.QtWidgets")
# The panel code reads and writes Qt properties as attributes (PythonQt's style); so do these tests.
from __feature__ import true_property  # noqa: E402, F401
from PySide6 import QtCore  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
MODULE_DIR = REPOSITORY / "SynthTrustSlicer"
UI_FILE = REPOSITORY / "Resources" / "UI" / "SynthTrustSlicer.ui"
MODULE_FILE = MODULE_DIR / "SynthTrustSlicer.py"
sys.path[:0] = [str(MODULE_DIR), str(REPOSITORY / "Testing")]

from slicer_stand_ins import load_panel  # noqa: E402
from SynthTrustSlicerLib import panel_state  # noqa: E402
from SynthTrustSlicerLib.bullseye import BullseyeWidget, parse_segments, segment_at, segment_sector  # noqa: E402
from SynthTrustSlicerLib.lessons import LESSONS, LessonPlayer  # noqa: E402
from SynthTrustSlicerLib.panel_state import PanelController, PanelInputs, progress_display  # noqa: E402

READY = PanelInputs(channels=["FLAIR", "T1c"], lesion_segmentation=True, segmenters=1)


class FakeJob:
    """Test double for the logic's RunJob: poll() replays scripted worker messages, then finishes the way
    RunJob does (on_finished(outcome, None) or on_finished(None, message)); cancel() finishes at once."""

    def __init__(self, on_message, on_finished, messages=(), outcome=None, error=None):
        self.on_message, self.on_finished = on_message, on_finished
        self.messages, self.outcome, self.error = list(messages), outcome, error
        self.cancelled = self.done = False

    def poll(self) -> bool:
        if self.done:
            return False
        if self.messages:
            self.on_message(self.messages.pop(0))
            return True
        self.done = True
        self.on_finished(self.outcome, None if self.outcome is not None else self.error)
        return False

    def cancel(self) -> None:
        self.cancelled = self.done = True
        self.on_finished(None, "cancelled; nothing was written")


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def panel(app):
    widget, ui = load_panel(UI_FILE)
    jobs = []

    def start_job(on_message, on_finished):
        jobs.append(FakeJob(on_message, on_finished, **panel_job))
        return jobs[-1]

    panel_job: dict = {}
    controller = PanelController(ui, start_job)
    widget.show()
    yield SimpleNamespace(widget=widget, ui=ui, controller=controller, jobs=jobs, job=panel_job)
    widget.close()


def progress(step, total, eta):
    return {"type": "progress", "stage": "synthesis", "step": step, "total": total, "fraction": None,
            "elapsed_s": 1.0, "eta_s": eta, "message": ""}


def ui_object_names() -> dict[str, str]:
    root = ElementTree.parse(UI_FILE).getroot()
    return {w.get("name"): w.get("class") for w in root.iter("widget")}


def parameter_fields() -> dict[str, str]:
    tree = ast.parse(MODULE_FILE.read_text())
    wrapper = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SynthTrustSlicerParameterNode")
    return {n.target.id: ast.unparse(n.annotation) for n in wrapper.body if isinstance(n, ast.AnnAssign)}


# ------------------------------------------------------------------------------------------- names
def test_every_widget_the_module_code_uses_exists_in_the_ui():
    names = ui_object_names()
    used = set()
    for source in (MODULE_FILE, MODULE_DIR / "SynthTrustSlicerLib" / "panel_state.py"):
        text = source.read_text()
        used |= set(re.findall(r"\bui\.(\w+)", text))  # self.ui.x and ui.x
        # names handed to getattr(self.ui, name) from tuples of strings
        used |= set(re.findall(r'"(\w+(?:ComboBox|LineEdit|SpinBox|CheckBox|Button|Widget))"', text))
    used |= set(panel_state.badges(panel_state.ResultSummary()))
    used |= {f"{step.focus}CollapsibleButton" for lesson in LESSONS for step in lesson.steps}
    assert len(used) > 40
    assert sorted(used - set(names)) == []


def test_every_bound_widget_names_a_parameter_of_a_kind_slicer_can_bind():
    root = ElementTree.parse(UI_FILE).getroot()
    fields = parameter_fields()
    # Slicer's parameterNodeWrapper GUI connectors match the widget's exact class to the parameter type.
    bindable = {"float": {"ctkSliderWidget", "QDoubleSpinBox"}, "int": {"QSpinBox", "QSlider"},
                "bool": {"QCheckBox"}, "Task": {"QComboBox"}, "Modality": {"QComboBox"}}
    bound = {}
    for widget in root.iter("widget"):
        for prop in widget.findall("property"):
            if prop.get("name") == "SlicerParameterName":
                bound[prop.find("string").text] = widget.get("class")
    assert len(bound) >= 25
    for parameter, widget_class in bound.items():
        assert parameter in fields, f"{parameter} is bound in the .ui but not in the parameter node"
        annotation = fields[parameter]
        kind = next((k for k in bindable if re.search(rf"\b{k}\b", annotation)), None)
        if annotation.startswith("vtkMRML"):
            assert widget_class == "qMRMLNodeComboBox", parameter
        else:
            assert kind is not None and widget_class in bindable[kind], (parameter, annotation, widget_class)


def test_the_ui_loads_with_the_slicer_widget_stand_ins(panel):
    assert type(panel.ui.channel1Selector).__name__ == "qMRMLNodeComboBox"
    assert type(panel.ui.resultsTableView).__name__ == "qMRMLTableView"
    assert panel.ui.inputsCollapsibleButton.title.endswith("Inputs")
    assert panel.ui.tumorSizeSliderWidget.value == pytest.approx(28.0)


# ------------------------------------------------------------------------------------------- enabling
def test_apply_is_disabled_until_volume_lesion_and_segmenter_are_chosen(panel):
    ui, controller = panel.ui, panel.controller
    controller.refresh(PanelInputs())
    assert not ui.applyButton.enabled
    assert "input volume" in ui.applyButton.toolTip and "lesion segmentation" in ui.applyButton.toolTip
    controller.refresh(PanelInputs(channels=["FLAIR"], lesion_segmentation=True))
    assert not ui.applyButton.enabled and "segmenter" in ui.applyButton.toolTip
    controller.refresh(READY)
    assert ui.applyButton.enabled and ui.applyButton.text == "Apply"


def test_one_volume_in_two_channels_blocks_apply_and_names_it(panel):
    panel.controller.refresh(PanelInputs(channels=["FLAIR", "FLAIR"], lesion_segmentation=True, segmenters=1))
    assert not panel.ui.applyButton.enabled
    assert "'FLAIR' is selected twice" in panel.ui.applyButton.toolTip


def test_a_diffusion_engine_needs_a_model_before_apply(panel):
    inputs = PanelInputs(**{**READY.__dict__, "engine": "inpaint", "engine_needs_model": True})
    panel.controller.refresh(inputs)
    assert not panel.ui.applyButton.enabled and "needs a generator" in panel.ui.applyButton.toolTip
    panel.controller.refresh(PanelInputs(**{**inputs.__dict__, "model_chosen": True}))
    assert panel.ui.applyButton.enabled


def test_the_task_shows_only_its_own_parametric_lesion(panel):
    panel.controller.refresh(PanelInputs(task="brain-tumor"))
    assert not panel.ui.tumorGroupBox.isHidden() and panel.ui.scarGroupBox.isHidden()
    panel.controller.refresh(PanelInputs(task="cardiac-scar"))
    assert panel.ui.tumorGroupBox.isHidden() and not panel.ui.scarGroupBox.isHidden()


def test_scar_placement_waits_for_anatomy_and_segments(panel):
    ui = panel.ui
    panel.controller.refresh(PanelInputs(task="cardiac-scar", channels=["LGE"]))
    assert not ui.placeScarButton.enabled and "anatomy" in ui.placeScarButton.toolTip
    panel.controller.refresh(PanelInputs(task="cardiac-scar", channels=["LGE"], anatomy_segmentation=True,
                                         scar_segments=[7, 8]))
    assert ui.placeScarButton.enabled and ui.previewScarButton.enabled


def test_guidance_weight_follows_the_guidance_checkbox(panel):
    panel.controller.refresh(PanelInputs(guidance=False))
    assert not panel.ui.guidanceWeightSliderWidget.enabled
    panel.controller.refresh(PanelInputs(guidance=True))
    assert panel.ui.guidanceWeightSliderWidget.enabled


# ------------------------------------------------------------------------------------------- jobs
def test_apply_turns_into_cancel_while_a_job_runs_and_back_after(panel):
    ui, controller = panel.ui, panel.controller
    panel.job.update(messages=[progress(2, 4, 6.2)], outcome=SimpleNamespace(table_node=None, results={}))
    controller.refresh(READY)
    QTest.mouseClick(ui.applyButton, QtCore.Qt.LeftButton)
    assert len(panel.jobs) == 1
    assert ui.applyButton.text == "Cancel" and ui.applyButton.enabled
    assert not ui.inputsCollapsibleButton.enabled and not ui.synthesisSettingsWidget.enabled
    assert ui.progressBar.visible
    controller.poll()
    assert ui.progressBar.format == "synthesis: step 2/4, ETA 0:06" and ui.progressBar.value == 500
    controller.poll()
    assert ui.applyButton.text == "Apply" and ui.applyButton.enabled and not controller.busy
    assert ui.inputsCollapsibleButton.enabled and not ui.progressBar.visible
    assert "Finished" in ui.logTextEdit.plainText


def test_clicking_cancel_stops_the_job_and_leaves_a_note(panel):
    ui = panel.ui
    panel.job.update(messages=[progress(1, 50, None)] * 5)
    panel.controller.refresh(READY)
    QTest.mouseClick(ui.applyButton, QtCore.Qt.LeftButton)
    panel.controller.poll()
    assert "ETA estimating" in ui.progressBar.format
    QTest.mouseClick(ui.applyButton, QtCore.Qt.LeftButton)
    assert panel.jobs[0].cancelled and len(panel.jobs) == 1
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


def test_a_finished_run_fills_the_table_badges_and_bullseye(panel):
    scene = pytest.importorskip("synthtrust.scene", reason="needs slicer-core (pip install -e .[scene])")
    session = scene.SceneSession.create()
    rows = [{"case": "v1", "region": "scar", "Dice": 0.8}, {"case": "v2", "region": "scar", "Dice": 0.7}]
    table = scene.add_table(session, rows, "results", {"Dice": "2|A∩B| / (|A|+|B|)"})
    bullseye = BullseyeWidget()
    panel.controller.results_bullseye = bullseye
    panel.job.update(outcome=SimpleNamespace(table_node=table, results=RESULTS))
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
    assert bullseye.values == {7: pytest.approx(0.75), 8: pytest.approx(0.75)}


def test_a_failed_fidelity_audit_shows_a_red_badge():
    failing = {"variants": [{"predictions": [{"audits": {"conditioning_fidelity": {"dice": 0.2, "passed": False}}}]}]}
    text, style = panel_state.badges(panel_state.summarize_results(failing))["fidelityBadgeLabel"]
    assert (text, style) == ("Fidelity 0/1 pass", "fail")


# ------------------------------------------------------------------------------------------- bullseye, lessons
def test_bullseye_segments_follow_the_core_aha_convention():
    from synthtrust.editing.cardiac import segment_center_deg

    for segment in range(1, 18):
        assert segment_sector(segment) == segment_center_deg(segment)


@pytest.mark.parametrize(("x", "y", "segment"), [(100, 8, 1), (100, 192, 4), (60, 100, 14), (140, 100, 16), (6, 100, 3),
                                                  (100, 100, 17), (60, 55, 8), (1, 1, None)])
def test_bullseye_hit_test_puts_anterior_on_top_and_septum_on_the_left(x, y, segment):
    assert segment_at(x, y, 200, 200) == segment


def test_clicking_the_bullseye_toggles_segments_and_reports_them(app):
    bullseye = BullseyeWidget()
    bullseye.size = QtCore.QSize(200, 200)
    bullseye.show()
    reported = []
    bullseye.onSelectionChanged = reported.append
    QTest.mouseClick(bullseye, QtCore.Qt.LeftButton, pos=QtCore.QPoint(100, 8))
    QTest.mouseClick(bullseye, QtCore.Qt.LeftButton, pos=QtCore.QPoint(100, 100))
    QTest.mouseClick(bullseye, QtCore.Qt.LeftButton, pos=QtCore.QPoint(100, 8))
    assert reported == [[1], [1, 17], [17]]
    assert not bullseye.grab().toImage().isNull()


def test_segments_text_is_parsed_or_the_error_names_the_fix():
    assert parse_segments(" 8,7;13 ,7") == [7, 8, 13]
    with pytest.raises(ValueError, match="1 to 17"):
        parse_segments("7,18")


def test_each_lesson_steps_through_to_its_end():
    for lesson in LESSONS:
        player = LessonPlayer(lesson.key)
        assert player.at_start and "Step 1/" in player.html()
        while not player.at_end:
            player.next()
        assert player.index == len(lesson.steps) - 1
        assert player.back() == lesson.steps[-2]


def test_sample_heart_is_generated_locally_with_its_anatomy():
    scene = pytest.importorskip("synthtrust.scene", reason="needs slicer-core (pip install -e .[scene])")
    from SynthTrustSlicerLib.sample_data import load_sample_heart

    volume, anatomy = load_sample_heart(scene.SceneSession.create())
    assert volume.GetImageData().GetScalarRange()[1] > 0
    segments = anatomy.GetSegmentation()
    assert sorted(segments.GetNthSegment(i).GetName() for i in range(segments.GetNumberOfSegments())) == [
        "blood pool", "myocardium"]
