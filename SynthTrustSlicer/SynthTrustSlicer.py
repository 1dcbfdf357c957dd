"""SynthTrust: put a lesion where you want it, synthesize images with it, segment them, and read how far
the segmenter can be trusted, next to the 3D view.

The four classes of Slicer's scripted-module template. The widget only reads the parameter node, calls the
logic and shows results; the enabling rules and Apply <-> Cancel live in ``SynthTrustSlicerLib.panel_state``
(tested offscreen), the computation in ``SynthTrustSlicerLib.logic`` and a worker process.
"""

from __future__ import annotations

import enum
import logging
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
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin
from SynthTrustSlicerLib.paths import ensure_core_importable, resource_path

MODULE_DIR = os.path.dirname(os.path.abspath(__file__))
ensure_core_importable(MODULE_DIR)  # a path entry only: the core is imported when first used

from SynthTrustSlicerLib import dependencies  # noqa: E402  (needs the path above)
from SynthTrustSlicerLib.bullseye import BullseyeWidget, format_segments, parse_segments  # noqa: E402
from SynthTrustSlicerLib.lessons import LESSONS, LessonPlayer  # noqa: E402
from SynthTrustSlicerLib.panel_state import PanelController, PanelInputs  # noqa: E402

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
    """Every choice of the panel, saved with the scene. Engine, model, device and segmenters are filled at
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
    device: str = "auto"
    segmenters: str = ""
    segmenterPath: str = ""


class SynthTrustSlicerWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._previousLayout = None
        self._editedNodes = (None, None, None)  # (lesion, source volume, centre) last handed to the editors
        self._filledTask = None  # the task whose engines, models and segmenters the combos list

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(str(resource_path(MODULE_DIR, "UI/SynthTrustSlicer.ui")))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = SynthTrustSlicerLogic()

        self.bullseye = self._placeBullseye(self.ui.bullseyePlaceholder)
        self.bullseye.onSelectionChanged = self.onScarSegmentsChanged
        self.resultsBullseye = self._placeBullseye(self.ui.resultsBullseyePlaceholder)
        self.resultsBullseye.visible = False

        self.pollTimer = qt.QTimer()
        self.pollTimer.interval = 200  # ms: progress feels live, and reading a pipe this often costs nothing
        self.controller = PanelController(self.ui, self._startJob, guard=self._guard, timer=self.pollTimer,
                                          on_results=self._showResultsInViews)
        self.pollTimer.timeout.connect(self.controller.poll)
        self.controller.results_bullseye = self.resultsBullseye

        self.ui.segmentEditorWidget.setMRMLSegmentEditorNode(self.logic.getSegmentEditorNode())
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
        ui.modelComboBox.currentIndexChanged.connect(self._storeChoices)
        ui.modelPathLineEdit.currentPathChanged.connect(self._storeChoices)
        ui.segmenterPathLineEdit.currentPathChanged.connect(self._storeChoices)
        ui.segmenterListWidget.itemChanged.connect(self._storeChoices)
        ui.deviceComboBox.currentIndexChanged.connect(lambda *args: self._syncDevice(ui.deviceComboBox))
        ui.segmentDeviceComboBox.currentIndexChanged.connect(lambda *args: self._syncDevice(ui.segmentDeviceComboBox))
        ui.resultsLayoutButton.clicked.connect(self.onResultsLayout)
        ui.compareModeButton.toggled.connect(self.onCompareMode)
        ui.lessonComboBox.currentIndexChanged.connect(self.onLessonChanged)
        ui.lessonBackButton.clicked.connect(lambda: self._showLessonStep(self.lessons.back()))
        ui.lessonNextButton.clicked.connect(lambda: self._showLessonStep(self.lessons.next()))
        ui.loadSampleBrainButton.clicked.connect(lambda: self.onLoadSample("brain"))
        ui.loadSampleHeartButton.clicked.connect(lambda: self.onLoadSample("heart"))

        self.initializeParameterNode()
        self.onLessonChanged(0)

    def _placeBullseye(self, placeholder) -> BullseyeWidget:
        layout = qt.QVBoxLayout(placeholder)
        layout.setContentsMargins(0, 0, 0, 0)
        bullseye = BullseyeWidget()
        layout.addWidget(bullseye)
        return bullseye

    @staticmethod
    def _guard(text: str):
        return slicer.util.tryWithErrorDisplay(_(text), waitCursor=True)

    def cleanup(self) -> None:
        if self.controller.busy:
            self.controller.cancel()  # never leave a worker running after Slicer closes the module
        self.pollTimer.stop()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updatePanel)

    def onSceneStartClose(self, caller, event) -> None:
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.channel1Volume:
            self._parameterNode.channel1Volume = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")

    def setParameterNode(self, parameterNode: SynthTrustSlicerParameterNode | None) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updatePanel)
        self._parameterNode = parameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updatePanel)
            self.bullseye.setSelection(self._scarSegments())
            self._updatePanel()

    # ----------------------------------------------------------------- panel state
    def _scarSegments(self) -> list[int]:
        try:
            return parse_segments(self._parameterNode.scarSegments)
        except ValueError:
            return []

    def _updatePanel(self, caller=None, event=None) -> None:
        pn = self._parameterNode
        if pn is None:
            return
        self._followSelectedNodes(pn)
        if pn.task != self._filledTask:  # models and segmenters depend on the task
            self._filledTask = pn.task
            self._fillChoices()
        channels = [v.GetName() for v in (pn.channel1Volume, pn.channel2Volume, pn.channel3Volume) if v]
        self.ui.scarSegmentsLabel.text = _("Segments: {s}").format(s=pn.scarSegments or _("none"))
        self.controller.refresh(PanelInputs(
            channels=channels, task=pn.task.value, lesion_segmentation=pn.lesionSegmentation is not None,
            anatomy_segmentation=pn.anatomySegmentation is not None,
            tumor_center=pn.tumorCenter is not None and pn.tumorCenter.GetNumberOfControlPoints() > 0,
            scar_segments=self._scarSegments(), engine=pn.engine, engine_needs_model=pn.engine != "template",
            model_chosen=bool(pn.model or pn.modelPath),
            segmenters=len([s for s in pn.segmenters.split(",") if s]) + bool(pn.segmenterPath),
            guidance=pn.guidance))

    def _fillChoices(self) -> None:
        """Engines, models, segmenters and devices from the core (they depend on the task)."""
        with self._guard("Could not list the engines and models."):
            ui, pn, task = self.ui, self._parameterNode, self._parameterNode.task.value
            self._refill(ui.engineComboBox, [(name, name) for name, _d in self.logic.engines()], pn.engine)
            self._engineDescriptions = dict(self.logic.engines())
            generators = [("", _("(default for the task)"))] + [
                (m["id"], m["title"]) for m in self.logic.generatorModels(task)]
            self._refill(ui.modelComboBox, generators, pn.model)
            devices = self.logic.devices()
            self._refill(ui.deviceComboBox, devices, pn.device)
            self._refill(ui.segmentDeviceComboBox, devices, pn.device)
            ui.segmenterListWidget.clear()
            chosen = set(filter(None, pn.segmenters.split(",")))
            for index, model in enumerate(self.logic.segmenterModels(task)):
                item = qt.QListWidgetItem(f"{model['title']} ({', '.join(model['channels'])})")
                item.setData(qt.Qt.UserRole, model["id"])
                item.setFlags(item.flags() | qt.Qt.ItemIsUserCheckable)
                item.setCheckState(qt.Qt.Checked if model["id"] in chosen or (not chosen and index == 0)
                                   else qt.Qt.Unchecked)
                ui.segmenterListWidget.addItem(item)
            self.onEngineChanged()

    @staticmethod
    def _refill(combo, items, current) -> None:
        combo.blockSignals(True)
        combo.clear()
        for value, text in items:
            combo.addItem(text, value)
        index = combo.findData(current)
        combo.currentIndex = index if index >= 0 else 0
        combo.blockSignals(False)

    def _storeChoices(self, *unused) -> None:
        ui, pn = self.ui, self._parameterNode
        if pn is None:
            return
        checked = [ui.segmenterListWidget.item(i) for i in range(ui.segmenterListWidget.count)]
        with slicer.util.NodeModify(pn.parameterNode):
            pn.engine = ui.engineComboBox.currentData or "template"
            pn.model = ui.modelComboBox.currentData or ""
            pn.modelPath = ui.modelPathLineEdit.currentPath
            pn.segmenterPath = ui.segmenterPathLineEdit.currentPath
            pn.segmenters = ",".join(item.data(qt.Qt.UserRole) for item in checked if item.checkState() == qt.Qt.Checked)
            pn.device = ui.deviceComboBox.currentData or "auto"

    def _syncDevice(self, source) -> None:
        # One worker runs synthesis and segmentation, so both combos show the one device it will use.
        for combo in (self.ui.deviceComboBox, self.ui.segmentDeviceComboBox):
            if combo is not source:
                combo.blockSignals(True)
                combo.currentIndex = source.currentIndex
                combo.blockSignals(False)
        self._storeChoices()

    def onEngineChanged(self, *unused) -> None:
        engine = self.ui.engineComboBox.currentData or "template"
        self.ui.engineDescriptionLabel.text = getattr(self, "_engineDescriptions", {}).get(engine, "")
        for name in ("modelComboBox", "modelPathLineEdit", "stepsSpinBox", "guidanceCheckBox"):
            getattr(self.ui, name).enabled = engine != "template"  # the template engine has no model or steps
        self._storeChoices()

    def onScarSegmentsChanged(self, segments: list[int]) -> None:
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
        with self._guard("Could not place the tumour."):
            self._showPlacement(self.logic.placeTumor(self._parameterNode, preview), preview)

    def onPlaceScar(self, preview: bool) -> None:
        with self._guard("Could not place the scar."):
            self._showPlacement(self.logic.placeScar(self._parameterNode, preview), preview)

    def _showPlacement(self, result, preview: bool) -> None:
        self.logic.removePreview()
        if preview:
            node = self.logic.showPreview(result)
            slicer.util.setSliceViewerLayers(background=self._parameterNode.channel1Volume, label=node, labelOpacity=0.6)
            volumes = ", ".join(f"{name} {ml:.1f} mL" for name, ml in self.logic.labelVolumesMl(result).items())
            self.controller.log(_("Preview: {v}. Press Place to add it.").format(v=volumes or _("empty")))
            return
        self._parameterNode.lesionSegmentation = result
        self.controller.log(_("Added '{name}' as the lesion; edit it below if needed.").format(name=result.GetName()))

    # ----------------------------------------------------------------- runs
    def _startJob(self, onMessage, onFinished):
        status = dependencies.ensure_all()
        self.controller.log(status)
        request = self.logic.runRequest(self._parameterNode)
        return self.logic.startRun(request, onMessage, onFinished)

    def _showResultsInViews(self, outcome) -> None:
        self._lastOutcome = outcome
        if outcome.plot_node is not None:
            plotView = self.logic.getPanelPlotViewNode()
            plotView.SetPlotChartNodeID(outcome.plot_node.GetID())
            self.ui.resultsPlotView.setMRMLScene(slicer.mrmlScene)
            self.ui.resultsPlotView.setMRMLPlotViewNode(plotView)
        if outcome.synthetic_volume_nodes:
            slicer.util.setSliceViewerLayers(background=outcome.synthetic_volume_nodes[0][0], fit=True)

    def onResultsLayout(self) -> None:
        with self._guard("Could not show the results layout."):
            from SynthTrustSlicerLib.render import show_results_layout

            show_results_layout(slicer.app.layoutManager(), self.logic.resultsNodes(self._lastRun(), self._parameterNode))

    def onCompareMode(self, on: bool) -> None:
        with self._guard("Could not switch the compare mode."):
            layoutManager = slicer.app.layoutManager()
            if not on:
                if self._previousLayout is not None:
                    layoutManager.setLayout(self._previousLayout)
                return
            from SynthTrustSlicerLib.views import show_side_by_side

            outcome = self._lastRun()
            self._previousLayout = layoutManager.layout
            show_side_by_side(layoutManager, self._parameterNode.channel1Volume, outcome.synthetic_volume_nodes[0][0])

    def _lastRun(self):
        outcome = getattr(self, "_lastOutcome", None)
        if outcome is None or not outcome.synthetic_volume_nodes:
            raise ValueError("No run to show yet: press Apply in Synthesis first.")
        return outcome

    # ----------------------------------------------------------------- teaching
    def onLessonChanged(self, *unused) -> None:
        key = self.ui.lessonComboBox.currentData
        if key:
            self._showLessonStep(self.lessons.select(key))

    def _showLessonStep(self, step) -> None:
        self.ui.lessonStepLabel.text = self.lessons.html()
        self.ui.lessonBackButton.enabled = not self.lessons.at_start
        self.ui.lessonNextButton.enabled = not self.lessons.at_end
        section = getattr(self.ui, f"{step.focus}CollapsibleButton", None)
        if section is not None:
            section.collapsed = False  # open the section the step talks about

    def onLoadSample(self, which: str) -> None:
        with self._guard(f"Could not load the sample {which}."):
            volume, anatomy = self.logic.loadSample(which)
            with slicer.util.NodeModify(self._parameterNode.parameterNode):
                self._parameterNode.task = Task.BrainTumor if which == "brain" else Task.CardiacScar
                self._parameterNode.channel1Volume = volume
                self._parameterNode.channel1Modality = Modality.T1 if which == "brain" else Modality.LGE
                self._parameterNode.channel2Volume = self._parameterNode.channel3Volume = None
                self._parameterNode.anatomySegmentation = anatomy
            slicer.util.setSliceViewerLayers(background=volume, fit=True)


class SynthTrustSlicerLogic(ScriptedLoadableModuleLogic):
    """Slicer-facing logic: parameter node in, Lib logic (``SynthTrustSlicerLib.logic``) does the work.
    Usable without the widget: ``SynthTrustSlicerLogic().run(request)`` blocks until the run is imported."""

    PREVIEW_NAME = "SynthTrust lesion preview"

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        self._core = None

    @property
    def core(self):
        """Created on first use: it imports numpy and the core, which opening Slicer should not pay for."""
        if self._core is None:
            from SynthTrustSlicerLib.logic import SynthTrustSlicerLogic as LibLogic

            from synthtrust.scene import SceneSession

            self._core = LibLogic(session=SceneSession.from_running_slicer())
        return self._core

    def getParameterNode(self) -> SynthTrustSlicerParameterNode:
        return SynthTrustSlicerParameterNode(super().getParameterNode())

    def getSegmentEditorNode(self):
        return self._singleton("vtkMRMLSegmentEditorNode", "SynthTrustSegmentEditor")

    def getPanelPlotViewNode(self):
        return self._singleton("vtkMRMLPlotViewNode", "SynthTrustPanelPlot")

    @staticmethod
    def _singleton(className: str, tag: str):
        node = slicer.mrmlScene.GetSingletonNode(tag, className)
        if node is None:
            node = slicer.mrmlScene.CreateNodeByClass(className)
            node.UnRegister(None)
            node.SetSingletonTag(tag)
            node = slicer.mrmlScene.AddNode(node)
        return node

    def engines(self):
        return self.core.engines()

    def generatorModels(self, task: str):
        return self.core.generator_models(task)

    def segmenterModels(self, task: str):
        return self.core.segmenter_models(task)

    def devices(self):
        return self.core.devices()

    def placeTumor(self, pn: SynthTrustSlicerParameterNode, preview: bool = False):
        if not pn.channel1Volume or not pn.tumorCenter or pn.tumorCenter.GetNumberOfControlPoints() < 1:
            raise ValueError("Select the first input volume and a tumour centre point.")
        center = [0.0, 0.0, 0.0]
        pn.tumorCenter.GetNthControlPointPositionWorld(0, center)
        parameters = {"size_mm": pn.tumorSizeMm, "edema_mm": pn.edemaMm, "enhancing_rim_mm": pn.enhancingRimMm,
                      "necrosis": pn.necrosis, "irregularity": pn.tumorIrregularity}
        if pn.anatomySegmentation is not None:
            parameters["brain_mask_node"] = pn.anatomySegmentation
        return self.core.place_tumor_segmentation(pn.channel1Volume, center, parameters, pn.tumorSeed, preview)

    def placeScar(self, pn: SynthTrustSlicerParameterNode, preview: bool = False):
        if not pn.channel1Volume or not pn.anatomySegmentation:
            raise ValueError("Select the LGE volume and the cardiac anatomy segmentation under Inputs.")
        return self.core.place_scar_segmentation(
            pn.channel1Volume, pn.anatomySegmentation, parse_segments(pn.scarSegments), pn.transmurality,
            pn.extent, pn.mvo, pn.scarSeed, pn.scarIrregularity, preview)

    def showPreview(self, labels):
        from synthtrust.scene import add_volume

        node = add_volume(self.core.session, labels, self.PREVIEW_NAME, label_map=True)
        node.SetAttribute("SynthTrust.preview", "1")  # removed again by removePreview, never saved as a result
        return node

    def removePreview(self) -> None:
        for node in slicer.util.getNodesByClass("vtkMRMLLabelMapVolumeNode"):
            if node.GetAttribute("SynthTrust.preview") == "1":
                slicer.mrmlScene.RemoveNode(node)

    @staticmethod
    def labelVolumesMl(labels) -> dict:
        import numpy as np

        values, counts = np.unique(labels.array[labels.array > 0], return_counts=True)
        return {f"label {int(v)}": float(c) * labels.voxel_volume_ml for v, c in zip(values, counts, strict=True)}

    def runRequest(self, pn: SynthTrustSlicerParameterNode):
        from SynthTrustSlicerLib.logic import RunRequest

        pairs = [(v, m) for v, m in ((pn.channel1Volume, pn.channel1Modality), (pn.channel2Volume, pn.channel2Modality),
                                     (pn.channel3Volume, pn.channel3Modality)) if v]
        segmenters = [s for s in pn.segmenters.split(",") if s] + ([pn.segmenterPath] if pn.segmenterPath else [])
        return RunRequest(
            volume_nodes=[v for v, _m in pairs], modalities=[m.value for _v, m in pairs],
            lesion_segmentation_node=pn.lesionSegmentation, anatomy_segmentation_node=pn.anatomySegmentation,
            reference_segmentation_node=pn.referenceSegmentation, task=pn.task.value, engine=pn.engine,
            model=pn.modelPath or pn.model, steps=pn.steps, guidance=pn.guidanceWeight if pn.guidance else 0.0,
            quality_threshold=pn.qualityThreshold or None, variants=pn.variants, seed=pn.seed, device=pn.device,
            segmenters=segmenters)

    def startRun(self, request, onMessage=None, onFinished=None):
        return self.core.start_run(request, onMessage, onFinished)

    def run(self, request, onMessage=None):
        """Blocking run for scripts and tests; raises on failure (the scene is then unchanged)."""
        dependencies.ensure_all()
        return self.core.run(request, onMessage or (lambda message: logging.debug(message)))

    def resultsNodes(self, outcome, pn: SynthTrustSlicerParameterNode):
        from SynthTrustSlicerLib.render import ResultsNodes

        predicted = outcome.prediction_segmentation_nodes[0] if outcome.prediction_segmentation_nodes else None
        return ResultsNodes(volume=outcome.synthetic_volume_nodes[0][0], intended=pn.lesionSegmentation,
                            predicted=predicted, table=outcome.table_node, plot=outcome.plot_node)

    def loadSample(self, which: str):
        from SynthTrustSlicerLib import sample_data

        loader = sample_data.load_sample_brain if which == "brain" else sample_data.load_sample_heart
        return loader(self.core.session)


class SynthTrustSlicerTest(ScriptedLoadableModuleTest):
    """Runs inside Slicer (Developer mode > Reload and Test): the sample heart, a parametric scar and one
    template-engine run on the CPU, checking that inputs stay untouched and results arrive in the scene."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_sample_heart_loads_with_its_anatomy()
        self.setUp()
        self.test_scar_run_adds_results_and_leaves_inputs_untouched()

    def test_sample_heart_loads_with_its_anatomy(self):
        volume, anatomy = SynthTrustSlicerLogic().loadSample("heart")
        self.assertGreater(volume.GetImageData().GetScalarRange()[1], 0)
        self.assertEqual(anatomy.GetSegmentation().GetNumberOfSegments(), 2)

    def test_scar_run_adds_results_and_leaves_inputs_untouched(self):
        logic = SynthTrustSlicerLogic()
        pn = logic.getParameterNode()
        volume, anatomy = logic.loadSample("heart")
        pn.task, pn.channel1Volume, pn.channel1Modality, pn.anatomySegmentation = (
            Task.CardiacScar, volume, Modality.LGE, anatomy)
        pn.scarSegments, pn.variants, pn.device = "7,8,13", 2, "cpu"
        before = slicer.util.arrayFromVolume(volume).copy()
        preview = logic.placeScar(pn, preview=True)
        self.assertGreater(int((preview.array == 3).sum()), 0, "the preview has no scar voxels")
        pn.lesionSegmentation = logic.placeScar(pn)
        self.delayDisplay("Scar placed; running the template engine")
        outcome = logic.run(logic.runRequest(pn))
        self.assertEqual(len(outcome.synthetic_volume_nodes), 2)
        self.assertGreater(outcome.table_node.GetNumberOfRows(), 0)
        self.assertTrue((slicer.util.arrayFromVolume(volume) == before).all(), "the input volume changed")
        self.delayDisplay("Test passed")
