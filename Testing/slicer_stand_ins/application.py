"""``slicer.app`` and the host of a scripted module's widget, as 3D Slicer 5.10 behaves.

- :class:`SlicerApplication`: what the module and ``slicer.util`` ask of ``slicer.app``: the scene and
  application logic (a real slicer-core session), ``testingEnabled()`` / ``commandOptions()``, override
  cursors, top-level widgets, the layout manager, the module manager, and PythonQt-style
  ``connect("startupCompleted()", slot)`` on the signals Slicer emits.
- :class:`LayoutManager`: ``layout`` / ``setLayout``, the Red/Yellow/Green slice widgets over real MRML slice
  logics, ``layoutLogic()`` with the scene's layout node, ``mrmlSliceLogics()``.
- :class:`ModulePanel`: the qSlicerScriptedLoadableModuleWidget Slicer puts a module's widget in: it
  calls ``setup()`` once, ``enter()`` when the module is shown and ``exit()`` when another one is, and says
  ``isEntered`` in between.
"""

from __future__ import annotations

import re

import vtk
from PySide6 import QtCore, QtWidgets

SLICE_VIEWS = ("Red", "Yellow", "Green")
CONVENTIONAL_LAYOUT = 2  # vtkMRMLLayoutNode.SlicerLayoutConventionalView


def connect_by_signature(qobject: QtCore.QObject, signature: str, slot) -> None:
    """PythonQt's ``obj.connect("name(args)", slot)``: the signal by its C++ signature."""
    name = re.match(r"\s*(\w+)\s*\(", signature)
    if name is None or not hasattr(qobject, name.group(1)):
        raise AttributeError(f"{type(qobject).__name__} has no signal {signature!r}")
    getattr(qobject, name.group(1)).connect(slot)


class ModuleManager(QtCore.QObject):
    """The signal ScriptedLoadableModuleWidget listens to (``cleanup()`` runs when its module unloads)."""

    moduleAboutToBeUnloaded = QtCore.Signal(str)

    def connect(self, signature: str, slot) -> None:  # noqa: D102 - PythonQt style
        connect_by_signature(self, signature, slot)

    def disconnect(self, signature: str, slot) -> None:
        getattr(self, signature.split("(")[0]).disconnect(slot)


class SliceWidget:
    """qMRMLSliceWidget without its view: the real MRML slice logic behind it."""

    def __init__(self, logic):
        self.logic = logic

    def mrmlSliceNode(self):  # noqa: N802 - Slicer's names
        return self.logic.GetSliceNode()

    def mrmlSliceCompositeNode(self):  # noqa: N802
        return self.logic.GetSliceCompositeNode()

    def sliceLogic(self):  # noqa: N802
        return self.logic


class LayoutManager:
    """qSlicerLayoutManager without views: layout ids go to the scene's layout node as Slicer's do."""

    def __init__(self, scene):
        import slicer

        self.scene = scene
        self._layout_logic = slicer.vtkMRMLLayoutLogic()
        self._layout_logic.SetMRMLScene(scene)
        self.widgets = {}
        self._logics = vtk.vtkCollection()
        for name in SLICE_VIEWS:
            logic = slicer.vtkMRMLSliceLogic()
            logic.SetMRMLScene(scene)
            logic.AddSliceNode(name)
            self.widgets[name] = SliceWidget(logic)
            self._logics.AddItem(logic)
        self.setLayout(CONVENTIONAL_LAYOUT)

    @property
    def layout(self) -> int:
        return self._layout_logic.GetLayoutNode().GetViewArrangement()

    @layout.setter
    def layout(self, layout: int) -> None:
        self.setLayout(layout)

    def setLayout(self, layout: int) -> None:  # noqa: N802
        self._layout_logic.GetLayoutNode().SetViewArrangement(layout)

    def layoutLogic(self):  # noqa: N802
        return self._layout_logic

    def sliceWidget(self, name: str):  # noqa: N802
        return self.widgets.get(name)

    def sliceViewNames(self) -> list[str]:  # noqa: N802
        return list(self.widgets)

    def mrmlSliceLogics(self):  # noqa: N802
        return self._logics

    def resetThreeDViews(self) -> None:  # noqa: N802 - there is no 3D view to reset here
        pass


class SlicerApplication(QtCore.QObject):
    """``slicer.app`` for a headless scene session (``synthtrust.scene.SceneSession``)."""

    startupCompleted = QtCore.Signal()  # noqa: N815 - Slicer's names

    def __init__(self, session, testing: bool = False):
        super().__init__()
        self.session = session
        self.testing = testing
        self.applicationName = "Slicer"
        self._layout_manager = LayoutManager(session.scene)
        self._module_manager = ModuleManager()

    def connect(self, signature: str, slot) -> None:  # noqa: D102 - PythonQt style
        connect_by_signature(self, signature, slot)

    def testingEnabled(self) -> bool:  # noqa: N802
        return self.testing

    def commandOptions(self):  # noqa: N802
        return type("CommandOptions", (), {"testingEnabled": self.testing})()

    def mrmlScene(self):  # noqa: N802
        return self.session.scene

    def applicationLogic(self):  # noqa: N802
        return self.session.application_logic

    def layoutManager(self):  # noqa: N802
        return self._layout_manager

    def moduleManager(self):  # noqa: N802
        return self._module_manager

    def topLevelWidgets(self) -> list:  # noqa: N802
        return QtWidgets.QApplication.topLevelWidgets()

    def setOverrideCursor(self, cursor) -> None:  # noqa: N802
        QtWidgets.QApplication.setOverrideCursor(cursor)

    def restoreOverrideCursor(self) -> None:  # noqa: N802
        QtWidgets.QApplication.restoreOverrideCursor()

    def processEvents(self) -> None:  # noqa: N802
        QtWidgets.QApplication.processEvents()


class ModulePanel(QtWidgets.QWidget):
    """qSlicerScriptedLoadableModuleWidget: holds the module's Python widget, which lays itself out in it."""

    def __init__(self, widget_class):
        super().__init__()
        self.setLayout(QtWidgets.QVBoxLayout())
        self.isEntered = False
        self.widget = widget_class(self)
        self.resize(420, 900)

    def setup(self):
        self.widget.setup()
        return self.widget

    def enter(self) -> None:
        self.show()
        self.isEntered = True
        self.widget.enter()

    def exit(self) -> None:
        self.widget.exit()
        self.isEntered = False
