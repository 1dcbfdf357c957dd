"""``slicer.ScriptedLoadableModule`` and ``slicer.i18n`` as Slicer 5.10 has them (``Base/Python/slicer``).

What matters to a module and is kept: the widget takes its layout from the parent Slicer gives it (and,
without a parent, makes one and calls ``setup()`` itself); it connects to the module manager's
``moduleAboutToBeUnloaded`` to call ``cleanup()``; the logic's parameter node is the scene's singleton
``vtkMRMLScriptedModuleNode`` tagged with the module name (created on first use, ``ModuleName`` attribute).
Left out: the developer section (Reload / Test buttons).
"""

from __future__ import annotations

import types
import unittest


class ScriptedLoadableModule:
    """``parent`` is the qSlicerScriptedLoadableModule: its ``path`` is the module file; the icon is found in
    ``Resources/Icons`` beside it (``.svg`` first), and ``runTest`` is registered in ``slicer.selfTests``."""

    def __init__(self, parent):
        import os

        import qt
        import slicer

        self.parent = parent
        self.moduleName = self.__class__.__name__
        parent.title = ""
        parent.categories = []
        parent.dependencies = []
        parent.contributors = []
        parent.helpText = ""
        parent.acknowledgementText = ""
        for extension in (".svg", ".png"):
            icon = os.path.join(os.path.dirname(parent.path), "Resources/Icons", self.moduleName + extension)
            if os.path.isfile(icon):
                parent.icon = qt.QIcon(icon)
                break
        if not hasattr(slicer, "selfTests"):
            slicer.selfTests = {}
        slicer.selfTests[self.moduleName] = self.runTest

    def runTest(self, msec=100, **kwargs):  # noqa: N802
        import importlib

        test = getattr(importlib.import_module(self.__module__), self.moduleName + "Test")()
        test.messageDelay = msec
        test.runTest(**kwargs)


class ScriptedLoadableModuleWidget:
    def __init__(self, parent=None):
        import qt
        import slicer

        self.moduleName = self.__class__.__name__
        if self.moduleName.endswith("Widget"):
            self.moduleName = self.moduleName[:-6]
        self.developerMode = False
        if not parent:
            self.parent = slicer.qMRMLWidget()
            self.parent.setLayout(qt.QVBoxLayout())
            self.parent.setMRMLScene(slicer.mrmlScene)
        else:
            self.parent = parent
        self.layout = self.parent.layout()
        if not parent:
            self.setup()
            self.parent.show()
        slicer.app.moduleManager().connect("moduleAboutToBeUnloaded(QString)", self._onModuleAboutToBeUnloaded)

    def _onModuleAboutToBeUnloaded(self, moduleName):  # noqa: N802, N803 - Slicer's names
        if moduleName == self.moduleName:
            self.cleanup()

    def cleanup(self):
        pass

    def setup(self):
        pass  # Slicer adds the developer section here; developer mode is off in these tests


class ScriptedLoadableModuleLogic:
    def __init__(self, parent=None):
        self.moduleName = self.__class__.__name__
        if self.moduleName.endswith("Logic"):
            self.moduleName = self.moduleName[:-5]
        self.isSingletonParameterNode = True

    def getParameterNode(self):  # noqa: N802
        import slicer

        node = slicer.mrmlScene.GetSingletonNode(self.moduleName, "vtkMRMLScriptedModuleNode")
        if node:
            if node.GetAttribute("ModuleName") != self.moduleName:
                node.SetAttribute("ModuleName", self.moduleName)
            return node
        return slicer.mrmlScene.AddNode(self.createParameterNode())

    def createParameterNode(self):  # noqa: N802
        import slicer

        node = slicer.mrmlScene.CreateNodeByClass("vtkMRMLScriptedModuleNode")
        node.UnRegister(None)  # owned by the Python variable, as in Slicer
        node.SetSingletonTag(self.moduleName)
        node.SetAttribute("ModuleName", self.moduleName)
        node.SetName(slicer.mrmlScene.GenerateUniqueName(self.moduleName))
        return node


class ScriptedLoadableModuleTest(unittest.TestCase):
    def delayDisplay(self, message, msec=None):  # noqa: N802
        import logging

        logging.info(message)


def scripted_module_module() -> types.ModuleType:
    module = types.ModuleType("slicer.ScriptedLoadableModule", __doc__)
    for cls in (ScriptedLoadableModule, ScriptedLoadableModuleWidget, ScriptedLoadableModuleLogic,
                ScriptedLoadableModuleTest):
        setattr(module, cls.__name__, cls)
    return module


def i18n_module() -> types.ModuleType:
    """``slicer.i18n``: ``tr`` and ``translate`` return the source text (no translation is installed)."""
    module = types.ModuleType("slicer.i18n", "Slicer's translation helpers (test stand-in)")
    module.tr = lambda text: text
    module.translate = lambda context, text: text
    return module
