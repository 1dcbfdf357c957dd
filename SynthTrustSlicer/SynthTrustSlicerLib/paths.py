"""Where the module finds its resources and the core package, in the source tree and once installed.

Source tree: ``<repo>/SynthTrustSlicer/SynthTrustSlicer.py`` with ``<repo>/Resources`` and ``<repo>/Logic``.
Installed (and in a CMake build tree): ``qt-scripted-modules/SynthTrustSlicer.py`` with
``qt-scripted-modules/SynthTrustSlicer/Resources`` and ``qt-scripted-modules/synthtrust`` (see the
CMakeLists). ``Resources/`` sits at the repository top because the core and the CLI read the model
manifest from it too, so Slicer's default ``<module dir>/Resources`` does not find it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

MODULE_NAME = "SynthTrustSlicer"


def resource_candidates(module_dir: str | os.PathLike) -> list[Path]:
    module_dir = Path(module_dir)
    return [module_dir / MODULE_NAME / "Resources", module_dir.parent / "Resources", module_dir / "Resources"]


def resource_path(module_dir: str | os.PathLike, relative: str) -> Path:
    """``relative`` (e.g. "UI/SynthTrustSlicer.ui") inside the first Resources folder that has it."""
    for folder in resource_candidates(module_dir):
        if (folder / relative).exists():
            return folder / relative
    looked = ", ".join(str(f) for f in resource_candidates(module_dir))
    raise FileNotFoundError(f"{relative} is missing (looked in {looked}); reinstall the SynthTrustSlicer "
                            "extension, or add the repository's SynthTrustSlicer folder as the module path")


def ensure_core_importable(module_dir: str | os.PathLike) -> None:
    """Put the ``synthtrust`` core on ``sys.path`` when the module runs from a source checkout (installed,
    it sits next to the module, which Slicer already has on the path). Only a path entry; nothing imported."""
    source_core = Path(module_dir).parent / "Logic"
    if (source_core / "synthtrust" / "__init__.py").exists() and str(source_core) not in sys.path:
        sys.path.insert(0, str(source_core))
