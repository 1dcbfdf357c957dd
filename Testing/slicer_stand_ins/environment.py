"""Install the Slicer stand-ins around the real ``slicer`` package (slicer-core), and remove them again.

:func:`install` gives the process what a running 3D Slicer 5.10 gives a scripted module: ``qt`` and ``ctk``,
``slicer.app`` over a real headless scene, ``slicer.ScriptedLoadableModule``, ``slicer.parameterNodeWrapper``,
``slicer.i18n``, the SampleData module, the Slicer widget classes on ``slicer``, the pip helpers
(``slicer.packaging`` too when ``slicer_version >= (5, 12)``), the PyTorch extension (``PyTorchUtils``,
``slicer.modules.pytorchutils``) unless ``pytorch_extension=False``, a main window (so
``slicer.util.errorDisplay`` shows its box), and the packages in ``blocked`` uninstalled. ``slicer.util``
itself is slicer-core's real module; it and the module file run with PySide6's ``true_property``, which
gives Qt properties PythonQt's attribute style.
"""

from __future__ import annotations

import importlib.machinery
import shutil
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from . import widgets
from .application import ModulePanel, SlicerApplication
from .packages import ImportBlocker, PackageInstaller, TorchInstaller, pytorch_utils_module
from .parameter_node_wrapper import parameter_node_wrapper_module
from .qt_modules import DIALOGS, ctk_module, qt_module
from .sample_data_module import sample_data_module
from .scripted_module import i18n_module, scripted_module_module

REPOSITORY = Path(__file__).resolve().parents[2]
MODULE_DIR = REPOSITORY / "SynthTrustSlicer"
SLICER_WIDGETS = ("qSlicerWidget", "qMRMLWidget", "qMRMLNodeComboBox", "qMRMLSegmentEditorWidget", "qMRMLTableView",
                  "qMRMLPlotView", "qSlicerMarkupsPlaceWidget")


def _pythonqt_style(module_names) -> None:
    """Qt properties as attributes in these modules, as PythonQt has them (PySide6's per-module feature)."""
    import __feature__

    flags = __feature__.pyside_feature_dict
    true_property = 0x02  # PySide6's flag for ``true_property`` (what ``from __feature__ import`` sets)
    for name in module_names:
        flags[name] = flags.get(name, 0) | true_property if flags.get(name, 0) > 0 else true_property


def _object_name_as_name() -> None:
    """PythonQt exposes ``objectName`` as ``name`` too; ``slicer.util.childWidgetVariables`` reads it."""
    from .pythonqt_names import add_name_property

    if not isinstance(QtCore.QObject.__dict__.get("name"), property):
        QtCore.QObject.name = property(QtCore.QObject.objectName, QtCore.QObject.setObjectName)
    add_name_property()  # the same name where true_property is on (PySide6 keeps a class dict per mode)


@dataclass
class SlicerEnvironment:
    """What :func:`install` set up; ``uninstall()`` puts the process back."""

    session: object
    app: SlicerApplication
    blocker: ImportBlocker
    pip: PackageInstaller
    torch: TorchInstaller
    main_window: QtWidgets.QMainWindow
    home: Path
    dialogs: object = field(default_factory=lambda: DIALOGS)
    saved_modules: dict = field(default_factory=dict)
    saved_attributes: dict = field(default_factory=dict)
    panels: list = field(default_factory=list)

    def open_module(self, enter: bool = True):
        """The module's widget as Slicer makes it: in its panel, ``setup()`` once, then shown (entered)."""
        import SynthTrustSlicer

        panel = ModulePanel(SynthTrustSlicer.SynthTrustSlicerWidget)
        self.panels.append(panel)
        panel.setup()
        if enter:
            panel.enter()
        return panel

    def uninstall(self) -> None:
        import slicer

        for panel in self.panels:
            if panel.isEntered:
                panel.exit()
            self.app.moduleManager().moduleAboutToBeUnloaded.emit("SynthTrustSlicer")
            panel.close()
            panel.deleteLater()
        self.panels.clear()
        QtWidgets.QApplication.processEvents()
        self.main_window.close()
        shutil.rmtree(self.home, ignore_errors=True)
        self.blocker.uninstall()
        DIALOGS.clear()
        for name, module in self.saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        slicer.util.pip_install = self.saved_attributes.pop("util.pip_install")
        for name, value in self.saved_attributes.items():
            if value is _MISSING:
                if hasattr(slicer, name):
                    delattr(slicer, name)
            else:
                setattr(slicer, name, value)
        for name in [m for m in sys.modules if m == "SynthTrustSlicer"]:
            del sys.modules[name]


_MISSING = object()


def install(blocked=(), slicer_version: tuple[int, int] = (5, 10), pytorch_extension: bool = True,
            testing: bool = False) -> SlicerEnvironment:
    """Set up the stand-ins (see the module docstring); call ``uninstall()`` on the result when done."""
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    QtCore.QCoreApplication.setOrganizationName("SynthTrustSlicerTests")  # never read the user's Slicer settings
    import slicer
    import slicer.util

    from synthtrust.scene import SceneSession

    _object_name_as_name()
    # The Lib modules that use attribute style switch it on themselves (a guarded ``__feature__`` import).
    _pythonqt_style(["slicer.util", "SynthTrustSlicer"])
    blocker = ImportBlocker(blocked)
    blocker.install()
    pip, torch = PackageInstaller(blocker), TorchInstaller(blocker)

    modules = {"qt": qt_module(), "ctk": ctk_module(), "slicer.ScriptedLoadableModule": scripted_module_module(),
               "slicer.parameterNodeWrapper": parameter_node_wrapper_module(), "slicer.i18n": i18n_module(),
               "SampleData": sample_data_module()}
    if slicer_version >= (5, 12):
        modules["slicer.packaging"] = pip.packaging_module()
    if pytorch_extension:
        modules["PyTorchUtils"] = pytorch_utils_module(torch)
    for name, module in modules.items():  # importable as installed modules are (find_spec needs a spec)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    saved_modules = {name: sys.modules.get(name) for name in [*modules, "slicer.packaging", "PyTorchUtils"]}
    for name in ("slicer.packaging", "PyTorchUtils"):
        sys.modules.pop(name, None)
        if name not in modules:
            sys.modules[name] = None  # not in this Slicer: importing it fails
    sys.modules.update(modules)

    session = SceneSession.create()  # a headless scene and logics; its activate() sets slicer.app = None
    app = SlicerApplication(session, testing=testing)
    # Slicer's home holds bin/PythonSlicer, the interpreter worker processes run with: here this one.
    home = Path(tempfile.mkdtemp(prefix="slicer-home-"))
    (home / "bin").mkdir()
    launcher = home / "bin" / "PythonSlicer"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    app.slicerHome = str(home)
    attributes = {"app": app, "ScriptedLoadableModule": modules["slicer.ScriptedLoadableModule"],
                  "parameterNodeWrapper": modules["slicer.parameterNodeWrapper"], "i18n": modules["slicer.i18n"],
                  **{name: getattr(widgets, name) for name in SLICER_WIDGETS}}
    if "slicer.packaging" in modules:
        attributes["packaging"] = modules["slicer.packaging"]
    saved_attributes = {name: getattr(slicer, name, _MISSING)
                        for name in [*attributes, "packaging", "modules", "selfTests"]}
    saved_attributes["util.pip_install"] = slicer.util.pip_install
    for name, value in attributes.items():
        setattr(slicer, name, value)
    if "slicer.packaging" not in modules and hasattr(slicer, "packaging"):
        delattr(slicer, "packaging")
    # Slicer 5.10's pip_install runs pip itself; slicer-core's (5.13) hands over to slicer.packaging.
    slicer.util.pip_install = pip.pip_install
    if pytorch_extension:
        slicer.modules.pytorchutils = types.SimpleNamespace(name="PyTorchUtils")

    main_window = QtWidgets.QMainWindow()
    main_window.setObjectName("qSlicerMainWindow")
    if str(MODULE_DIR) not in sys.path:
        sys.path.insert(0, str(MODULE_DIR))
    environment = SlicerEnvironment(session, app, blocker, pip, torch, main_window, home,
                                    saved_modules=saved_modules, saved_attributes=saved_attributes)
    return environment
