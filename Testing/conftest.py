"""Shared test set-up: import the core from the source tree, locate ../shared/data, seeded arrays."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# PySide6's true_property must be switched on before torch is imported anywhere (see platform notes).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
try:  # the panel code's modules switch true_property on; PySide6 refuses that once torch is loaded
    import PySide6.QtCore  # noqa: F401
    from __feature__ import true_property  # noqa: F401
except ImportError:
    pass

import numpy as np
import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "Logic"))
SHARED_DATA = Path(os.environ.get("SYNTHTRUST_SHARED_DATA", REPOSITORY.parent / "shared" / "data"))


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or a skip with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {path} is absent (integration tests need ../shared/data)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
