"""Python packages the module needs inside 3D Slicer: checked without importing them, installed only when
a run (or the sample brain) needs them, after ONE question that names everything that will be installed.

PyTorch comes from the PyTorch extension (``PyTorchUtils``): its light-the-torch install picks the CUDA
build the NVIDIA driver can run (the CPU build without one), which a plain ``pip install torch`` would not.
It is installed first, so that MONAI's own ``torch`` requirement is already met and pip never fetches a
second torch. The other packages go through Slicer's pip helpers: ``slicer.packaging.pip_ensure`` (Slicer
>= 5.12) or ``slicer.util.pip_install``. Neither helper is asked to prompt again: the user has just agreed to
the list, and PyTorchUtils' own prompt (``askConfirmation=True``) would be a second question about the same
install. pip's default "only-if-needed" strategy keeps Slicer's own numpy, SimpleITK and vtk.
Nothing here runs at import time, and nothing here imports torch unless it is installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass

MINIMUM_TORCH = "2.2"
# import name -> pip requirement; the core's pyproject lists the same lower bounds.
RUN_REQUIREMENTS = {"monai": "monai>=1.4", "einops": "einops>=0.7", "safetensors": "safetensors>=0.4",
                    "scipy": "scipy>=1.11", "yaml": "PyYAML>=6.0"}
# The sample brain is the MNI152 template that ships inside the nilearn wheel.
SAMPLE_BRAIN_REQUIREMENTS = {"nilearn": "nilearn>=0.10"}
TORCH_DESCRIPTION = ("PyTorch, through the PyTorch extension (light-the-torch picks the CUDA build your NVIDIA "
                     "driver runs, or the CPU build)")
PROMPT_TITLE = "SynthTrust: install Python packages"


@dataclass(frozen=True)
class Missing:
    """What ``purpose`` (a run, the sample brain) needs and Slicer's Python does not have yet."""

    purpose: str
    torch: bool = False
    packages: tuple[str, ...] = ()  # pip requirements

    def __bool__(self) -> bool:
        return self.torch or bool(self.packages)

    def items(self) -> list[str]:
        return ([TORCH_DESCRIPTION] if self.torch else []) + list(self.packages)

    def names(self) -> list[str]:
        """Short names: PyTorch, monai, ..."""
        return (["PyTorch"] if self.torch else []) + [_name_of(r) for r in self.packages]


def is_installed(module: str) -> bool:
    """Found by spec, so nothing is imported (a broken finder counts as not installed)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_for_run() -> Missing:
    return Missing("a run", not is_installed("torch"),
                   tuple(r for m, r in RUN_REQUIREMENTS.items() if not is_installed(m)))


def missing_for_sample_brain() -> Missing:
    return Missing("the sample brain", False,
                   tuple(r for m, r in SAMPLE_BRAIN_REQUIREMENTS.items() if not is_installed(m)))


def prompt_text(missing: Missing) -> str:
    return (f"SynthTrust needs these Python packages for {missing.purpose}, and Slicer does not have them yet:"
            "\n\n  - " + "\n  - ".join(missing.items()) + "\n\nInstall them now? This takes a few minutes and needs "
            "internet access; Slicer's own packages are kept. To choose another PyTorch build (CUDA version), "
            "press Cancel and install PyTorch in the PyTorch Utils module first.")


def pending_text() -> str:
    """For the panel: what the first Apply will install ("" when nothing is missing)."""
    missing = missing_for_run()
    if not missing:
        return ""
    names = ["PyTorch (PyTorch extension)" if name == "PyTorch" else name for name in missing.names()]
    return f"Apply first asks to install {', '.join(names)}, then runs."


def install(missing: Missing, ask: bool = True) -> list[str]:
    """Ask once (unless ``ask`` is False), then install what is missing; returns what was installed.

    Raises RuntimeError with the next step when the user declines, the PyTorch extension is absent, or a
    package is still missing afterwards."""
    import slicer

    if not missing:
        return []
    if missing.torch and not _pytorch_extension_installed():
        raise RuntimeError("SynthTrust needs the PyTorch extension for PyTorch: install 'PyTorch' from the "
                           "Extensions Manager, restart Slicer, and try again.")
    if ask and not slicer.util.confirmOkCancelDisplay(prompt_text(missing), windowTitle=PROMPT_TITLE):
        raise RuntimeError(f"Nothing was installed, and {missing.purpose} needs {', '.join(missing.names())}. Try "
                           "again and press OK, or install them yourself: PyTorch in the PyTorch Utils module, "
                           "the rest with slicer.util.pip_install in the Python console.")
    if missing.torch:
        _install_torch()
    if missing.packages:
        _pip_install(list(missing.packages))
    still = [r for r in missing.packages if not is_installed(_module_of(r))]
    if still:
        raise RuntimeError(f"{', '.join(still)} could not be installed; see the Python console for pip's message "
                           "(often a proxy or a full disk).")
    return missing.items()


def ensure_for_run(ask: bool = True) -> str:
    """Everything a run needs (asks once when something is missing); returns the device line for the log."""
    install(missing_for_run(), ask)
    torch = _import_torch()
    if _version_tuple(torch.__version__) < _version_tuple(MINIMUM_TORCH):
        raise RuntimeError(f"PyTorch {torch.__version__} is older than {MINIMUM_TORCH}; in PyTorch Utils, "
                           f"uninstall it and install with the version requirement '>={MINIMUM_TORCH}'.")
    return gpu_report(torch)[1]


def ensure_for_sample_brain(ask: bool = True) -> None:
    install(missing_for_sample_brain(), ask)


# ------------------------------------------------------------------------------------------- devices
def gpu_report(torch) -> tuple[bool, str]:
    """(whether the GPU can run this torch build, one line for the panel naming the GPU or why the CPU is
    used and what to reinstall)."""
    version = torch.__version__
    try:
        if not torch.cuda.is_available():
            if torch.version.cuda is None:
                if nvidia_gpu_present():
                    return False, (f"CPU: PyTorch {version} is a CPU-only build, so the NVIDIA GPU is not used. For "
                                   "the GPU, reinstall PyTorch in PyTorch Utils with a CUDA computation backend.")
                return False, f"CPU: no GPU found (PyTorch {version})."
            return False, (f"CPU: PyTorch {version} was built for CUDA {torch.version.cuda} but finds no usable GPU. "
                           "Update the NVIDIA driver, or reinstall PyTorch in PyTorch Utils with a backend your "
                           "driver supports.")
        name = torch.cuda.get_device_name(0)
        major, minor = torch.cuda.get_device_capability(0)
        architectures = list(torch.cuda.get_arch_list())
        if architectures and not runs_on(architectures, major, minor):
            return False, (f"CPU: the GPU {name} (compute capability {major}.{minor}) cannot be used by PyTorch "
                           f"{version}, which was built for {', '.join(architectures)}; SynthTrust runs on the CPU. For "
                           "the GPU, reinstall PyTorch in PyTorch Utils with a newer CUDA backend.")
        memory = torch.cuda.get_device_properties(0).total_memory / 2**30
        return True, f"GPU {name}, {memory:.1f} GiB (PyTorch {version}, CUDA {torch.version.cuda})"
    except Exception as error:  # noqa: BLE001 - a broken CUDA install raises OSError, RuntimeError, ...
        return False, f"CPU: PyTorch cannot use the GPU ({type(error).__name__}: {error})."


def runs_on(architectures: list[str], major: int, minor: int) -> bool:
    """Whether kernels built for ``architectures`` (``torch.cuda.get_arch_list()``) run on a GPU of compute
    capability major.minor: a cubin for the same major and a lower or equal minor, or PTX of a lower or equal
    capability that the driver compiles."""
    for architecture in architectures:
        kind, _, digits = architecture.partition("_")
        if not digits[:-1].isdigit():
            continue
        built = (int(digits[:-1]), int(digits[-1]) if digits[-1].isdigit() else 0)
        if kind == "sm" and built[0] == major and built[1] <= minor:
            return True
        if kind == "compute" and built <= (major, minor):
            return True
    return False


def device_choices() -> tuple[list[tuple[str, str]], str]:
    """(value, label) for the device boxes, and the panel's status line. A GPU this torch build cannot use
    is not offered (nor "auto", which would pick it): the choice is the CPU, and the line says why."""
    if not is_installed("torch"):
        return ([("auto", "Auto (the GPU if PyTorch, installed by the first Apply, can use one)"), ("cpu", "CPU")],
                pending_text())
    usable, line = gpu_report(_import_torch())
    line = "\n".join(filter(None, (line, pending_text())))  # PyTorch there, MONAI perhaps not yet
    if usable:
        gpu = line.split(" (")[0].removeprefix("GPU ")
        return [("auto", f"Auto (GPU: {gpu})"), ("cpu", "CPU"), ("cuda", f"GPU: {gpu}")], line
    if line.startswith("CPU: no GPU found"):
        return [("auto", "Auto (CPU: no GPU found)"), ("cpu", "CPU")], line
    return [("cpu", "CPU (the GPU cannot be used: see below)")], line


def nvidia_gpu_present() -> bool:
    """An NVIDIA driver is installed (its tool or, on Linux, its kernel module)."""
    return shutil.which("nvidia-smi") is not None or os.path.exists("/proc/driver/nvidia/version")


# ------------------------------------------------------------------------------------------- helpers
def _pytorch_extension_installed() -> bool:
    import slicer

    return hasattr(getattr(slicer, "modules", None), "pytorchutils") and is_installed("PyTorchUtils")


def _install_torch() -> None:
    import PyTorchUtils

    # askConfirmation=False: install() has asked (see the module docstring); the backend stays automatic.
    torch = PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False,
                                                          torchVersionRequirement=f">={MINIMUM_TORCH}")
    if torch is None:
        raise RuntimeError("PyTorch was not installed. Install it in the PyTorch Utils module (choose the "
                           "computation backend that matches your GPU driver, or 'cpu'), then try again.")


def _import_torch():
    if is_installed("PyTorchUtils"):
        import PyTorchUtils

        return PyTorchUtils.PyTorchUtilsLogic().torch
    import torch

    return torch


def _pip_install(requirements: list[str]) -> None:
    import slicer

    packaging = getattr(slicer, "packaging", None)
    if packaging is not None and hasattr(packaging, "pip_ensure"):  # Slicer >= 5.12
        packaging.pip_ensure(requirements, prompt_install=False, requester="SynthTrust")
    else:
        slicer.util.pip_install(" ".join(requirements))  # 5.10 takes pip's command-line form


def _name_of(requirement: str) -> str:
    return requirement.split(">")[0].split("=")[0].split("<")[0].strip()


def _module_of(requirement: str) -> str:
    name = _name_of(requirement)
    return next((module for module, r in {**RUN_REQUIREMENTS, **SAMPLE_BRAIN_REQUIREMENTS}.items()
                 if r.startswith(name)), name.lower())


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split("+")[0].split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)
