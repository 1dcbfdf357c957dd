"""Scene bundles (.mrb): written atomically, reopened in a fresh session."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from synthtrust.scene.session import SceneSession


def save_bundle(session: SceneSession, path: str | os.PathLike) -> Path:
    """Write the scene as a Slicer data bundle; the file appears only when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="synthtrust-mrb-"))
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mrb", dir=path.parent)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        bundle = work / path.stem
        bundle.mkdir()
        if not session.application_logic.SaveSceneToSlicerDataBundleDirectory(str(bundle), None):
            raise RuntimeError(f"saving the scene into {bundle} failed")
        if not session.application_logic.Zip(temporary, str(bundle)):
            raise RuntimeError(f"zipping the scene bundle to {path} failed")
        os.replace(temporary, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def open_bundle(path: str | os.PathLike) -> SceneSession:
    """A new headless session holding the bundle's scene."""
    session = SceneSession.create()
    work = tempfile.mkdtemp(prefix="synthtrust-open-")
    try:
        if not session.application_logic.OpenSlicerDataBundle(str(path), work):
            raise RuntimeError(f"cannot open scene bundle {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return session
