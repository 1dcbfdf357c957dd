"""The study's segmenter: a small 2D MONAI U-Net trained on slices (Dice + cross-entropy, AdamW, random
flips and quarter turns), seeded, one torch thread per task so tasks can run side by side."""

from __future__ import annotations

import time

import numpy as np
import torch

from synthtrust.study.data import SlicePool

CHANNELS = (16, 32, 64, 128)


def build_network(classes: int) -> torch.nn.Module:
    from monai.networks.nets import UNet

    return UNet(spatial_dims=2, in_channels=1, out_channels=classes, channels=CHANNELS, strides=(2, 2, 2),
                num_res_units=1, norm="instance")


def _augment(images: np.ndarray, classes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    turns = int(rng.integers(4))
    images, classes = np.rot90(images, turns, (1, 2)), np.rot90(classes, turns, (1, 2))
    if rng.random() < 0.5:
        images, classes = images[:, :, ::-1], classes[:, :, ::-1]
    scale = rng.uniform(0.8, 1.2, (len(images), 1, 1))
    shift = rng.uniform(-0.2, 0.2, (len(images), 1, 1))
    return np.ascontiguousarray(images * scale + shift, np.float32), np.ascontiguousarray(classes)


def train(pool: SlicePool, label_values: list[int], iterations: int, batch_size: int, learning_rate: float,
          seed: int) -> tuple[torch.nn.Module, list[float], float]:
    """The trained network, its losses and the training seconds."""
    from monai.losses import DiceCELoss

    lookup = np.zeros(256, np.int64)
    lookup[label_values] = np.arange(len(label_values))
    classes = lookup[pool.labels]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    network = build_network(len(label_values))
    optimizer = torch.optim.AdamW(network.parameters(), lr=learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, iterations, eta_min=0.05 * learning_rate)
    loss_function = DiceCELoss(to_onehot_y=True, softmax=True, batch=True)
    losses = []
    started = time.perf_counter()
    network.train()
    for _ in range(iterations):
        pick = rng.integers(0, len(pool), batch_size)
        images, targets = _augment(pool.images[pick], classes[pick], rng)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(network(torch.from_numpy(images)[:, None]), torch.from_numpy(targets)[:, None])
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.item()))
    return network.eval(), losses, time.perf_counter() - started


def predict(network: torch.nn.Module, images: np.ndarray, label_values: list[int], batch: int = 16) -> np.ndarray:
    """Label values ``(N, S, S)`` for z-scored slices ``(N, S, S)``."""
    values = np.asarray(label_values, np.uint8)
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            logits = network(torch.from_numpy(np.ascontiguousarray(images[start:start + batch]))[:, None])
            out.append(values[logits.argmax(1).numpy()])
    return np.concatenate(out) if out else np.zeros((0,) + images.shape[1:], np.uint8)
