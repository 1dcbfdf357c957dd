"""Training the slice-wise (2D) LGE segmenter on domain-randomised renderings, and shipping it as a
segmenter config the product's 3D machinery runs unchanged.

Why 2D: LGE stacks have 1-15 slices 5-25 mm apart, too few and too far apart for a 3D receptive field.
A 2D MONAI UNet is trained on rendered slices; :func:`slice_network_state` turns its weights into those of
a 3D UNet with (3, 3, 1) kernels and (2, 2, 1) strides, which computes exactly the same thing slice by slice
(checked in the tests), so the sliding-window inference, provenance and model plumbing stay the ones every
other segmenter uses, and a 1-slice stack works.

Training stops at a wall-clock deadline (the shared machine's schedule), saves a checkpoint it resumes from,
and writes one log line per ``log_every`` iterations.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from synthtrust.models.checkpoints import save_weights
from synthtrust.segmentation.config import NetworkConfig
from synthtrust.segmentation.networks import build_network
from synthtrust.training.lge_anatomies import Anatomy
from synthtrust.training.lge_rendering import PATCH, WORKING_SPACING_MM, render_batch

UNET_CHANNELS = (16, 32, 64, 128, 256)


def unet_2d(out_channels: int = 5) -> torch.nn.Module:
    from monai.networks.nets import UNet

    return UNet(spatial_dims=2, in_channels=1, out_channels=out_channels, channels=UNET_CHANNELS,
                strides=(2,) * (len(UNET_CHANNELS) - 1), num_res_units=1, norm="instance")


def slice_network_config(model_id: str = "cardiac-scar-lge-unet2d") -> NetworkConfig:
    """The 3D config equivalent to :func:`unet_2d`: one-slice windows at 1.5 mm in-plane."""
    levels = len(UNET_CHANNELS) - 1
    return NetworkConfig(
        architecture="unet", channels=["lge"], task="cardiac-scar", label_values=[0, 1, 2, 3, 4],
        network_kwargs={"channels": list(UNET_CHANNELS), "strides": [[2, 2, 1]] * levels,
                        "kernel_size": [3, 3, 1], "up_kernel_size": [3, 3, 1], "num_res_units": 1,
                        "norm": "instance"},
        normalization="zscore-nonzero",
        target_spacing_mm=(WORKING_SPACING_MM, WORKING_SPACING_MM, 0.0),  # 0: the stack keeps its slices
        roi_size=(PATCH, PATCH, 1), overlap=0.25, sw_batch_size=4, id=model_id)


def slice_network_state(state_2d: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """2D UNet weights as the weights of the (3, 3, 1)-kernel 3D UNet: every convolution gains a unit depth."""
    return {key: value.unsqueeze(-1) if value.dim() in (4,) else value for key, value in state_2d.items()}


def read_checkpoint(checkpoint: Path) -> dict:
    """A training checkpoint, read without executing code (``weights_only``); numpy float scalars are allowed
    because the first shipped run stored its learning rate as one."""
    allowed = [np._core.multiarray.scalar, np.dtype, type(np.dtype(np.float64))]
    with torch.serialization.safe_globals(allowed):
        return torch.load(checkpoint, map_location="cpu", weights_only=True)


def export_slice_segmenter(checkpoint: Path, weights: Path, model_id: str, metadata: dict | None = None) -> Path:
    """Write a training checkpoint as a shippable segmenter: ``<weights>.safetensors`` (the 3D form of the
    2D weights) and its config JSON beside it, loadable by ``synthtrust.segmentation.load_segmenter``."""
    saved = read_checkpoint(checkpoint)
    config = slice_network_config(model_id)
    network = build_network(config)
    network.load_state_dict(slice_network_state(saved["network"]), strict=True)
    save_weights(network, weights, {"iterations": saved["iteration"], "training_seconds": round(saved["seconds"]),
                                    **(metadata or {})})
    config.save(weights.with_suffix(".json"))
    return weights


def zscore_nonzero(images: np.ndarray) -> np.ndarray:
    """The product's ``zscore-nonzero`` normalisation, per image (the same input the shipped model sees)."""
    out = np.zeros_like(images)
    for k, image in enumerate(images):
        values = image[image != 0]
        if values.size:
            out[k] = np.where(image != 0, (image - values.mean()) / max(float(values.std()), 1e-6), 0)
    return out


@dataclass
class TrainingSchedule:
    deadline: float  # time.time() at which training stops
    batch_size: int = 8
    learning_rate: float = 2e-3
    log_every: int = 25
    checkpoint_every_s: float = 180.0
    max_iterations: int | None = None  # a cap (tests, quick runs); the deadline stops training otherwise


def _learning_rate(schedule: TrainingSchedule, start: float, now: float) -> float:
    """Cosine from the base rate to 5 % of it over the time left when training (re)started."""
    span = max(schedule.deadline - start, 1.0)
    progress = min(max((now - start) / span, 0.0), 1.0)
    return float(schedule.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + np.cos(np.pi * progress))))


def train_until(pool: list[Anatomy], schedule: TrainingSchedule, checkpoint: Path, log, seed: int = 0) -> dict:
    """Train :func:`unet_2d` on renderings of ``pool`` until the deadline; resume from ``checkpoint``."""
    from monai.losses import DiceCELoss

    network = unet_2d()
    optimizer = torch.optim.AdamW(network.parameters(), lr=schedule.learning_rate, weight_decay=1e-4)
    iteration, seconds, rng = 0, 0.0, np.random.default_rng(seed)
    if checkpoint.is_file():
        saved = read_checkpoint(checkpoint)
        network.load_state_dict(saved["network"])
        optimizer.load_state_dict(saved["optimizer"])
        iteration, seconds = saved["iteration"], saved["seconds"]
        rng = np.random.default_rng([seed, iteration])
        log(f"resumed at iteration {iteration} ({seconds:.0f} s trained)")
    loss_function = DiceCELoss(to_onehot_y=True, softmax=True, batch=True)
    start = last_save = time.time()
    network.train()
    losses: list[float] = []

    def save() -> None:
        torch.save({"network": network.state_dict(), "optimizer": optimizer.state_dict(), "iteration": iteration,
                    "seconds": seconds + time.time() - start}, checkpoint.with_suffix(".tmp"))
        checkpoint.with_suffix(".tmp").replace(checkpoint)

    while time.time() < schedule.deadline and (schedule.max_iterations is None
                                               or iteration < schedule.max_iterations):
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(schedule, start, time.time())
        images, labels, _ = render_batch(pool, schedule.batch_size, rng)
        x = torch.from_numpy(zscore_nonzero(images))[:, None]
        y = torch.from_numpy(labels.astype(np.int64))[:, None]
        loss = loss_function(network(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        iteration += 1
        losses.append(float(loss.detach()))
        if iteration % schedule.log_every == 0:
            log(json.dumps({"iteration": iteration, "loss": float(np.mean(losses[-schedule.log_every:])),
                            "lr": optimizer.param_groups[0]["lr"], "seconds": round(seconds + time.time() - start)}))
        if time.time() - last_save > schedule.checkpoint_every_s:
            save()
            last_save = time.time()
    save()
    return {"iterations": iteration, "seconds": seconds + time.time() - start}
