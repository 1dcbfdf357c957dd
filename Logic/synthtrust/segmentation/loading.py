"""Segmenters from local files only: a checkpoint beside its config JSON, a MONAI bundle folder, or a
shipped default of the model manifest (sha256-verified). Nothing is ever downloaded, and no file is
unpickled beyond plain tensors."""

from __future__ import annotations

import os
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.models.bundles import is_bundle
from synthtrust.models.checkpoints import fit_state_dict, read_state_dict
from synthtrust.models.files import config_beside, is_weights_file, weights_stem
from synthtrust.models.manifest import resolve_default_model, verify_model_file
from synthtrust.provenance import file_sha256
from synthtrust.segmentation.bundle import read_bundle_config
from synthtrust.segmentation.config import NetworkConfig
from synthtrust.segmentation.networks import build_network
from synthtrust.segmentation.segmenter import Segmenter


def load_checkpoint(weights: str | os.PathLike, config: str | os.PathLike | NetworkConfig | None = None,
                    device: str = "auto", sha256: str | None = None) -> Segmenter:
    """A ``.safetensors`` or ``.pt``/``.pth`` checkpoint with its config (default: ``<name>.json`` beside it)."""
    weights = Path(weights)
    if not weights.is_file():
        raise InputError(f"model weights {weights} do not exist; check the path given with --model")
    if isinstance(config, NetworkConfig):
        settings, hint = config, "the given config"
    else:
        config_path = Path(config) if config else config_beside(weights)
        if not config_path.is_file():
            raise InputError(f"checkpoint {weights} has no network config: expected {config_path} (written by "
                             "'synthtrust train-segmenter'; see docs/segmenters.md for its fields)")
        settings, hint = NetworkConfig.load(config_path), str(config_path)
    network = build_network(settings)
    fit_state_dict(network, read_state_dict(weights), str(weights), hint)
    return Segmenter(network, settings, device, settings.id or weights_stem(weights),
                     sha256 or file_sha256(weights), str(weights))


def load_bundle(folder: str | os.PathLike, device: str = "auto", task: str | None = None) -> Segmenter:
    """A MONAI bundle folder (see :mod:`synthtrust.segmentation.bundle` for what is read and refused)."""
    folder = Path(folder)
    settings, weights = read_bundle_config(folder, task)
    network = build_network(settings)
    fit_state_dict(network, read_state_dict(weights), str(weights), f"{folder}/configs (network_def)")
    return Segmenter(network, settings, device, settings.id, file_sha256(weights), str(folder))


def load_segmenter(path: str | os.PathLike, device: str = "auto", task: str | None = None,
                   config: str | os.PathLike | None = None) -> Segmenter:
    """A checkpoint file (with its config JSON) or a MONAI bundle folder, from local disk.

    ``task`` is checked against the model's own task (and names it for a bundle that does not).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"model {path} does not exist; pass a .safetensors/.pt file or a MONAI bundle folder")
    if path.is_dir():
        if not is_bundle(path):
            raise InputError(f"folder {path} is not a MONAI bundle (no configs/inference.json or .yaml); pass "
                             "the bundle folder or a checkpoint file")
        segmenter = load_bundle(path, device, task)
    elif is_weights_file(path):
        segmenter = load_checkpoint(path, config, device)
    else:
        raise InputError(f"model {path} is neither a checkpoint (.safetensors, .pt, .pth) nor a MONAI bundle "
                         "folder")
    if task and segmenter.config.task != task:
        raise InputError(f"model {segmenter.model_id} segments {segmenter.config.task}, not {task}; choose a "
                         f"{task} model or change --task")
    return segmenter


def load_default_segmenter(task: str, channels: list[str], device: str = "auto",
                           manifest: str | os.PathLike | None = None) -> Segmenter:
    """The sha256-verified default segmenter of the model manifest for task + channels."""
    entry = resolve_default_model(task, channels, manifest)
    verify_model_file(entry)
    segmenter = load_checkpoint(entry.weights_path, entry.config_path, device, sha256=entry.sha256.lower())
    if segmenter.config.task != task or sorted(segmenter.config.channels) != sorted(entry.channels):
        raise InputError(f"default model {entry.id}: its config ({segmenter.config.task}, channels "
                         f"{segmenter.config.channels}) disagrees with the manifest ({task}, {entry.channels}); "
                         "restore the model files")
    segmenter.model_id = entry.id
    return segmenter
