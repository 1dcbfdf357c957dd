"""Train the mirror-fill refiner (`synthesis.fill_network`) on healthy brains with tumour-shaped holes.

Each brain is mirror-registered once (healthy, nothing hidden); each sample places a random tumour-shaped
region (`place_tumor`, as the evaluation draws them), voids it, builds the mirror and smooth fills of a
patch around it and asks the network for the true tissue. Training stops at ``until`` (a wall-clock
time), writing a checkpoint every ``save_every`` iterations that a later run resumes from.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from synthtrust.editing.brain_mask import derive_brain_mask
from synthtrust.editing.tumor import place_tumor
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image
from synthtrust.models.checkpoints import read_state_dict, save_weights
from synthtrust.synthesis.fill_network import (
    FillNetworkConfig,
    FillRefiner,
    fill_loss,
    intensity_scale,
    network_inputs,
    pad_to,
    patch_box,
)
from synthtrust.synthesis.healthy_fill import mirror_fill, smooth_fill
from synthtrust.synthesis.symmetry import Reflection, left_right_axis, reflect


@dataclass
class Brain:
    image: Image
    reflection: Reflection
    centres: np.ndarray  # voxels >= 12 mm inside the brain mask, where region centres are drawn
    brain: Image


def prepare_brain(path: Path) -> Brain:
    image = load_image(path, "T1")
    brain = derive_brain_mask(image)
    depth = ndimage.distance_transform_edt(brain.array > 0, sampling=image.spacing_zyx)
    reflection = reflect(image.array, image.spacing_zyx, left_right_axis(image.geometry),
                         np.zeros(image.array.shape, bool))
    return Brain(image, reflection, np.argwhere(depth > 12.0), brain)


def sample(brain: Brain, rng: np.random.Generator, patch: int) -> tuple[np.ndarray, np.ndarray]:
    """One (inputs, target) pair: inputs (4, p, p, p) and target (1, p, p, p), both scaled."""
    image = brain.image
    for _ in range(20):
        z, y, x = brain.centres[rng.integers(len(brain.centres))]
        try:
            edit = place_tumor(image, image.geometry.index_to_physical((x, y, z)), float(rng.uniform(15.0, 30.0)),
                               seed=int(rng.integers(1_000_000)), brain_mask=brain.brain)
            break
        except InputError:
            continue
    else:
        raise RuntimeError("no tumour-shaped region could be placed in this brain")
    region = edit.labels.array > 0
    values = image.array.astype(np.float64)
    voided = np.where(region, 0.0, values)
    jitter = rng.integers(-4, 5, size=3)
    box = patch_box(np.array(ndimage.center_of_mass(region)).astype(int) + jitter, region.shape, patch)
    spacing = image.spacing_zyx
    crop_region, crop_voided = region[box], voided[box]
    mirror = mirror_fill(crop_voided, crop_region, spacing, brain.reflection.mirror(voided, box),
                         brain.reflection.twin_known(region, box))
    smooth = smooth_fill(crop_voided, crop_region, spacing)
    scale = intensity_scale(voided, region)
    inputs = network_inputs(crop_voided, crop_region, mirror, smooth, scale)
    target = (values[box] / scale).astype(np.float32)[None]
    if rng.random() < 0.5:  # the other hemisphere's view of the same anatomy
        axis = brain.reflection.axis + 1
        inputs, target = np.flip(inputs, axis), np.flip(target, axis)
    return (np.stack([pad_to(c, patch) for c in inputs]), pad_to(target[0], patch)[None])


def train(paths: list[Path], out: Path, until: float, batch_size: int = 2, learning_rate: float = 1e-3,
          seed: int = 0, save_every: int = 50, log=print, iterations: int | None = None) -> Path:
    """Train until the wall-clock time ``until`` (seconds since the epoch), or ``iterations`` in all if given
    first; resume from ``out`` if it holds a checkpoint."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    config = FillNetworkConfig()
    network = FillRefiner(config)
    optimiser = torch.optim.Adam(network.parameters(), lr=learning_rate)
    weights, state_file, history_file = out / "weights.safetensors", out / "state.json", out / "history.csv"
    out.mkdir(parents=True, exist_ok=True)
    iteration, cpu_seconds = 0, 0.0
    if weights.exists() and state_file.exists():
        network.load_state_dict(read_state_dict(weights))
        state = json.loads(state_file.read_text(encoding="utf-8"))
        iteration, cpu_seconds = state["iteration"], state["cpu_seconds"]
        rng = np.random.default_rng(seed + iteration)
        log(f"resumed at iteration {iteration}")
    brains: dict[int, Brain] = {}
    started_cpu = time.process_time()
    def more() -> bool:
        return time.time() < until and (iterations is None or iteration < iterations)

    while more():
        batch = []
        for _ in range(batch_size):
            index = int(rng.integers(len(paths)))
            if index not in brains:
                brains[index] = prepare_brain(paths[index])
            batch.append(sample(brains[index], rng, config.patch))
        inputs = torch.from_numpy(np.stack([b[0] for b in batch]))
        target = torch.from_numpy(np.stack([b[1] for b in batch]))
        prediction = network(inputs)
        loss = fill_loss(prediction, target, inputs[:, 1:2])
        baseline = fill_loss(inputs[:, 2:3], target, inputs[:, 1:2])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        iteration += 1
        with history_file.open("a", encoding="utf-8") as history:
            history.write(f"{iteration},{loss.item():.5f},{baseline.item():.5f},{network.gain.item():.5f}\n")
        if iteration % save_every == 0 or not more():
            elapsed = cpu_seconds + time.process_time() - started_cpu
            save_weights(network, weights, {"config": config.to_dict(), "iteration": iteration,
                                            "training": "IXI T1 2 mm (CC BY-SA 3.0), train split"})
            state_file.write_text(json.dumps({"iteration": iteration, "cpu_seconds": round(elapsed, 1)}),
                                  encoding="utf-8")
            log(f"iteration {iteration}: loss {loss.item():.4f} (mirror fill {baseline.item():.4f}), "
                f"gain {network.gain.item():.4f}, {elapsed:.0f} CPU s, {len(brains)} brains")
    return weights
