"""Python packages the module needs inside 3D Slicer, checked without importing and installed only when a
run needs them and the user has agreed.

PyTorch comes from the PyTorch extension (``PyTorchUtils``), which picks the build that matches the GPU
driver; installing torch with pip would often fetch a CUDA build the driver cannot run. MONAI and the
small helpers are pip-installed into Slicer's Python after a confirmation. pip's default
"only-if-needed" strategy keeps Slicer's own numpy, SimpleITK and vtk as they are.
Nothing here runs at import time.
"""

from __future__ import annotations

import importlib.util
import logging

MINIMUM_TORCH = "2.2"
# import name -> pip requirement; the core's pyproject lists the same lower bounds.
PIP_REQUIREMENTS = {"monai": "monai>=1.4", "einops": "einops>=0.7", "safetensors": "safetensors>=0.4",
                    "scipy": "scipy>=1.11"}


def missing_packages(requirements: dict[str, str] = PIP_REQUIREMENTS) -> list[str]:
    """Requirements whose module cannot be found (found by spec, so nothing heavy is imported)."""
    return [requirement for module, requirement in requirements.items() if importlib.util.find_spec(module) is None]


def torch_status(torch) -> str:
    """One line for the device combo and the log: the GPU, or why the CPU is used."""
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        return f"GPU {properties.name}, {properties.total_memory / 2**30:.1f} GiB (PyTorch {torch.__version__})"
    if torch.version.cuda is None:
        return (f"CPU: PyTorch {torch.__version__} is a CPU-only build. For a GPU, reinstall PyTorch in the "
                "PyTorch Utils module with a CUDA computation backend.")
    return (f"CPU: PyTorch {torch.__version__} was built for CUDA {torch.version.cuda} but finds no usable GPU. "
            "Update the NVIDIA driver, or reinstall PyTorch in PyTorch Utils with a backend your driver supports.")


def ensure_torch(ask: bool = True):
    """The torch module, installed through the PyTorch extension when missing (it asks the user)."""
    try:
        import PyTorchUtils
    except ModuleNotFoundError:
        raise RuntimeError("SynthTrust needs the PyTorch extension: install 'PyTorch' from the Extensions "
                           "Manager, restart Slicer, and try again.") from None
    torch_logic = PyTorchUtils.PyTorchUtilsLogic()
    if not torch_logic.torchInstalled():
        logging.info("SynthTrust: installing PyTorch through PyTorch Utils (this can take several minutes)")
        torch = torch_logic.installTorch(askConfirmation=ask, torchVersionRequirement=f">={MINIMUM_TORCH}")
        if torch is None:
            raise RuntimeError("PyTorch was not installed. Install it in the PyTorch Utils module (choose the "
                               "computation backend that matches your GPU driver, or 'cpu'), then try again.")
        return torch
    torch = torch_logic.torch
    if _version_tuple(torch.__version__) < _version_tuple(MINIMUM_TORCH):
        raise RuntimeError(f"PyTorch {torch.__version__} is older than {MINIMUM_TORCH}; in PyTorch Utils, "
                           f"uninstall it and install with the version requirement '>={MINIMUM_TORCH}'.")
    return torch


def ensure_packages(ask: bool = True) -> list[str]:
    """pip-install the missing packages after the user agrees; returns what was installed."""
    import slicer

    missing = missing_packages()
    if not missing:
        return []
    if ask and not slicer.util.confirmOkCancelDisplay(
            "SynthTrust needs these Python packages, which are not installed in Slicer yet:\n\n  "
            + "\n  ".join(missing) + "\n\nInstall them now? (a few minutes; needs internet access)",
            windowTitle="SynthTrust: install Python packages"):
        raise RuntimeError(f"{', '.join(missing)} not installed. Press Apply again and accept, or install them "
                           "from Slicer's Python console with slicer.util.pip_install.")
    slicer.util.pip_install(" ".join(missing))
    still = missing_packages()
    if still:
        raise RuntimeError(f"{', '.join(still)} could not be installed; see the Python console for pip's "
                           "message (often a proxy or a full disk).")
    return missing


def ensure_all(ask: bool = True) -> str:
    """torch (via PyTorch Utils) and the pip packages; returns :func:`torch_status`."""
    torch = ensure_torch(ask)
    ensure_packages(ask)
    return torch_status(torch)


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split("+")[0].split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)
