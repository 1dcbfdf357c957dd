"""Training a segmenter from scratch: seeded patch sampling with foreground oversampling, flips and
intensity jitter, Dice + cross-entropy (MONAI ``DiceCELoss``), AdamW with a cosine schedule, a fixed
number of iterations; then validation Dice per region with the project's own metrics.

Writes ``<out>/<id>.safetensors``, ``<out>/<id>.json`` (network config), ``<out>/<id>.md`` (model card),
``<out>/<id>_loss.png`` + ``<out>/<id>_loss.csv`` (loss curve) and ``<out>/<id>.manifest-entry.json``.
On the CPU the same seed gives the same weights, bit for bit (same machine, same thread count).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from synthtrust.errors import CancelledError, InputError
from synthtrust.models.checkpoints import save_weights
from synthtrust.models.device import choose_device
from synthtrust.provenance import file_sha256
from synthtrust.segmentation.config import NetworkConfig
from synthtrust.segmentation.networks import build_network
from synthtrust.segmentation.preprocessing import prepare_channels, prepare_labels
from synthtrust.segmentation.segmenter import Segmenter
from synthtrust.training.datasets import Case, Dataset
from synthtrust.training.segmenter_card import write_model_files
from synthtrust.training.validation import external_evaluation, region_dice

TrainingProgress = Callable[[int, int, float], None]  # (iteration done, total, loss)


@dataclass
class TrainingConfig:
    """Everything a training run depends on; ``patch`` size is the network's ``roi_size``."""

    network: NetworkConfig
    dataset: Dataset
    out_dir: Path
    iterations: int = 1000
    seed: int = 0
    batch_size: int = 2
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    foreground_fraction: float = 0.67  # share of patches centred on a labelled voxel (a class drawn uniformly)
    flip_axes: tuple[int, ...] = (0,)  # network axes (x, y, z) flipped at random; x = left-right
    rotate_plane: tuple[int, int] | None = None  # random multiples of 90 degrees in this plane (e.g. short axis)
    intensity_scale: float = 0.2  # channel * U(1 - s, 1 + s)
    intensity_shift: float = 0.2  # + U(-t, t), in z-score units
    gamma: float = 0.4  # contrast curve x ** exp(U(-g, g)) on the patch's own range: robustness to other scanners
    noise: float = 0.1  # + Gaussian noise of standard deviation U(0, n), in z-score units
    device: str = "cpu"
    command: str = ""  # the command line, recorded in the model card
    title: str = ""
    external_evaluation: bool = True  # cardiac: Dice on the real EMIDEC case when present (evaluation only)
    data_root: Path | None = None  # where the external evaluation data lives (default: datasets.data_root())

    def validate(self) -> None:
        if self.iterations < 1:
            raise InputError(f"iterations {self.iterations} must be at least 1")
        if self.batch_size < 1:
            raise InputError(f"batch size {self.batch_size} must be at least 1")
        if not 0.0 <= self.foreground_fraction <= 1.0:
            raise InputError(f"foreground fraction {self.foreground_fraction} must be within 0-1")
        if self.rotate_plane is not None:
            a, b = self.rotate_plane
            if self.network.roi_size[a] != self.network.roi_size[b]:
                raise InputError(f"rotations in plane {self.rotate_plane} need a square patch there, not "
                                 f"{self.network.roi_size}")
        if self.dataset.task != self.network.task or self.dataset.channels != self.network.channels:
            raise InputError(f"dataset {self.dataset.name} ({self.dataset.task}, {self.dataset.channels}) does not "
                             f"match the network ({self.network.task}, {self.network.channels})")
        if self.network.output != "softmax":
            raise InputError(f"network output {self.network.output!r}: training writes softmax segmenters only "
                             "(Dice + cross-entropy over classes); set output to \"softmax\"")
        if not self.network.id:
            raise InputError("the network config needs an id: it names the files written")
        if not self.dataset.training:
            raise InputError(f"dataset {self.dataset.name} has no training case")

    def hyperparameters(self) -> dict:
        return {"iterations": self.iterations, "seed": self.seed, "batch_size": self.batch_size,
                "patch_size_xyz": list(self.network.roi_size), "learning_rate": self.learning_rate,
                "weight_decay": self.weight_decay, "optimizer": "AdamW, cosine annealing to 5% of the rate",
                "loss": "MONAI DiceCELoss (softmax, one-hot target, batch Dice)",
                "foreground_fraction": self.foreground_fraction, "flip_axes_xyz": list(self.flip_axes),
                "rotate_plane_xyz": list(self.rotate_plane) if self.rotate_plane else None,
                "intensity_scale": self.intensity_scale, "intensity_shift": self.intensity_shift,
                "gamma": self.gamma, "noise": self.noise,
                "device": self.device, "torch_threads": torch.get_num_threads()}


@dataclass
class TrainingReport:
    """What a run produced and measured."""

    model_id: str
    files: dict[str, str]
    losses: list[float]
    validation_dice: dict[str, float]
    validation_cases: dict[str, dict[str, float]]
    training_cases: list[str]
    seconds: dict[str, float]
    cpu_inference_seconds: float | None
    reference_image: str
    peak_memory_mb: float
    parameters: int
    sha256: str = ""
    size_bytes: int = 0
    external_evaluation: dict = field(default_factory=dict)

    def loss_decrease(self, window: int = 10) -> float:
        """Mean of the first ``window`` losses minus the mean of the last ``window`` (positive = learned)."""
        window = max(1, min(window, len(self.losses) // 2))
        return float(np.mean(self.losses[:window]) - np.mean(self.losses[-window:]))


@dataclass
class _PreparedCase:
    name: str
    volume: np.ndarray  # (C, x, y, z) float32, padded to at least the patch size
    classes: np.ndarray  # (x, y, z) uint8 class indices
    foreground: dict[int, np.ndarray]  # class index -> flat indices of its voxels


def prepare_case(case: Case, config: NetworkConfig, patch: tuple[int, int, int]) -> _PreparedCase:
    """A case on the model's working grid, normalised exactly as at inference, padded to the patch."""
    volume, working = prepare_channels(case.channels, config)
    classes = prepare_labels(case.labels, working, config.label_values)
    padding = [(0, max(0, p - s)) for p, s in zip(patch, classes.shape, strict=True)]
    if any(after for _, after in padding):
        volume = np.pad(volume, [(0, 0)] + padding)
        classes = np.pad(classes, padding)
    present = [int(k) for k in np.unique(classes) if k > 0]
    foreground = {k: np.flatnonzero(classes == k) for k in present}
    return _PreparedCase(case.name, volume, classes, foreground)


def sample_patch(case: _PreparedCase, patch: tuple[int, int, int], rng: np.random.Generator,
                 foreground_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """One patch: centred on a voxel of a randomly chosen present class, or anywhere."""
    shape = np.asarray(case.classes.shape)
    size = np.asarray(patch)
    if case.foreground and rng.random() < foreground_fraction:
        classes = sorted(case.foreground)
        voxels = case.foreground[classes[int(rng.integers(len(classes)))]]
        center = np.asarray(np.unravel_index(voxels[int(rng.integers(len(voxels)))], case.classes.shape))
    else:
        center = np.asarray([int(rng.integers(n)) for n in shape])
    start = np.clip(center - size // 2, 0, shape - size)
    box = tuple(slice(int(a), int(a + n)) for a, n in zip(start, size, strict=True))
    return case.volume[(slice(None),) + box], case.classes[box]


def augment(volume: np.ndarray, classes: np.ndarray, rng: np.random.Generator,
            config: TrainingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Random flips along ``flip_axes`` and quarter turns in ``rotate_plane``; per channel a gamma curve, a
    scale and shift, and noise."""
    for axis in config.flip_axes:
        if rng.random() < 0.5:
            volume, classes = np.flip(volume, axis + 1), np.flip(classes, axis)
    if config.rotate_plane is not None:
        turns, (a, b) = int(rng.integers(4)), config.rotate_plane
        volume, classes = np.rot90(volume, turns, (a + 1, b + 1)), np.rot90(classes, turns, (a, b))
    channels = volume.shape[0]
    volume = volume.astype(np.float32)  # a copy: patches are views into the prepared case
    for c in range(channels):
        low, high = float(volume[c].min()), float(volume[c].max())
        if config.gamma > 0 and high > low:
            exponent = float(np.exp(rng.uniform(-config.gamma, config.gamma)))
            volume[c] = low + (high - low) * ((volume[c] - low) / (high - low)) ** exponent
    scale = rng.uniform(1.0 - config.intensity_scale, 1.0 + config.intensity_scale, (channels, 1, 1, 1))
    shift = rng.uniform(-config.intensity_shift, config.intensity_shift, (channels, 1, 1, 1))
    volume = volume * scale + shift
    if config.noise > 0:
        volume += rng.normal(0.0, 1.0, volume.shape) * rng.uniform(0.0, config.noise, (channels, 1, 1, 1))
    return volume.astype(np.float32), np.ascontiguousarray(classes)


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def train_segmenter(config: TrainingConfig, progress: TrainingProgress | None = None,
                    should_cancel: Callable[[], bool] | None = None,
                    log: Callable[[str], None] | None = None) -> TrainingReport:
    """Train, validate and write the model files (see the module docstring); returns the report."""
    from monai.losses import DiceCELoss

    config.validate()
    log = log or (lambda message: None)
    device = choose_device(config.device)
    patch = tuple(config.network.roi_size)
    started = time.perf_counter()
    log(f"preparing {len(config.dataset.training)} training cases")
    prepared, names = [], []
    for spec in config.dataset.training:
        prepared.append(prepare_case(spec.build(), config.network, patch))
        names.append(spec.name)
    data_seconds = time.perf_counter() - started

    # Seed everything that draws random numbers: torch (weights), numpy (patches, augmentation).
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    network = build_network(config.network).to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.iterations,
                                                          eta_min=0.05 * config.learning_rate)
    loss_function = DiceCELoss(to_onehot_y=True, softmax=True, batch=True)
    losses: list[float] = []
    network.train()
    training_started = time.perf_counter()
    for iteration in range(config.iterations):
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"training cancelled after {iteration} iterations; nothing was written")
        batch = [augment(*sample_patch(prepared[int(rng.integers(len(prepared)))], patch, rng,
                                       config.foreground_fraction), rng, config)
                 for _ in range(config.batch_size)]
        inputs = torch.from_numpy(np.stack([b[0] for b in batch])).to(device)
        targets = torch.from_numpy(np.stack([b[1] for b in batch]).astype(np.int64))[:, None].to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(network(inputs), targets)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.item()))
        if progress is not None:
            progress(iteration + 1, config.iterations, losses[-1])
    training_seconds = time.perf_counter() - training_started
    del prepared

    network = network.cpu().eval()
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = save_weights(network, out / f"{config.network.id}.safetensors",
                           {"model_id": config.network.id, "format": "synthtrust-segmenter", "seed": config.seed,
                            "iterations": config.iterations})
    sha256 = file_sha256(weights)
    segmenter = Segmenter(network, config.network, "cpu", config.network.id, sha256, str(weights))

    log(f"validating on {len(config.dataset.validation)} held-out cases")
    validation_started = time.perf_counter()
    per_case: dict[str, dict[str, float]] = {}
    reference: Case | None = None
    for spec in config.dataset.validation:
        case = spec.build()
        per_case[spec.name] = region_dice(case, segmenter)
        reference = reference or case
    regions = next(iter(per_case.values()), {})
    mean_dice = {r: float(np.nanmean([d[r] for d in per_case.values()])) for r in regions}
    # CPU inference time on a reference image (a validation case), after one warm-up run above.
    cpu_seconds, reference_name = None, ""
    if reference is not None:
        timed = time.perf_counter()
        segmenter.predict(reference.channels)
        cpu_seconds = round(time.perf_counter() - timed, 2)
        reference_name = f"{reference.name} ({reference.channels[0].geometry.describe()})"
    external = external_evaluation(segmenter, config.data_root) if config.external_evaluation else {}
    validation_seconds = time.perf_counter() - validation_started

    report = TrainingReport(
        config.network.id, {"weights": str(weights)}, losses, mean_dice, per_case, names,
        {"data": round(data_seconds, 1), "training": round(training_seconds, 1),
         "validation": round(validation_seconds, 1), "total": round(time.perf_counter() - started, 1)},
        cpu_seconds, reference_name, round(_peak_memory_mb(), 1),
        int(sum(p.numel() for p in network.parameters())), sha256, weights.stat().st_size, external)
    write_model_files(config, report)
    return report
