"""Grab docs/images/panel.png: the module's real .ui under PySide6 offscreen, Slicer-only widgets replaced
by the declared stand-ins of Testing/slicer_stand_ins (the Segment Editor and plot view appear as
labelled placeholders), node selectors filled from a real slicer-core scene, and the panel controller
showing a finished run's results while a second run is in progress.

Usage: QT_QPA_PLATFORM=offscreen python scripts/make_panel_screenshot.py [output.png]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY / "Logic"), str(REPOSITORY / "SynthTrustSlicer"), str(REPOSITORY / "Testing")]

from PySide6 import QtWidgets  # noqa: E402

# isort: split
from __feature__ import true_property  # noqa: E402, F401  (before anything imports torch)

OUTPUT = REPOSITORY / "docs" / "images" / "panel.png"


def build_scene():
    import numpy as np

    from synthtrust.imaging.image import Image
    from synthtrust.scene import SceneSession, add_table, add_volume

    session = SceneSession.create()
    for name in ("BraTS FLAIR", "BraTS T1c"):
        add_volume(session, Image.from_array(np.zeros((4, 4, 4), np.float32)), name)
    for name in ("Brain mask", "Tumour (seed 0)"):
        session.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    session.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Tumour centre")
    rows = [{"case": f"v{v}", "region": region, "Dice": dice, "HD95 (mm)": hd, "Surface Dice": sd, "T1": 0.91}
            for v, (region, dice, hd, sd) in enumerate([("WT", 0.86, 3.2, 0.91), ("TC", 0.79, 4.1, 0.84),
                                                        ("ET", 0.71, 5.0, 0.77)], start=1)]
    table = add_table(session, rows, "SynthTrust run 1: results",
                      {"Dice": "2|A∩B| / (|A|+|B|)", "T1": "T1 stability: 1 - SD(Dice over variants) / 0.5"})
    return session, table


def main(path: Path) -> Path:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from slicer_stand_ins import load_panel
    from SynthTrustSlicerLib.bullseye import BullseyeWidget
    from SynthTrustSlicerLib.lessons import LESSONS, LessonPlayer
    from SynthTrustSlicerLib.panel_state import PanelController, PanelInputs

    session, table = build_scene()
    widget, ui = load_panel(REPOSITORY / "Resources" / "UI" / "SynthTrustSlicer.ui")
    widget.setMRMLScene(session.scene)
    for selector, name in (("channel1Selector", "BraTS FLAIR"), ("channel2Selector", "BraTS T1c"),
                           ("anatomySegmentationSelector", "Brain mask"), ("lesionSegmentationSelector", "Tumour (seed 0)"),
                           ("tumorCenterSelector", "Tumour centre")):
        getattr(ui, selector).setCurrentNode(session.node_by_name(name))
    ui.taskComboBox.addItems(["Brain tumour", "Cardiac scar"])
    for index, combo in enumerate((ui.channel1ModalityComboBox, ui.channel2ModalityComboBox, ui.channel3ModalityComboBox)):
        combo.addItems(["FLAIR", "T1", "T1c", "T2", "LGE", "Other"])
        combo.currentIndex = (0, 2, 1)[index]
    ui.engineComboBox.addItems(["template", "inpaint", "conditional"])
    ui.engineDescriptionLabel.text = "Pastes the lesion's intensities from the image's own tissue statistics: seconds, no model."
    ui.modelComboBox.addItem("(default for the task)")
    for combo in (ui.deviceComboBox, ui.segmentDeviceComboBox):
        combo.addItems(["Auto (GPU: NVIDIA H100 80GB HBM3, 79.1 GiB)", "CPU"])
    for title in ("Brain tumour UNet (flair, t1c)", "Brain tumour UNet (t1)"):
        QtWidgets.QListWidgetItem(title, ui.segmenterListWidget)
    bullseye = BullseyeWidget()
    QtWidgets.QVBoxLayout(ui.bullseyePlaceholder).addWidget(bullseye)
    lessons = LessonPlayer(LESSONS[0].key)
    ui.lessonComboBox.addItems([lesson.title for lesson in LESSONS])
    ui.lessonStepLabel.text = lessons.html()

    jobs = []

    def start_job(on_message, on_finished):
        jobs.append(SimpleNamespace(on_message=on_message, on_finished=on_finished, poll=lambda: True, cancel=lambda: None))
        return jobs[-1]

    controller = PanelController(ui, start_job)
    controller.refresh(PanelInputs(channels=["BraTS FLAIR", "BraTS T1c"], lesion_segmentation=True, segmenters=1,
                                   anatomy_segmentation=True, tumor_center=True))
    audits = {"conditioning_fidelity": {"dice": 0.84, "passed": True}, "hallucination": {"volume_ml": 0.0},
              "off_target_change": {"voxels_changed": 0}}
    controller.on_apply_clicked()
    jobs[-1].on_finished(SimpleNamespace(table_node=table, results={"variants": [
        {"predictions": [{"audits": audits}]} for _ in range(3)]}), None)
    controller.on_apply_clicked()
    jobs[-1].on_message({"type": "log", "level": "info", "message": "synthesizing variant 2 of 3 on GPU"})
    jobs[-1].on_message({"type": "progress", "stage": "synthesis", "step": 12, "total": 50, "eta_s": 34.0})
    ui.segmentCollapsibleButton.collapsed = True
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
