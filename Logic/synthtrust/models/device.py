"""Which device a model runs on: the one place where ``auto`` / ``cpu`` / ``cuda`` are resolved.

``DEVICES`` is importable without torch (the CLI parsers and the panel offer these names); torch is
imported when a device is actually chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthtrust.errors import InputError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")


def choose_device(device: str = "auto") -> torch.device:
    """``auto`` takes a usable CUDA GPU, else the CPU; ``cuda`` without one is refused with the reason."""
    import torch

    name = (str(device) if device is not None else "auto").lower() or "auto"
    if name not in DEVICES:
        raise InputError(f"device {device!r} is unknown; use auto, cpu or cuda")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise InputError(f"device cuda was requested but no usable CUDA GPU was found (torch {torch.__version__}, "
                         f"{build}); use --device cpu or --device auto")
    return torch.device(name)
