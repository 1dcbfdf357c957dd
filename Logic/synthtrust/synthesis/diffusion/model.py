"""Generator models: the MONAI ``DiffusionModelUNet`` a :class:`GeneratorConfig` describes, its scheduler,
and loading from local files only (safetensors or ``weights_only`` .pt beside the config JSON, a MONAI
generative bundle folder, or a shipped default verified against the manifest's sha256)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from synthtrust.errors import InputError
from synthtrust.models.bundles import network_definition, read_bundle
from synthtrust.models.channels import canonical_channel
from synthtrust.models.checkpoints import fit_state_dict, read_state_dict
from synthtrust.models.files import config_beside, is_weights_file, weights_stem
from synthtrust.models.manifest import list_models, verify_model_file
from synthtrust.provenance import file_sha256
from synthtrust.synthesis.diffusion.config import SCHEDULERS, GeneratorConfig


def build_network(config: GeneratorConfig, network_kwargs: dict | None = None) -> torch.nn.Module:
    """The denoising network: noisy image channels + conditioning channels in, noise estimate out."""
    from monai.networks.nets import DiffusionModelUNet

    kwargs = network_kwargs or {
        "channels": tuple(config.network_channels), "attention_levels": tuple(config.attention_levels),
        "num_res_blocks": config.num_res_blocks, "num_head_channels": config.num_head_channels,
        "norm_num_groups": config.norm_num_groups,
    }
    kwargs = {**kwargs, "spatial_dims": config.spatial_dims,
              "in_channels": len(config.channels) + config.condition_channels,
              "out_channels": len(config.channels)}
    if any(kwargs.get("attention_levels", ())):
        # Flash attention is always faster and leaner, on the CPU too (measured, docs/performance.md).
        kwargs.setdefault("use_flash_attention", True)
    try:
        return DiffusionModelUNet(**kwargs)
    except (TypeError, ValueError, AssertionError) as error:
        # MONAI's messages can span lines; the user gets the first, with what to fix.
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise InputError(f"cannot build DiffusionModelUNet with {kwargs}: {first[:200]}; fix the network "
                         "settings of the generator config or bundle") from None


def make_scheduler(config: GeneratorConfig, kind: str = "ddim"):
    from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

    if kind not in SCHEDULERS:
        raise InputError(f"scheduler {kind!r} is unknown; use {' or '.join(SCHEDULERS)}")
    scheduler_class = DDIMScheduler if kind == "ddim" else DDPMScheduler
    return scheduler_class(num_train_timesteps=config.num_train_timesteps, schedule=config.beta_schedule,
                           beta_start=0.0015, beta_end=0.0195, clip_sample=False)


@dataclass
class Generator:
    """A loaded generator: network, config and where its weights came from (for provenance)."""

    network: torch.nn.Module
    config: GeneratorConfig
    model_id: str
    sha256: str
    source: str

    def describe(self) -> dict:
        return {"model_id": self.model_id, "model_sha256": self.sha256, "model_source": self.source,
                "task": self.config.task, "channels": list(self.config.channels),
                "spatial_dims": self.config.spatial_dims}


def load_generator_checkpoint(weights: str | os.PathLike, config: str | os.PathLike | None = None,
                              sha256: str | None = None) -> Generator:
    weights = Path(weights)
    if not weights.is_file():
        raise InputError(f"generator weights {weights} do not exist; check the path given with --model")
    config_path = Path(config) if config else config_beside(weights)
    if not config_path.is_file():
        raise InputError(f"generator checkpoint {weights} has no config: expected {config_path} (written by "
                         "'synthtrust train-generator'; see docs/synthesis.md)")
    settings = GeneratorConfig.load(config_path)
    network = build_network(settings)
    fit_state_dict(network, read_state_dict(weights), str(weights), str(config_path))
    return Generator(network, settings, settings.id or weights_stem(weights), sha256 or file_sha256(weights),
                     str(weights))


def load_generator_bundle(folder: str | os.PathLike) -> Generator:
    """A MONAI generative bundle: ``configs/inference.json`` whose ``network_def`` is a DiffusionModelUNet
    (literal arguments only: nothing from the folder is executed), weights in ``models/``, and the
    generator fields (task, channels, spacing ...) in ``configs/metadata.json`` under ``synthtrust``."""
    folder = Path(folder)
    bundle = read_bundle(folder)
    network_class, kwargs = network_definition(bundle)
    if network_class != "DiffusionModelUNet":
        raise InputError(f"MONAI bundle {folder}: network_def::_target_ {network_class!r} is not a "
                         "DiffusionModelUNet; a generator bundle must define one")
    extra = bundle.metadata.get("synthtrust")
    if not isinstance(extra, dict):
        raise InputError(f"MONAI bundle {folder}: configs/metadata.json has no 'synthtrust' section naming the "
                         "generator's task, channels and spacing; add it (see docs/synthesis.md)")
    settings = GeneratorConfig.from_dict({"format": "synthtrust-generator-config", **extra,
                                          "id": extra.get("id", folder.name)}, f"{folder}/configs/metadata.json")
    expected_in = len(settings.channels) + settings.condition_channels
    if int(kwargs.get("in_channels", -1)) != expected_in or int(kwargs.get("out_channels", -1)) != len(
            settings.channels):
        raise InputError(f"MONAI bundle {folder}: network_def has in/out channels {kwargs.get('in_channels')}/"
                         f"{kwargs.get('out_channels')} but a {len(settings.channels)}-channel {settings.task} "
                         f"generator needs {expected_in}/{len(settings.channels)} (image + conditioning, "
                         "docs/synthesis.md)")
    for key in ("spatial_dims", "in_channels", "out_channels"):
        kwargs.pop(key, None)
    network = build_network(settings, kwargs)
    fit_state_dict(network, read_state_dict(bundle.weights), str(bundle.weights), f"{folder}/configs (network_def)")
    return Generator(network, settings, settings.id, file_sha256(bundle.weights), str(folder))


def load_generator(path: str | os.PathLike) -> Generator:
    """A checkpoint file (with its config JSON) or a MONAI generative bundle folder, from local disk."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"generator model {path} does not exist; pass a .safetensors/.pt file or a MONAI bundle "
                         "folder")
    if path.is_dir():
        return load_generator_bundle(path)
    if is_weights_file(path):
        return load_generator_checkpoint(path)
    raise InputError(f"generator model {path} is neither a checkpoint (.safetensors, .pt, .pth) nor a MONAI "
                     "bundle folder")


def load_default_generator(task: str, channels: list[str], engine: str,
                           manifest: str | os.PathLike | None = None) -> Generator:
    """The shipped generator for task + channels that serves ``engine``, sha256-verified before loading."""
    wanted = sorted(canonical_channel(c) for c in channels)
    entries = list_models(task, "generator", manifest)
    entry = next((e for e in entries if sorted(e.channels) == wanted and engine in e.engines), None)
    if entry is None:
        offered = "; ".join(f"{e.id} ({'+'.join(e.channels)})" for e in entries) or "none"
        raise InputError(f"no default {task} generator reads {'+'.join(wanted)} for the {engine} engine (installed: "
                         f"{offered}); pass matching images, train one with 'synthtrust train-generator', pass "
                         "--model PATH, or use --engine template")
    verify_model_file(entry)
    generator = load_generator_checkpoint(entry.weights_path, entry.config_path, sha256=entry.sha256.lower())
    if generator.config.task != task or sorted(generator.config.channels) != sorted(entry.channels):
        raise InputError(f"default generator {entry.id}: its config disagrees with the manifest; restore the model "
                         "files")
    generator.model_id = entry.id
    return generator
