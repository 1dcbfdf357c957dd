"""Where the shipped resources (model manifest, weights, UI) live: the source tree, or installed next to
the Slicer module, or wherever ``SYNTHTRUST_RESOURCES`` points."""

from __future__ import annotations

import os
from pathlib import Path

from synthtrust.errors import InputError


def resources_dir() -> Path:
    package = Path(__file__).resolve().parent
    candidates = [Path(os.environ["SYNTHTRUST_RESOURCES"])] if os.environ.get("SYNTHTRUST_RESOURCES") else []
    candidates += [package.parents[1] / "Resources",  # source tree: <repo>/Logic/synthtrust
                   package.parent / "SynthTrustSlicer" / "Resources"]  # installed beside the Slicer module
    for candidate in candidates:
        if (candidate / "Models" / "manifest.json").exists():
            return candidate
    raise InputError(f"cannot find SynthTrustSlicer's Resources folder (looked in {[str(c) for c in candidates]}); "
                     "set SYNTHTRUST_RESOURCES to it or pass --model")
