"""Faithful stand-ins for the parts of 3D Slicer that the slicer-core wheel lacks, for tests that run the
module's panel and widget under PySide6 offscreen.

The real ``slicer`` package (slicer-core) gives MRML and ``slicer.util``; what only the Slicer application
has comes from here, written from Slicer 5.10's behaviour as its source shows it (``Base/Python/slicer``):

- :mod:`.widgets`: same-named PySide6 classes for the Slicer/CTK widgets of the ``.ui`` (qMRMLNodeComboBox,
  ctkCollapsibleButton, ...);
- :mod:`.qt_modules`: ``qt`` and ``ctk`` as PythonQt names them (``qt.QTimer``, ``ctk.ctkMessageBox``), with
  message boxes that record what they showed and answer as the test says;
- :mod:`.application`: ``slicer.app`` (signals, cursors, testing mode, layout manager, module manager) and the
  module panel that hosts a scripted module's widget (enter/exit);
- :mod:`.scripted_module`, :mod:`.parameter_node_wrapper`, :mod:`.i18n`: ``slicer.ScriptedLoadableModule``,
  ``slicer.parameterNodeWrapper`` and ``slicer.i18n``;
- :mod:`.packages`: the pip helpers, the PyTorch extension's ``PyTorchUtils`` and an import blocker that
  makes packages look uninstalled (a fresh Slicer);
- :mod:`.environment`: installs all of the above and removes it again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets
from PySide6.QtUiTools import QUiLoader

from .widgets import STAND_INS


class SlicerUiLoader(QUiLoader):
    """QUiLoader that knows the Slicer widget stand-ins, as Slicer's loader knows its designer plugins."""

    def __init__(self, parent=None):
        super().__init__(parent)
        for cls in STAND_INS:
            self.registerCustomWidget(cls)


class UiNamespace:
    """What ``slicer.util.childWidgetVariables`` returns: each named child widget as an attribute."""

    def __init__(self, root: QtWidgets.QWidget):
        for child in root.findChildren(QtCore.QObject):
            if child.objectName():
                setattr(self, child.objectName(), child)


def load_panel(ui_path: str | Path) -> tuple[QtWidgets.QWidget, UiNamespace]:
    """Load the module's .ui with the stand-ins registered; returns the top widget and its namespace."""
    loader = SlicerUiLoader()
    widget = loader.load(str(ui_path))
    if widget is None:
        raise RuntimeError(f"QUiLoader could not load {ui_path}: {loader.errorString()}")
    return widget, UiNamespace(widget)
