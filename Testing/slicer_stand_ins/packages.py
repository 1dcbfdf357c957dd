"""Python packages as a fresh 3D Slicer has them, and the helpers that install them.

- :class:`ImportBlocker`: makes packages look uninstalled: ``import torch`` raises ModuleNotFoundError and
  ``importlib.util.find_spec("torch")`` is None (a ``sys.meta_path`` finder plus ``None`` in
  ``sys.modules``, the import system's own "not importable" mark). "Installing" lifts the block.
- :class:`PackageInstaller`: ``slicer.util.pip_install`` (Slicer 5.10) and, from 5.12, ``slicer.packaging``'s
  ``pip_install`` / ``pip_ensure`` (which asks with ``confirmOkCancelDisplay`` unless ``prompt_install`` is
  false, raises RuntimeError when declined, and skips in testing mode). Every call is recorded.
- :func:`pytorch_utils_module`: the PyTorch extension's ``PyTorchUtils`` module: ``PyTorchUtilsLogic`` with
  ``torchInstalled()`` (metadata, then import), ``installTorch(askConfirmation, forceComputationBackend,
  torchVersionRequirement, ...)`` (asks with the light-the-torch command line unless told not to or in
  testing mode; None when declined) and ``torch``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import re
import sys
import types
from dataclasses import dataclass, field

# pip requirement name -> import name, where they differ
IMPORT_NAMES = {"pyyaml": "yaml", "scikit-image": "skimage", "light-the-torch": "light_the_torch"}


def import_name(requirement: str) -> str:
    name = re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower()
    return IMPORT_NAMES.get(name, name.replace("-", "_"))


class ImportBlocker(importlib.abc.MetaPathFinder):
    """Packages that cannot be imported until :meth:`unblock` (what installing them does)."""

    def __init__(self, names=()):
        self.blocked: set[str] = set()
        self.saved: dict[str, types.ModuleType] = {}
        for name in names:
            self.block(name)

    def block(self, name: str) -> None:
        self.blocked.add(name)
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            module = sys.modules.pop(loaded)
            if module is not None:
                self.saved[loaded] = module
        sys.modules[name] = None  # import raises ModuleNotFoundError, find_spec returns None

    def unblock(self, name: str) -> None:
        if name not in self.blocked:
            return
        self.blocked.discard(name)
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]
        for loaded in [m for m in self.saved if m == name or m.startswith(name + ".")]:
            sys.modules[loaded] = self.saved.pop(loaded)
        importlib.invalidate_caches()

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None

    def install(self) -> None:
        sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        for name in list(self.blocked):
            self.unblock(name)
        if self in sys.meta_path:
            sys.meta_path.remove(self)


@dataclass
class PackageInstaller:
    """The pip helpers; what they installed is unblocked in ``blocker``. ``fail`` names requirements whose
    install fails (pip's CalledProcessError, e.g. no internet)."""

    blocker: ImportBlocker
    calls: list[tuple[str, list[str]]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)

    def _install(self, helper: str, requirements) -> None:
        import subprocess

        requirements = requirements.split() if isinstance(requirements, str) else [str(r) for r in requirements]
        self.calls.append((helper, requirements))
        for requirement in requirements:
            if import_name(requirement) in self.fail:
                raise subprocess.CalledProcessError(1, ["PythonSlicer", "-m", "pip", "install", requirement])
            self.blocker.unblock(import_name(requirement))

    def pip_install(self, requirements, **kwargs) -> None:
        self._install("pip_install", requirements)

    def pip_ensure(self, requirements, constraints=None, skip_packages=None, prompt_install=True,
                   prompt_restart=True, requester=None, skip_in_testing=True, show_progress=True):
        import importlib.util

        import slicer

        requirements = requirements.split() if isinstance(requirements, str) else [str(r) for r in requirements]
        missing = [r for r in requirements if importlib.util.find_spec(import_name(r)) is None]
        if not missing:
            return None
        if skip_in_testing and slicer.app.testingEnabled():
            return None
        if prompt_install:
            title = f"{requester} - Install Python Packages" if requester else "Install Python Packages"
            text = (f"{len(missing)} Python package(s) need to be installed.\n\nThis will modify Slicer's Python "
                    "environment. Continue?")
            if not slicer.util.confirmOkCancelDisplay(text, title, detailedText="\n".join(f"- {r}" for r in missing)):
                raise RuntimeError("User declined package installation")
        self._install("pip_ensure", missing)
        return None

    def packaging_module(self) -> types.ModuleType:
        """``slicer.packaging`` (Slicer >= 5.12)."""
        module = types.ModuleType("slicer.packaging", "Slicer's package helpers (test stand-in)")
        module.pip_install = self.pip_install
        module.pip_ensure = self.pip_ensure
        return module


@dataclass
class TorchInstaller:
    """What the PyTorch extension did: ``calls`` holds each installTorch's keyword arguments."""

    blocker: ImportBlocker
    calls: list[dict] = field(default_factory=list)


def pytorch_utils_module(installer: TorchInstaller) -> types.ModuleType:
    """The ``PyTorchUtils`` module of the PyTorch extension (fepegar/SlicerPyTorch)."""

    class PyTorchUtilsLogic:
        def __init__(self):
            self._torch = None

        @staticmethod
        def torchInstalled() -> bool:  # noqa: N802
            import importlib.metadata

            try:  # the distribution's metadata first (importing a broken torch could lock its files)
                importlib.metadata.files("torch")
            except importlib.metadata.PackageNotFoundError:
                return False
            try:
                import torch  # noqa: F401
            except ModuleNotFoundError:
                return False
            return True

        @property
        def torch(self):
            if self._torch is None:
                import torch

                self._torch = torch
            return self._torch

        def installTorch(self, askConfirmation=False, forceComputationBackend=None,  # noqa: N802, N803
                         torchVersionRequirement=None, torchvisionVersionRequirement=None):  # noqa: N803
            import slicer

            installer.calls.append({"askConfirmation": askConfirmation, "forceComputationBackend":
                                    forceComputationBackend, "torchVersionRequirement": torchVersionRequirement})
            args = ["install", "torch" + (torchVersionRequirement or ""),
                    "torchvision" + (torchvisionVersionRequirement or "")]
            if forceComputationBackend is not None:
                args.append(f"--pytorch-computation-backend={forceComputationBackend}")
            if askConfirmation and not slicer.app.commandOptions().testingEnabled:
                if not slicer.util.confirmOkCancelDisplay(
                        f"PyTorch will be downloaded and installed using light-the-torch (ltt {' '.join(args)}). "
                        "The process might take some minutes."):
                    return None
            installer.blocker.unblock("torch")
            import torch

            return torch

        def getDevice(self):  # noqa: N802
            return self.torch.device("cuda") if self.torch.cuda.is_available() else "cpu"

    module = types.ModuleType("PyTorchUtils", "The PyTorch extension's utilities (test stand-in)")
    module.PyTorchUtilsLogic = PyTorchUtilsLogic
    return module
