"""The Slicer panel under PySide6 offscreen: the real .ui (Slicer-only widgets replaced by the declared
stand-ins in Testing/slicer_stand_ins), driven by the same PanelController the module's widget uses.

Here: names agree between code and .ui, bindings are of kinds Slicer can bind, enabling rules, Apply <->
Cancel around a job (a test double), progress, and results shown. The module's widget itself, with the
parameter-node binding and the real worker, runs in test_widget_panel.py and test_widget_fresh_slicer.py.
"""

from __future__ import annotations

import ast
import contextlib
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
from slicer_stand_ins.application import CONVENTIONAL_LAYOUT, LayoutManager  # noqa: E402
from SynthTrustSlicerLib import panel_state  # noqa: E402
from SynthTrustSlicerLib.bullseye import BullseyeWidget, parse_segments, segment_at, segment_sector  # noqa: E402
from SynthTrustSlicerLib.choices import current_value  # noqa: E402
from SynthTrustSlicerLib.lessons import LESSONS, LessonPlayer  # noqa: E402
from SynthTrustSlicerLib.panel_state import PanelController, PanelInputs, progress_display  # noqa: E402

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



@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def panel(app):
    widget, ui = load_panel(UI_FILE)
    jobs = []

    def start_job(on_message, on_finished, kind="run"):
        jobs.append(FakeJob(on_message, on_finished, kind, **panel_job))
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
    sources = sorted(MODULE_DIR.rglob("*.py"))
    assert {"SynthTrustSlicer.py", "panel_state.py", "choices.py", "views.py", "lessons.py"} <= {p.name for p in sources}
    for source in sources:
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


def test_a_diffusion_engine_without_a_shipped_generator_needs_a_model_and_the_tooltip_says_why(panel):
    inputs = PanelInputs(**{**READY.__dict__, "modalities": ["t2"], "engine": "inpaint", "engine_needs_model": True})
    panel.controller.refresh(inputs)
    assert not panel.ui.applyButton.enabled
    assert "none is shipped for brain-tumor with t2" in panel.ui.applyButton.toolTip
    panel.controller.refresh(PanelInputs(**{**inputs.__dict__, "model_chosen": True}))
    assert panel.ui.applyButton.enabled


def test_a_diffusion_engine_runs_with_the_shipped_default_generator_when_no_model_is_picked(panel):
    inputs = PanelInputs(**{**READY.__dict__, "modalities": ["flair", "t1c"], "engine": "inpaint",
                            "engine_needs_model": True, "default_generator": "Brain tumour generator"})
    panel.controller.refresh(inputs)
    assert panel.ui.applyButton.enabled and "generator" not in panel.ui.applyButton.toolTip


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


# ------------------------------------------------------------------------------------------- choices from the core
def parameter_node(**values):
    """The parameter node's fields with their defaults (as the module's wrapper declares them)."""
    import enum

    fields = {"task": enum.Enum("Task", {"BrainTumor": "brain-tumor"}).BrainTumor, "channel1Volume": None,
              "channel2Volume": None, "channel3Volume": None, "engine": "template", "model": "", "modelPath": "",
              "device": "auto", "segmentationDevice": "auto", "segmenters": "", "segmenterPath": ""}
    for index, modality in enumerate(("flair", "t1c", "t1"), start=1):
        fields[f"channel{index}Modality"] = SimpleNamespace(value=modality)
    return SimpleNamespace(**{**fields, **values})


@pytest.fixture
def choices(panel):
    scene = pytest.importorskip("synthtrust.scene", reason="needs slicer-core (pip install -e .[scene])")
    from SynthTrustSlicerLib.choices import ChoiceBoxes
    from SynthTrustSlicerLib.logic import SynthTrustSlicerLogic

    volume = SimpleNamespace(GetName=lambda: "FLAIR")
    pn = parameter_node(channel1Volume=volume, channel2Volume=SimpleNamespace(GetName=lambda: "T1c"))
    boxes = ChoiceBoxes(panel.ui, SynthTrustSlicerLogic(scene.SceneSession.create()))
    boxes.fill(pn)
    return boxes, pn


def test_engines_and_their_descriptions_come_from_the_core(panel, choices):
    from synthtrust.synthesis.engines import ENGINE_DESCRIPTIONS

    boxes, pn = choices
    ui = panel.ui
    assert [ui.engineComboBox.itemText(i) for i in range(ui.engineComboBox.count)] == list(ENGINE_DESCRIPTIONS)
    ui.engineComboBox.currentIndex = ui.engineComboBox.findData("inpaint")
    boxes.engine_changed(pn)
    assert pn.engine == "inpaint" and ui.engineDescriptionLabel.text == ENGINE_DESCRIPTIONS["inpaint"]
    assert ui.modelComboBox.enabled and ui.stepsSpinBox.enabled


def test_the_default_model_entry_names_the_shipped_generator_or_says_there_is_none(panel, choices):
    from SynthTrustSlicerLib.parameters import panel_inputs

    boxes, pn = choices
    ui = panel.ui
    ui.engineComboBox.currentIndex = ui.engineComboBox.findData("inpaint")
    boxes.engine_changed(pn)
    default = boxes.default_generator(pn)
    assert default["id"] == "brain-tumor-flair-t1c-diffusion" and pn.model == ""
    assert ui.modelComboBox.itemText(0) == f"Default: {default['title']}"
    inputs = panel_inputs(SimpleNamespace(**{**pn.__dict__, **READY_NODES}), default)
    panel.controller.refresh(inputs)
    assert ui.applyButton.enabled, ui.applyButton.toolTip
    pn.channel2Volume = None  # FLAIR alone: no shipped generator reads it
    boxes.describe_default_model(pn)
    assert boxes.default_generator(pn) is None and ui.modelComboBox.itemText(0).startswith("(no default")
    panel.controller.refresh(panel_inputs(SimpleNamespace(**{**pn.__dict__, **READY_NODES}), None))
    assert not ui.applyButton.enabled and "none is shipped for brain-tumor with flair" in ui.applyButton.toolTip


class CountedPoints:
    def GetNumberOfControlPoints(self):
        return 1


READY_NODES = {"lesionSegmentation": object(), "anatomySegmentation": None, "tumorCenter": CountedPoints(),
               "scarSegments": "", "guidance": False, "segmenters": "brain-tumor-flair-t1c-unet"}


def test_the_segmentation_device_is_chosen_apart_from_the_synthesis_device(panel, choices):
    boxes, pn = choices
    ui = panel.ui
    values = [ui.segmentDeviceComboBox.itemData(i) for i in range(ui.segmentDeviceComboBox.count)]
    assert values[:2] == ["auto", "cpu"]
    ui.segmentDeviceComboBox.currentIndex = values.index("cpu")
    boxes.store(pn)
    assert (pn.device, pn.segmentationDevice) == ("auto", "cpu")
    assert current_value(ui.deviceComboBox) == "auto", "the synthesis device did not follow"


def test_the_device_lists_are_refilled_keeping_each_choice_once_pytorch_is_installed(panel, choices):
    boxes, pn = choices
    pn.device, pn.segmentationDevice = "cuda", "cpu"
    boxes.devices = lambda: ([("auto", "Auto (GPU: Test GPU, 8.0 GiB)"), ("cpu", "CPU"), ("cuda", "GPU: Test GPU")],
                             "GPU Test GPU, 8.0 GiB")
    boxes.fill_devices(pn)
    assert panel.ui.deviceComboBox.currentText == "GPU: Test GPU"
    assert current_value(panel.ui.segmentDeviceComboBox) == "cpu"


def test_a_sweep_request_carries_the_segments_and_the_scar_settings_and_no_lesion():
    import enum

    from SynthTrustSlicerLib.parameters import sweep_request

    task = enum.Enum("Task", {"CardiacScar": "cardiac-scar"}).CardiacScar
    lge = SimpleNamespace(GetName=lambda: "LGE")
    pn = parameter_node(task=task, channel1Volume=lge, channel1Modality=SimpleNamespace(value="lge"),
                        lesionSegmentation="a placed scar", anatomySegmentation="anatomy", referenceSegmentation=None,
                        scarSegments="13,7", transmurality=0.6, extent=0.8, scarIrregularity=0.3, mvo=0.1, scarSeed=4,
                        steps=25, guidance=False, guidanceWeight=1.0, qualityThreshold=0.0, variants=2, seed=9,
                        segmentationDevice="cpu")
    request = sweep_request(pn)
    settings = request.settings
    assert settings.kind == "sweep" and request.lesion_segmentation_node is None
    assert request.anatomy_segmentation_node == "anatomy" and settings.modalities == ["lge"]
    assert settings.sweep.to_json() == {"segments": [7, 13], "transmurality": [0.6], "extent": 0.8,
                                        "irregularity": 0.3, "mvo": 0.1, "seed": 4}
    assert (settings.variants, settings.seed, settings.device, settings.segmentation_device) == (2, 9, "auto", "cpu")
    with pytest.raises(ValueError, match="AHA segment"):
        sweep_request(SimpleNamespace(**{**pn.__dict__, "scarSegments": ""}))


# ------------------------------------------------------------------------------------------- compare mode
def test_compare_mode_links_two_views_and_turning_it_off_unlinks_them_and_restores_the_layout(panel):
    scene = pytest.importorskip("synthtrust.scene", reason="needs slicer-core (pip install -e .[scene])")
    import numpy as np
    from SynthTrustSlicerLib.views import CompareMode

    from synthtrust.imaging.image import Image

    session = scene.SceneSession.create()
    real, synthetic = (scene.add_volume(session, Image.from_array(np.ones((4, 4, 4), np.float32)), name)
                       for name in ("real", "synthetic"))
    manager = LayoutManager(session.scene)
    compare = CompareMode(panel.ui.compareModeButton, lambda: manager)
    panel.ui.compareModeButton.toggled.connect(lambda on: compare.toggled(on, lambda: (real, synthetic)))
    panel.ui.compareModeButton.checked = True
    composites = {name: manager.sliceWidget(name).mrmlSliceCompositeNode() for name in ("Red", "Yellow")}
    assert manager.layout == 29  # vtkMRMLLayoutNode.SlicerLayoutSideBySideView
    assert composites["Red"].GetBackgroundVolumeID() == real.GetID()
    assert composites["Yellow"].GetBackgroundVolumeID() == synthetic.GetID()
    assert all(c.GetLinkedControl() for c in composites.values())
    panel.ui.compareModeButton.checked = False
    assert manager.layout == CONVENTIONAL_LAYOUT and not any(c.GetLinkedControl() for c in composites.values())


def test_compare_mode_without_a_run_reports_why_and_unchecks_the_button(panel):
    from SynthTrustSlicerLib.views import CompareMode

    reported = []

    @contextlib.contextmanager
    def guard(text):
        try:
            yield
        except ValueError as error:  # as slicer.util.tryWithErrorDisplay: show it, then re-raise it
            reported.append(f"{text} {error}")
            raise

    manager = SimpleNamespace(layout=3, setLayout=lambda layout: pytest.fail("the layout must not change"))
    compare = CompareMode(panel.ui.compareModeButton, lambda: manager, guard)

    def no_run():
        raise ValueError("No run to show yet: press Apply in Synthesis first.")

    button = panel.ui.compareModeButton
    button.blockSignals(True)
    button.checked = True  # what the click did before Qt called toggled(True)
    button.blockSignals(False)
    with pytest.raises(ValueError, match="No run to show yet"):
        compare.toggled(True, no_run)  # the error goes on after it was shown (a Qt slot prints it)
    assert reported == ["Could not switch the compare mode. No run to show yet: press Apply in Synthesis first."]
    assert not panel.ui.compareModeButton.checked and not compare.active
