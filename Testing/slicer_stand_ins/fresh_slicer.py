"""The module's first run on a fresh 3D Slicer: no PyTorch, MONAI or nilearn in Slicer's Python.

Run as ``python -m slicer_stand_ins.fresh_slicer OUT_FOLDER`` (from ``Testing/``) in a process of its own,
so that the blocked packages were never imported: it opens the panel, loads the sample heart, places a
scar, presses Apply, answers the install question (declined once, then accepted; the run that then starts is
cancelled), and writes what it saw
to ``OUT_FOLDER/fresh_slicer.json``, with pictures of the panel's Synthesis section and of the question
(``first_run_panel.png``, ``first_run_prompt.png``; the README shows them). A second round runs without the
PyTorch extension. ``Testing/unit/test_widget_fresh_slicer.py`` reads the report.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

BLOCKED = ("torch", "monai", "nilearn")
LEFT = None  # Qt.LeftButton, set once PySide6 is imported (after true_property)


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _grab(widget, path: Path) -> None:
    from PySide6 import QtWidgets

    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    widget.grab().save(str(path))


def first_run(out: Path) -> dict:
    from PySide6 import QtWidgets
    from PySide6.QtTest import QTest

    from slicer_stand_ins.environment import install

    report: dict = {}
    environment = install(blocked=BLOCKED)
    try:
        panel = environment.open_module()
        widget, ui = panel.widget, panel.widget.ui
        report["segmenters"] = [ui.segmenterListWidget.item(i).text() for i in range(ui.segmenterListWidget.count)]
        report["engines"] = [ui.engineComboBox.itemText(i) for i in range(ui.engineComboBox.count)]
        report["generators"] = [ui.modelComboBox.itemText(i) for i in range(ui.modelComboBox.count)]
        report["status_before"] = ui.environmentStatusLabel.text
        report["dialogs_on_open"] = environment.dialogs.texts
        QTest.mouseClick(ui.loadSampleHeartButton, LEFT)
        widget._parameterNode.variants = 1
        QTest.mouseClick(ui.placeScarButton, LEFT)
        report["apply_enabled"] = ui.applyButton.enabled
        report["apply_tooltip"] = ui.applyButton.toolTip
        panel.resize(430, 1000)
        ui.synthesisCollapsibleButton.collapsed = False
        _grab(ui.synthesisCollapsibleButton, out / "first_run_panel.png")  # the status line above Apply

        environment.dialogs.answers[:] = [QtWidgets.QMessageBox.Cancel]
        QTest.mouseClick(ui.applyButton, LEFT)
        report["declined"] = {"dialogs": [d.__dict__ for d in environment.dialogs.shown],
                              "busy": widget.controller.busy, "pip": list(environment.pip.calls),
                              "torch": list(environment.torch.calls)}
        environment.dialogs.clear()
        environment.dialogs.answers[:] = [QtWidgets.QMessageBox.Ok]
        environment.dialogs.grab_to = out / "first_run_prompt.png"
        QTest.mouseClick(ui.applyButton, LEFT)
        report["accepted"] = {"dialogs": [d.__dict__ for d in environment.dialogs.shown],
                              "busy": widget.controller.busy, "pip": list(environment.pip.calls),
                              "torch": list(environment.torch.calls), "log": ui.logTextEdit.plainText,
                              "status": ui.environmentStatusLabel.text,
                              "devices": [ui.deviceComboBox.itemData(i) for i in range(ui.deviceComboBox.count)]}
        # The run goes on in the worker; test_widget_panel follows one to its results, here it is cancelled.
        widget.controller.cancel(wait=True)
        report["after_cancel_log"] = ui.logTextEdit.plainText
        report["missing_after_install"] = [name for name in BLOCKED[:2] if not _importable(name)]
    finally:
        environment.uninstall()
    return report


def without_the_pytorch_extension() -> dict:
    from PySide6.QtTest import QTest

    from slicer_stand_ins.environment import install

    environment = install(blocked=BLOCKED, pytorch_extension=False)
    try:
        widget = environment.open_module().widget
        QTest.mouseClick(widget.ui.loadSampleHeartButton, LEFT)
        QTest.mouseClick(widget.ui.placeScarButton, LEFT)
        QTest.mouseClick(widget.ui.applyButton, LEFT)
        return {"dialogs": environment.dialogs.texts, "busy": widget.controller.busy}
    finally:
        environment.uninstall()


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import PySide6.QtCore  # noqa: F401 - true_property must come before anything imports torch
    from __feature__ import true_property  # noqa: F401
    from PySide6 import QtWidgets

    global LEFT
    LEFT = PySide6.QtCore.Qt.LeftButton
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    out.mkdir(parents=True, exist_ok=True)
    report = {"first_run": first_run(out), "no_extension": without_the_pytorch_extension()}
    (out / "fresh_slicer.json").write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    testing = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(testing), str(testing.parent / "Logic")]
    main(Path(sys.argv[1]))
