"""The mirror-fill refiner on tiny data: an untrained one returns the mirror fill, training runs, saves,
resumes and loads, and the loss is zero only for the truth."""

from __future__ import annotations

import json
import time

import numpy as np
import torch
from test_healthy_fill import region_at, symmetric_head

from synthtrust.imaging import io
from synthtrust.imaging.image import Image
from synthtrust.synthesis.fill_network import FillRefiner, fill_loss, load_refiner, refine
from synthtrust.training.healthy_fill import prepare_brain, sample, train


def test_an_untrained_refiner_returns_the_mirror_fill_and_changes_nothing_outside_the_region():
    head = symmetric_head()
    region = region_at((20, 24, 32))
    voided = np.where(region, 0.0, head)
    mirror = voided + region * 250.0
    smooth = voided + region * 200.0
    refined = refine(FillRefiner().eval(), voided, region, mirror, smooth)
    assert np.allclose(refined, mirror)
    network = FillRefiner().eval()
    with torch.no_grad():
        network.gain.fill_(1.0)
    changed = refine(network, voided, region, mirror, smooth)
    assert np.array_equal(changed[~region], mirror[~region]) and not np.allclose(changed[region], mirror[region])


def test_the_fill_loss_is_zero_for_the_truth_and_grows_with_the_error():
    rng = np.random.default_rng(0)
    target = torch.from_numpy(rng.random((1, 1, 16, 16, 16)).astype(np.float32))
    region = torch.zeros_like(target)
    region[..., 4:12, 4:12, 4:12] = 1
    assert fill_loss(target, target, region).item() < 1e-5
    slightly, badly = (fill_loss(target + s * torch.randn_like(target), target, region).item() for s in (0.05, 0.3))
    assert 0 < slightly < badly


def test_training_on_tiny_brains_saves_resumes_and_loads(tmp_path):
    paths = []
    for seed in (0, 1):
        path = tmp_path / f"head{seed}.nii.gz"
        io.save_image(Image.from_array(symmetric_head(seed).astype(np.float32), spacing=(2.0, 2.0, 2.0)), path)
        paths.append(path)
    inputs, target = sample(prepare_brain(paths[0]), np.random.default_rng(3), 48)
    assert inputs.shape == (4, 48, 48, 48) and target.shape == (1, 48, 48, 48)
    region = inputs[1] > 0
    assert region.any() and np.all(inputs[0][region] == 0) and np.all(inputs[2][~region] == inputs[0][~region])
    out = tmp_path / "refiner"
    weights = train(paths, out, until=time.time() + 600, iterations=2, save_every=1, log=lambda line: None)
    assert json.loads((out / "state.json").read_text(encoding="utf-8"))["iteration"] == 2
    first = load_refiner(weights).gain.item()
    assert first != 0.0  # two Adam steps moved the residual's gain off zero
    train(paths, out, until=time.time() + 600, iterations=3, save_every=1, log=lambda line: None)
    assert json.loads((out / "state.json").read_text(encoding="utf-8"))["iteration"] == 3
    assert len((out / "history.csv").read_text(encoding="utf-8").splitlines()) == 3
