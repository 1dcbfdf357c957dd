"""Grab docs/images/panel.png: the module's real .ui under PySide6 offscreen after a real run.

Only the Slicer-only widgets are stand-ins (Testing/slicer_stand_ins: the Segment Editor and the plot view
show as labelled placeholders). Everything else is what the module's code produces on this machine: the
engine, model, device and segmenter choices come from the module's logic and the manifest
(``SynthTrustSlicerLib.choices``), the line above Apply is the one the panel shows for this machine's
PyTorch, the inpaint engine is selected with its shipped default generator, and Apply runs as in the module:
the panel controller builds the request from the parameter node (``parameters.request_for``) and hands it to
the module's Logic, whose real worker process runs on a 96 mm cube of TCGA-FG-6692 (FLAIR + T1c, from
../shared/data) with a placed tumour; the log, badges, table and plot title are that run's.

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make_panel_screenshot.py [output.png]
"""

from __future__ import annotations

import enum
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY / "Logic"), str(REPOSITORY / "SynthTrustSlicer"), str(REPOSITORY / "Testing"),
                str(REPOSITORY / "scripts")]

from PySide6 import QtWidgets  # noqa: E402

# isort: split
from __feature__ import true_property  # noqa: E402, F401  (before anything imports torch)

OUTPUT = REPOSITORY / "docs" / "images" / "panel.png"
Task = enum.Enum("Task", {"BrainTumor": "brain-tumor"})  # as the module's parameter-node enums


def parameter_node(volumes, lesion, center, reference) -> SimpleNamespace:
    """The fields of the module's parameter node, at their declared defaults, with the chosen nodes."""
    modality = SimpleNamespace
    return SimpleNamespace(
        task=Task.BrainTumor, channel1Volume=volumes[0], channel2Volume=volumes[1], channel3Volume=None,
        channel1Modality=modality(value="flair"), channel2Modality=modality(value="t1c"),
        channel3Modality=modality(value="t1"), anatomySegmentation=None, referenceSegmentation=reference,
        lesionSegmentation=lesion, tumorCenter=center, scarSegments="7,8,13", engine="template", model="",
        modelPath="", steps=25, guidance=False, guidanceWeight=1.0, qualityThreshold=0.0, variants=3, seed=0,
        device="auto", segmentationDevice="auto", segmenters="", segmenterPath="")


def main(path: Path) -> Path:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from render_results_layout import tcga_case
    from slicer_stand_ins import load_panel
    from SynthTrustSlicerLib import dependencies
    from SynthTrustSlicerLib.choices import ChoiceBoxes
    from SynthTrustSlicerLib.lessons import LESSONS, LessonPlayer
    from SynthTrustSlicerLib.logic import SynthTrustSlicerLogic
    from SynthTrustSlicerLib.panel_state import PanelController
    from SynthTrustSlicerLib.parameters import panel_inputs, request_for

    from synthtrust.scene import SceneSession

    session = SceneSession.create()
    temporary = tempfile.TemporaryDirectory()
    logic = SynthTrustSlicerLogic(session, temporary_root=temporary.name)
    volumes, reference, lesion, center_ras = tcga_case(session, logic)
    center = session.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Tumour centre")
    center.AddControlPoint(*center_ras)
    pn = parameter_node(volumes, lesion, center, reference)

    widget, ui = load_panel(REPOSITORY / "Resources" / "UI" / "SynthTrustSlicer.ui")
    widget.setMRMLScene(session.scene)
    for selector, node in (("channel1Selector", volumes[0]), ("channel2Selector", volumes[1]),
                           ("referenceSegmentationSelector", reference), ("lesionSegmentationSelector", lesion),
                           ("tumorCenterSelector", center)):
        getattr(ui, selector).setCurrentNode(node)
    ui.taskComboBox.addItems(["Brain tumour", "Cardiac scar"])  # the module fills these from its enums
    for index, combo in enumerate((ui.channel1ModalityComboBox, ui.channel2ModalityComboBox, ui.channel3ModalityComboBox)):
        combo.addItems(["FLAIR", "T1", "T1c", "T2", "LGE", "Other"])
        combo.currentIndex = (0, 2, 1)[index]
    choices = ChoiceBoxes(ui, logic)
    choices.fill(pn)
    ui.engineComboBox.currentIndex = ui.engineComboBox.findData("inpaint")
    choices.engine_changed(pn)
    lessons = LessonPlayer(LESSONS[0].key)
    ui.lessonComboBox.addItems([lesson.title for lesson in LESSONS])
    ui.lessonStepLabel.text = lessons.html()

    # As the widget builds it, less what needs the Slicer application (dialogs, timer, slice views):
    # ensure_for_run asks nothing when everything is installed and returns the device line for the log.
    controller = PanelController(ui, logic, request_for, choices=choices,
                                 ensure_dependencies=dependencies.ensure_for_run)
    controller.parameter_node = pn
    controller.show_environment()
    controller.refresh(panel_inputs(pn, choices.default_generator(pn)))
    if not ui.applyButton.enabled:
        raise RuntimeError(f"Apply is disabled: {ui.applyButton.toolTip}")
    controller.on_apply_clicked()
    deadline = time.monotonic() + 600
    while controller.busy:  # what the panel's timer does
        if time.monotonic() > deadline:
            controller.cancel(wait=True)
            raise RuntimeError("the run took longer than 10 minutes")
        controller.poll()
        app.processEvents()
        time.sleep(0.2)
    temporary.cleanup()
    if controller.outcome is None:
        raise RuntimeError(f"the run failed: {controller.error}")
    ui.segmentCollapsibleButton.collapsed = False  # its own device box
    ui.teachingCollapsibleButton.collapsed = True
    widget.resize(470, 10)
    widget.show()
    app.processEvents()
    widget.resize(470, widget.sizeHint.height())
    app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise RuntimeError(f"could not write {path}")
    return path


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))
