"""How weight files and the config beside them are named. Standard library only."""

from __future__ import annotations

from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


def weights_stem(path: Path) -> str:
    """``model.safetensors`` -> ``model`` (the config beside it is ``model.json``)."""
    for suffix in WEIGHT_SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.stem


def config_beside(weights: Path) -> Path:
    """``model.safetensors`` / ``model.pt`` -> ``model.json``."""
    return weights.with_name(weights_stem(weights) + ".json")


def is_weights_file(path: Path) -> bool:
    return path.name.endswith(WEIGHT_SUFFIXES)
