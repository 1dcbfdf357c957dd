"""The core, all but its MRML adapter, must import where slicer, qt and vtk do not exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

BLOCKER = r"""
import importlib, importlib.abc, pkgutil, sys
sys.path.insert(0, {logic!r})

class Forbidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("slicer", "qt", "vtk", "vtkmodules", "ctk", "PySide6", "PythonQt"):
            raise ImportError(f"{{name}} is not available here")
        return None

sys.meta_path.insert(0, Forbidden())
import synthtrust
imported = []
for module in pkgutil.walk_packages(synthtrust.__path__, "synthtrust."):
    if module.name == "synthtrust.scene" or module.name.startswith("synthtrust.scene."):
        continue
    if module.name == "synthtrust.__main__":
        continue
    importlib.import_module(module.name)
    imported.append(module.name)
print(len(imported))
"""


def test_every_core_module_but_the_mrml_adapter_imports_without_slicer_qt_or_vtk():
    code = BLOCKER.format(logic=str(REPOSITORY / "Logic"))
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout.strip().splitlines()[-1]) >= 10


def test_the_mrml_adapter_is_the_one_place_that_imports_slicer():
    offenders = []
    for path in (REPOSITORY / "Logic" / "synthtrust").rglob("*.py"):
        if "scene" in path.relative_to(REPOSITORY / "Logic" / "synthtrust").parts[:1]:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import slicer", "from slicer", "import vtk", "from vtk", "import qt")):
                offenders.append(f"{path.name}: {stripped}")
    assert offenders == []
