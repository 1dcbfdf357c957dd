"""The Slicer panel under PySide6 offscreen: the real .ui (Slicer-only widgets replaced by the declared
stand-ins in Testing/slicer_stand_ins), driven by the same PanelController the module's widget uses.

Here: names agree between code and .ui, bindings are of kinds Slicer can bind, enabling rules, the bullseye,
lessons, the choice boxes and compare mode. Apply <-> Cancel around a job, progress and results shown are in
test_panel_jobs.py; the module's widget itself, with the parameter-node binding and the real worker, runs in
test_widget_panel.py and test_widget_fresh_slicer.py.
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
MODULE_FILE = MODULE_DIR / "SynthTrustSlicer.py"
sys.path[:0] = [str(MODULE_DIR), str(REPOSITORY / "Testing")]

from panel_fakes import READY, UI_FILE, open_panel  # noqa: E402
from slicer_stand_ins.application import CONVENTIONAL_LAYOUT, LayoutManager  # noqa: E402
from SynthTrustSlicerLib import panel_state  # noqa: E402
from SynthTrustSlicerLib.bullseye import BullseyeWidget, parse_segments, segment_at, segment_sector  # noqa: E402
from SynthTrustSlicerLib.choices import current_value  # noqa: E402
from SynthTrustSlicerLib.lessons import LESSONS, LessonPlayer  # noqa: E402
from SynthTrustSlicerLib.panel_state import PanelInputs  # noqa: E402


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def panel(app):
    opened = open_panel()
    yield opened
    opened.widget.close()


def ui_object_names() -> dict[str, str]:
    root = ElementTree.parse(UI_FILE).getroot()
    return {w.get("name"): w.get("class") for w in root.iter("widget")}


def parameter_fields() -> dict[str, str]:
    tree = ast.parse(MODULE_FILE.read_text(encoding="utf-8"))
    wrapper = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SynthTrustSlicerParameterNode")
    return {n.target.id: ast.unparse(n.annotation) for n in wrapper.body if isinstance(n, ast.AnnAssign)}


# ------------------------------------------------------------------------------------------- names
def test_every_widget_the_module_code_uses_exists_in_the_ui():
    names = ui_object_names()
    used = set()
    sources = sorted(MODULE_DIR.rglob("*.py"))
    assert {"SynthTrustSlicer.py", "panel_state.py", "choices.py", "views.py", "lessons.py"} <= {p.name for p in sources}
    for source in sources:
        text = source.read_text(encoding="utf-8")
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
    # The controller's request builder: Apply's run, the sweep button's sweep, nothing else.
    from SynthTrustSlicerLib.parameters import request_for

    assert request_for(pn, "sweep").settings.sweep.segments == [7, 13]
    run = request_for(pn, "run")
    assert run.settings.kind == "run" and run.settings.sweep is None and run.lesion_segmentation_node == "a placed scar"
    with pytest.raises(ValueError, match="job kind 'train' is unknown; use 'run' or 'sweep'"):
        request_for(pn, "train")


def test_the_scar_placement_arguments_are_the_logics_own_keywords_with_the_panels_values():
    import inspect

    from SynthTrustSlicerLib.logic import SynthTrustSlicerLogic
    from SynthTrustSlicerLib.parameters import scar_parameters

    pn = SimpleNamespace(scarSegments="8,7", transmurality=0.6, extent=0.8, mvo=0.1, scarSeed=4, scarIrregularity=0.2)
    arguments = scar_parameters(pn)
    keywords = set(inspect.signature(SynthTrustSlicerLogic.place_scar_segmentation).parameters)
    assert set(arguments) == keywords - {"self", "reference_volume_node", "anatomy_segmentation_node", "preview"}
    assert arguments == {"segments": [7, 8], "transmurality": 0.6, "extent": 0.8, "mvo": 0.1, "seed": 4,
                         "irregularity": 0.2}


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
