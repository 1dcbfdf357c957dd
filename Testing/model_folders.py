"""Small real MONAI bundle folders on disk for the loading tests and the bad-input battery: a tiny MONAI
network's weights, an inference config (JSON or YAML) and metadata, written the way MONAI bundles are."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml

TINY_UNET = {"_target_": "UNet", "spatial_dims": 3, "in_channels": 2, "out_channels": "@num_classes",
             "channels": [4, 8], "strides": [2], "num_res_units": 0}
TWO_CHANNELS = {"0": "FLAIR", "1": "T1c"}
# MONAI's brats_mri_segmentation bundle: three sigmoid outputs, thresholded one by one.
BRATS_REGIONS = {"0": "Tumor core", "1": "Whole tumor", "2": "Enhancing tumor"}
SIGMOID_POSTPROCESSING = {"_target_": "Compose", "transforms": [
    {"_target_": "Activationsd", "keys": "pred", "sigmoid": True},
    {"_target_": "AsDiscreted", "keys": "pred", "threshold": 0.5}]}


def tiny_network(out_channels: int, seed: int = 0) -> torch.nn.Module:
    from monai.networks.nets import UNet

    torch.manual_seed(seed)
    return UNet(spatial_dims=3, in_channels=2, out_channels=out_channels, channels=(4, 8), strides=(2,),
                num_res_units=0).eval()


def metadata(outputs: dict[str, str], name: str = "tiny bundle", **synthtrust) -> dict:
    data = {"name": name, "network_data_format": {
        "inputs": {"image": {"num_channels": 2, "channel_def": TWO_CHANNELS}},
        "outputs": {"pred": {"num_channels": len(outputs), "channel_def": outputs}}}}
    if synthtrust:
        data["synthtrust"] = synthtrust
    return data


def inference_config(out_channels: int, inferer: dict | None = None, postprocessing: dict | None = None,
                     network_def: dict | None = None) -> dict:
    config = {"num_classes": out_channels, "network_def": network_def or dict(TINY_UNET),
              "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [16, 16, 16], "sw_batch_size": 1,
                          "overlap": 0.25, **(inferer or {})}}
    if postprocessing is not None:
        config["postprocessing"] = postprocessing
    return config


def write_bundle(folder: Path, network: torch.nn.Module, inference: dict, meta: dict | None,
                 config_format: str = "json", weights: str = "pt") -> Path:
    """A bundle folder: configs/inference.<format>, configs/metadata.json, models/model.<weights>."""
    (folder / "configs").mkdir(parents=True)
    (folder / "models").mkdir()
    if config_format == "json":
        (folder / "configs" / "inference.json").write_text(json.dumps(inference, indent=2), encoding="utf-8")
    else:
        (folder / "configs" / f"inference.{config_format}").write_text(yaml.safe_dump(inference, sort_keys=False), encoding="utf-8")
    if meta is not None:
        (folder / "configs" / "metadata.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if weights == "safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in network.state_dict().items()},
                  str(folder / "models" / "model.safetensors"))
    else:
        torch.save(network.state_dict(), folder / "models" / "model.pt")
    return folder
