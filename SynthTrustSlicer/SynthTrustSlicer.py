"""SynthTrust: put a lesion where you want it, synthesize images with it, segment them, and read how far
the segmenter can be trusted, next to the 3D view.

The four classes of Slicer's scripted-module template; the Logic class is ``SynthTrustSlicerLib.logic``'s
(imported here under its contract name, GUI-free and tested on a real slicer-core scene). The widget binds
the parameter node to the panel and handles placement, layout and teaching; Apply goes from the widget's
panel controller (``SynthTrustSlicerLib.panel_state``, tested offscreen) straight to the Logic, which runs
the work in a worker process and imports its results through the MRML adapter; the controller shows them.
"""

from __future__ import annotations

import contextlib
import enum
import os
from typing import Annotated

import qt
import slicer
import vtk
from slicer import vtkMRMLMarkupsFiducialNode, vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin
from SynthTrustSlicerLib.paths import ensure_core_importable, resource_path

MODULE_DIR = os.path.dirname(os.path.abspath(__file__))
ensure_core_importable(MODULE_DIR)  # a path entry only: the core is imported when first used

from SynthTrustSlicerLib import dependencies  # noqa: E402  (needs the path above)
from SynthTrustSlicerLib.bullseye import format_segments, place_bullseye  # noqa: E402
from SynthTrustSlicerLib.choices import ChoiceBoxes, current_value  # noqa: E402
from SynthTrustSlicerLib.lessons import LESSONS, LessonPlayer  # noqa: E402
from SynthTrustSlicerLib.logic import SynthTrustSlicerLogic  # noqa: E402
from SynthTrustSlicerLib.panel_state import RUNNING, PanelController  # noqa: E402
from SynthTrustSlicerLib.parameters import (  # noqa: E402
    panel_inputs,
    request_for,
    scar_parameters,
    scar_segments,
    tumor_center_ras,
    tumor_parameters,
)
from SynthTrustSlicerLib.views import CompareMode, show_in_slice_views  # noqa: E402

DOCUMENTATION = "https://github.com/synthtrustslicer/SynthTrustSlicer/blob/main/SynthTrustSlicer/README.md"


class SynthTrustSlicer(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("SynthTrust")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Segmentation")]
        self.parent.dependencies = ["Segmentations", "SegmentEditor", "Markups", "Tables", "Plots"]
        self.parent.contributors = ["SynthTrustSlicer developers"]
        self.parent.helpText = _("""
Place a brain tumour or a myocardial scar (parametric, or drawn with the Segment Editor), synthesize
images that carry it, segment them with one or several models, and read per-region Dice, HD95, surface
Dice and the trust factors T1-T5 beside the 3D view. See the <a href="{documentation}">module
documentation</a> and the <a href="https://github.com/synthtrustslicer/SynthTrustSlicer">project page</a>.
""").format(documentation=DOCUMENTATION)
        self.parent.acknowledgementText = _("""
Built on <a href="https://www.slicer.org">3D Slicer</a>, <a href="https://monai.io">MONAI</a> and
<a href="https://pytorch.org">PyTorch</a> (through the PyTorch extension). The sample brain is the MNI
ICBM152 2009a template (McConnell Brain Imaging Centre); label conventions follow BraTS and EMIDEC.
""")
        icon = _resource("Icons/SynthTrustSlicer.png")
        if icon:
            self.parent.icon = qt.QIcon(icon)
        slicer.app.connect("startupCompleted()", registerSampleData)


def _resource(relative: str) -> str:
    try:
        return str(resource_path(MODULE_DIR, relative))
    except FileNotFoundError:
        return ""


def registerSampleData():
    """Brain and heart samples built from local data only (see SynthTrustSlicerLib.sample_data)."""
    from SynthTrustSlicerLib import sample_data

    from synthtrust.scene import SceneSession

    sample_data.register(_resource("Icons/SynthTrustSlicer.png"), SceneSession.from_running_slicer)


class Task(enum.Enum):
    BrainTumor = "brain-tumor"
    CardiacScar = "cardiac-scar"

    def label(self) -> str:
        return {"brain-tumor": _("Brain tumour"), "cardiac-scar": _("Cardiac scar")}[self.value]


class Modality(enum.Enum):
    FLAIR = "flair"
    T1 = "t1"
    T1c = "t1c"
    T2 = "t2"
    LGE = "lge"
    Other = "other"


@parameterNodeWrapper
class SynthTrustSlicerParameterNode:
    """Every choice of the panel, saved with the scene. Engine, model, devices and segmenters are filled at
    run time (their choices come from the core), so they are plain strings set by the widget."""

    task: Task = Task.BrainTumor
    channel1Volume: vtkMRMLScalarVolumeNode
    channel2Volume: vtkMRMLScalarVolumeNode
    channel3Volume: vtkMRMLScalarVolumeNode
    channel1Modality: Modality = Modality.FLAIR
    channel2Modality: Modality = Modality.T1c
    channel3Modality: Modality = Modality.T1
    anatomySegmentation: vtkMRMLSegmentationNode
    referenceSegmentation: vtkMRMLSegmentationNode
    lesionSegmentation: vtkMRMLSegmentationNode
    tumorCenter: vtkMRMLMarkupsFiducialNode
    tumorSizeMm: Annotated[float, WithinRange(5.0, 80.0)] = 28.0
    edemaMm: Annotated[float, WithinRange(0.0, 30.0)] = 8.0
    enhancingRimMm: Annotated[float, WithinRange(0.5, 15.0)] = 3.0
    necrosis: bool = True
    tumorIrregularity: Annotated[float, WithinRange(0.0, 1.0)] = 0.35
    tumorSeed: Annotated[int, WithinRange(0, 2147483647)] = 0
    scarSegments: str = "7,8,13"
    transmurality: Annotated[float, WithinRange(0.05, 1.0)] = 0.5
    extent: Annotated[float, WithinRange(0.1, 1.0)] = 1.0
    mvo: Annotated[float, WithinRange(0.0, 0.8)] = 0.0
    scarIrregularity: Annotated[float, WithinRange(0.0, 1.0)] = 0.3
    scarSeed: Annotated[int, WithinRange(0, 2147483647)] = 0
    engine: str = "template"
    model: str = ""
    modelPath: str = ""
    steps: Annotated[int, WithinRange(1, 1000)] = 25
    guidance: bool = False
    guidanceWeight: Annotated[float, WithinRange(0.0, 10.0)] = 1.0
    qualityThreshold: Annotated[float, WithinRange(0.0, 1.0)] = 0.0
    variants: Annotated[int, WithinRange(1, 50)] = 3
    seed: Annotated[int, WithinRange(0, 2147483647)] = 0
    device: str = "auto"  # synthesis
    segmentationDevice: str = "auto"
    segmenters: str = ""
    segmenterPath: str = ""


class SynthTrustSlicerWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._editedNodes = (None, None, None)  # (lesion, source volume, centre) last handed to the editors
        self._filledTask = None  # the task whose engines, models and segmenters the combos list

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(str(resource_path(MODULE_DIR, "UI/SynthTrustSlicer.ui")))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = SynthTrustSlicerLogic()

        self.bullseye = place_bullseye(self.ui.bullseyePlaceholder)
        self.bullseye.onSelectionChanged = self.onScarSegmentsChanged
        self.resultsBullseye = place_bullseye(self.ui.resultsBullseyePlaceholder)
        self.resultsBullseye.visible = False

        self.choices = ChoiceBoxes(self.ui, self.logic,
                                   batch=lambda: slicer.util.NodeModify(self._parameterNode.parameterNode),
                                   devices=dependencies.device_choices)
        self.pollTimer = qt.QTimer()
        self.pollTimer.interval = 200  # ms: progress feels live, and reading a pipe this often costs nothing
        self.controller = PanelController(self.ui, self.logic, request_for, choices=self.choices,
                                          ensure_dependencies=dependencies.ensure_for_run, guard=self._guard,
                                          timer=self.pollTimer, show_volume=show_in_slice_views)
        self.pollTimer.timeout.connect(self.controller.poll)
        self.controller.results_bullseye = self.resultsBullseye
        self.compare = CompareMode(self.ui.compareModeButton, slicer.app.layoutManager, guard=self._guard)

        self.ui.segmentEditorWidget.setMRMLSegmentEditorNode(self.logic.segment_editor_node())
        self.lessons = LessonPlayer()
        for lesson in LESSONS:
            self.ui.lessonComboBox.addItem(lesson.title, lesson.key)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        ui = self.ui
        ui.previewTumorButton.clicked.connect(lambda: self.onPlaceTumor(preview=True))
        ui.placeTumorButton.clicked.connect(lambda: self.onPlaceTumor(preview=False))
        ui.previewScarButton.clicked.connect(lambda: self.onPlaceScar(preview=True))
        ui.placeScarButton.clicked.connect(lambda: self.onPlaceScar(preview=False))
        ui.engineComboBox.currentIndexChanged.connect(self.onEngineChanged)
        for signal in (ui.modelComboBox.currentIndexChanged, ui.modelPathLineEdit.currentPathChanged,
                       ui.segmenterPathLineEdit.currentPathChanged, ui.segmenterListWidget.itemChanged,
                       ui.deviceComboBox.currentIndexChanged, ui.segmentDeviceComboBox.currentIndexChanged):
            signal.connect(self._storeChoices)
        ui.resultsLayoutButton.clicked.connect(self.onResultsLayout)
        ui.compareModeButton.toggled.connect(lambda on: self.compare.toggled(on, self._compareVolumes))
        ui.lessonComboBox.currentIndexChanged.connect(self.onLessonChanged)
        ui.lessonBackButton.clicked.connect(lambda: (self.lessons.back(), self.lessons.show(self.ui)))
        ui.lessonNextButton.clicked.connect(lambda: (self.lessons.next(), self.lessons.show(self.ui)))
        ui.loadSampleBrainButton.clicked.connect(lambda: self.onLoadSample("brain"))
        ui.loadSampleHeartButton.clicked.connect(lambda: self.onLoadSample("heart"))

        self.initializeParameterNode()
        self.onLessonChanged(0)

    @staticmethod
    def _guard(text: str):
        """Report errors of a GUI action; ``text`` comes translated from the caller (a literal in ``_()``)."""
        return slicer.util.tryWithErrorDisplay(text, waitCursor=True)

    def cleanup(self) -> None:
        if self.controller.busy:
            self.controller.cancel(wait=True)  # never leave a worker running after Slicer closes the module
        self.pollTimer.stop()
        self.removeObservers()

    def enter(self) -> None:
        self.ui.segmentEditorWidget.installKeyboardShortcuts()
        self.initializeParameterNode()
        self.ui.segmentEditorWidget.updateWidgetFromMRML()

    def exit(self) -> None:
        # As Slicer's Segment Editor module does: no effect stays active (e.g. painting) and no shortcut
        # stays installed while another module is shown.
        editor = self.ui.segmentEditorWidget
        editor.setActiveEffect(None)
        editor.uninstallKeyboardShortcuts()
        editor.removeViewObservations()
        self.logic.remove_previews()
        # Unbind the panel (enter() binds it again); going through setParameterNode removes the observer
        # once, where the template's exit() and the next setParameterNode() would both remove it.
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event) -> None:
        if self.controller.state == RUNNING:
            # The run's inputs are going away: stop it; nothing will be imported into the next scene.
            self.controller.log(_("The scene is closing: the run is cancelled and nothing will be imported."))
            self.controller.cancel()
        self.logic.remove_previews()
        self.compare.stop()
        self.compare.uncheck()
        self.controller.forget_results()
        self.ui.segmentEditorWidget.removeViewObservations()
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(SynthTrustSlicerParameterNode(self.logic.getParameterNode()))
        if not self._parameterNode.channel1Volume:
            self._parameterNode.channel1Volume = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")

    def setParameterNode(self, parameterNode: SynthTrustSlicerParameterNode | None) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updatePanel)
        self._parameterNode = parameterNode
        self.controller.parameter_node = parameterNode  # what Apply's request is built from
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updatePanel)
            self.bullseye.setSelection(scar_segments(self._parameterNode))
            self._updatePanel()

    # ----------------------------------------------------------------- panel state
    def _updatePanel(self, caller=None, event=None) -> None:
        pn = self._parameterNode
        if pn is None:
            return
        self._followSelectedNodes(pn)
        if pn.task != self._filledTask:  # models and segmenters depend on the task
            self._filledTask = pn.task
            # tryWithErrorDisplay shows the error and re-raises it; here the panel must go on opening (a
            # local model can still be chosen by path), so the shown error stops at this line.
            with contextlib.suppress(Exception), self._guard(_("Could not list the engines and models.")):
                self.choices.fill(pn)
            self.controller.show_environment()
        self.choices.describe_default_model(pn)
        self.ui.scarSegmentsLabel.text = _("Segments: {s}").format(s=pn.scarSegments or _("none"))
        self.controller.refresh(panel_inputs(pn, self.choices.default_generator(pn)))

    def _storeChoices(self, *unused) -> None:
        self.choices.store(self._parameterNode)

    def onEngineChanged(self, *unused) -> None:
        if self._parameterNode is not None:
            self.choices.engine_changed(self._parameterNode)

    def onScarSegmentsChanged(self, segments: list[int]) -> None:
        if self._parameterNode is None:
            return  # no scene yet (closing): the bullseye click has nowhere to go
        self._parameterNode.scarSegments = format_segments(segments)

    def _followSelectedNodes(self, pn) -> None:
        """Point the Segment Editor at the lesion and the place widget at the centre list when they change."""
        nodes = (pn.lesionSegmentation, pn.channel1Volume, pn.tumorCenter)
        if nodes == self._editedNodes:
            return
        self._editedNodes = nodes
        self.ui.segmentEditorWidget.setSegmentationNode(pn.lesionSegmentation)
        self.ui.segmentEditorWidget.setSourceVolumeNode(pn.channel1Volume)
        self.ui.tumorCenterPlaceWidget.setCurrentNode(pn.tumorCenter)

    # ----------------------------------------------------------------- lesion placement
    def onPlaceTumor(self, preview: bool) -> None:
        with self._guard(_("Could not place the tumour.")):
            pn = self._parameterNode
            self._showPlacement(self.logic.place_tumor_segmentation(
                pn.channel1Volume, tumor_center_ras(pn), tumor_parameters(pn), pn.tumorSeed, preview), preview)

    def onPlaceScar(self, preview: bool) -> None:
        with self._guard(_("Could not place the scar.")):
            pn = self._parameterNode
            if not pn.channel1Volume or not pn.anatomySegmentation:
                raise ValueError(_("Select the LGE volume and the cardiac anatomy segmentation under Inputs."))
            self._showPlacement(self.logic.place_scar_segmentation(
                pn.channel1Volume, pn.anatomySegmentation, preview=preview, **scar_parameters(pn)), preview)

    def _showPlacement(self, result, preview: bool) -> None:
        self.logic.remove_previews()
        if preview:
            node = self.logic.show_preview(result)
            slicer.util.setSliceViewerLayers(background=self._parameterNode.channel1Volume, label=node, labelOpacity=0.6)
            volumes = ", ".join(f"{name} {ml:.1f} mL" for name, ml in self.logic.label_volumes_ml(result).items())
            self.controller.log(_("Preview: {v}. Press Place to add it.").format(v=volumes or _("empty")))
            return
        self._parameterNode.lesionSegmentation = result
        self.controller.log(_("Added '{name}' as the lesion; edit it below if needed.").format(name=result.GetName()))

    # ----------------------------------------------------------------- results
    def onResultsLayout(self) -> None:
        with self._guard(_("Could not show the results layout.")):
            from SynthTrustSlicerLib.results_layout import ResultsNodes, show_results_layout

            nodes = ResultsNodes.of_run(self._lastRun(), self._parameterNode.lesionSegmentation)
            show_results_layout(slicer.app.layoutManager(), nodes)

    def _compareVolumes(self):
        return self._parameterNode.channel1Volume, self._lastRun().synthetic_volume_nodes[0][0]

    def _lastRun(self):
        if self.controller.last_run is None:
            raise ValueError(_("No run to show yet: press Apply in Synthesis first."))
        return self.controller.last_run

    # ----------------------------------------------------------------- teaching
    def onLessonChanged(self, *unused) -> None:
        key = current_value(self.ui.lessonComboBox)
        if key:
            self.lessons.select(key)
            self.lessons.show(self.ui)

    def onLoadSample(self, which: str) -> None:
        with self._guard(_("Could not load the sample {which}.").format(which=which)):
            if which == "brain":
                dependencies.ensure_for_sample_brain()  # the MNI152 template ships inside nilearn
            volume, anatomy = self.logic.load_sample(which)
            with slicer.util.NodeModify(self._parameterNode.parameterNode):
                self._parameterNode.task = Task.BrainTumor if which == "brain" else Task.CardiacScar
                self._parameterNode.channel1Volume = volume
                self._parameterNode.channel1Modality = Modality.T1 if which == "brain" else Modality.LGE
                self._parameterNode.channel2Volume = self._parameterNode.channel3Volume = None
                self._parameterNode.anatomySegmentation = anatomy
            slicer.util.setSliceViewerLayers(background=volume, fit=True)


class SynthTrustSlicerTest(ScriptedLoadableModuleTest):
    """Runs inside Slicer (Developer mode > Reload and Test): the sample heart, a parametric scar, one
    template-engine run and a two-segment sweep on the CPU, checking that inputs stay untouched and results
    arrive in the scene."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_sample_heart_loads_with_its_anatomy()
        self.setUp()
        self.test_scar_run_and_sweep_add_results_and_leave_inputs_untouched()

    def test_sample_heart_loads_with_its_anatomy(self):
        volume, anatomy = SynthTrustSlicerLogic().load_sample("heart")
        self.assertGreater(volume.GetImageData().GetScalarRange()[1], 0)
        self.assertEqual(anatomy.GetSegmentation().GetNumberOfSegments(), 2)

    def test_scar_run_and_sweep_add_results_and_leave_inputs_untouched(self):
        dependencies.ensure_for_run()  # the worker needs PyTorch and MONAI: asks once, as the first Apply does
        logic = SynthTrustSlicerLogic()
        pn = SynthTrustSlicerParameterNode(logic.getParameterNode())
        volume, anatomy = logic.load_sample("heart")
        pn.task, pn.channel1Volume, pn.channel1Modality, pn.anatomySegmentation = (
            Task.CardiacScar, volume, Modality.LGE, anatomy)
        pn.scarSegments, pn.variants, pn.device, pn.segmentationDevice = "7,8,13", 2, "cpu", "cpu"
        before = slicer.util.arrayFromVolume(volume).copy()
        def placeScar(preview: bool):
            return logic.place_scar_segmentation(volume, anatomy, preview=preview, **scar_parameters(pn))

        preview = placeScar(preview=True)
        self.assertGreater(int((preview.array == 3).sum()), 0, "the preview has no scar voxels")
        pn.lesionSegmentation = placeScar(preview=False)
        self.delayDisplay("Scar placed; running the template engine")
        outcome = logic.run(request_for(pn, "run"))
        self.assertEqual(len(outcome.synthetic_volume_nodes), 2)
        self.assertGreater(outcome.table_node.GetNumberOfRows(), 0)
        pn.scarSegments, pn.variants = "7,8", 1
        self.delayDisplay("Sweeping AHA segments 7 and 8")
        sweep = logic.run(request_for(pn, "sweep"))
        self.assertEqual(sorted(sweep.segment_dice), [7, 8])
        self.assertEqual(sweep.plot_node.GetTitle(), "Dice per AHA segment")
        self.assertTrue((slicer.util.arrayFromVolume(volume) == before).all(), "the input volume changed")
        self.delayDisplay("Test passed")
