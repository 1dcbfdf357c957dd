"""``qt`` and ``ctk`` as 3D Slicer's PythonQt names them, built from PySide6.

``qt`` holds every ``Q*`` class of QtCore, QtGui, QtWidgets and QtUiTools under one name (``qt.QTimer``,
``qt.QMessageBox``, ``qt.Qt``), with ``qt.QUiLoader`` knowing the Slicer widget stand-ins. ``ctk`` holds the
CTK stand-ins, among them :class:`ctkMessageBox`, the box ``slicer.util.messageBox`` opens for every error,
warning and confirmation. A real one waits for a click; this one records what it showed in :data:`DIALOGS`
and answers what the test queued (or its default button), so code that asks the user runs offscreen.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path

from PySide6 import QtCore, QtGui, QtUiTools, QtWidgets

from . import SlicerUiLoader, widgets


@dataclass
class ShownDialog:
    """One message box as the user saw it."""

    title: str
    text: str
    detailed_text: str
    buttons: list[str]
    answer: str


@dataclass
class DialogLog:
    """What message boxes showed, and the answers queued for the next ones (``QMessageBox.Ok``, ...)."""

    shown: list[ShownDialog] = field(default_factory=list)
    answers: list = field(default_factory=list)
    grab_to: Path | None = None  # save the next box as PNG (the README's picture of the install prompt)

    def clear(self) -> None:
        self.shown.clear()
        self.answers.clear()
        self.grab_to = None

    @property
    def texts(self) -> list[str]:
        return [dialog.text for dialog in self.shown]


DIALOGS = DialogLog()

_BUTTON_NAMES = {QtWidgets.QMessageBox.Ok: "OK", QtWidgets.QMessageBox.Cancel: "Cancel",
                 QtWidgets.QMessageBox.Yes: "Yes", QtWidgets.QMessageBox.No: "No",
                 QtWidgets.QMessageBox.Retry: "Retry", QtWidgets.QMessageBox.Close: "Close"}


class ctkMessageBox(QtWidgets.QMessageBox):
    """Stand-in for ctkMessageBox (a QMessageBox with a "Don't show again" option). ``slicer.util`` sets its
    properties PythonQt style (``box.text = ...``, ``setattr(box, "detailedText", ...)``), so they are
    Python properties here. ``exec_()`` records the box and returns the queued answer instead of waiting."""

    def _property(getter, setter):  # noqa: N805 - a class-body helper, not a method
        return property(lambda self: getattr(QtWidgets.QMessageBox, getter)(self),
                        lambda self, value: getattr(QtWidgets.QMessageBox, setter)(self, value))

    text = _property("text", "setText")
    windowTitle = _property("windowTitle", "setWindowTitle")  # noqa: N815 - Qt's name
    detailedText = _property("detailedText", "setDetailedText")  # noqa: N815
    informativeText = _property("informativeText", "setInformativeText")  # noqa: N815
    icon = _property("icon", "setIcon")
    standardButtons = _property("standardButtons", "setStandardButtons")  # noqa: N815
    del _property
    dontShowAgainSettingsKey = ""  # noqa: N815 - ctk's name; "don't show again" is never ticked here

    def exec_(self):
        buttons = [button for value, button in _BUTTON_NAMES.items()
                   if QtWidgets.QMessageBox.standardButtons(self) & value]
        if DIALOGS.answers:
            answer = DIALOGS.answers.pop(0)
        else:
            default = self.defaultButton()
            answer = self.standardButton(default) if default is not None else QtWidgets.QMessageBox.Ok
        if DIALOGS.grab_to is not None:
            self._grab(DIALOGS.grab_to)
            DIALOGS.grab_to = None
        DIALOGS.shown.append(ShownDialog(QtWidgets.QMessageBox.windowTitle(self).strip(),
                                         QtWidgets.QMessageBox.text(self), QtWidgets.QMessageBox.detailedText(self),
                                         buttons, _BUTTON_NAMES.get(answer, str(answer))))
        return answer

    exec = exec_

    def _grab(self, path: Path) -> None:
        self.setWindowTitle(self.windowTitle.strip())  # the padding Slicer adds to widen it reads oddly offscreen
        self.show()
        for _ in range(5):
            QtWidgets.QApplication.processEvents()
        self.grab().save(str(path))
        self.hide()


def qt_module() -> types.ModuleType:
    """``qt`` as PythonQt names it."""
    module = types.ModuleType("qt", "PythonQt's qt module, built from PySide6 (test stand-in)")
    for source in (QtCore, QtGui, QtWidgets, QtUiTools):
        for name in dir(source):
            if name.startswith("Q"):
                setattr(module, name, getattr(source, name))
    module.Qt = QtCore.Qt
    module.QUiLoader = SlicerUiLoader
    return module


def ctk_module() -> types.ModuleType:
    """``ctk`` with the CTK stand-ins the module and ``slicer.util`` use."""
    module = types.ModuleType("ctk", "CTK's Python module (test stand-in)")
    module.ctkMessageBox = ctkMessageBox
    for cls in widgets.STAND_INS:
        if cls.__name__.startswith("ctk"):
            setattr(module, cls.__name__, cls)
    return module
