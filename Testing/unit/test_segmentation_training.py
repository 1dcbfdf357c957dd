"""Training: a tiny seeded run learns (the loss falls), writes weights, config, model card and loss curve,
and the same seed gives the same weights on the CPU."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthtrust.errors import InputError
from synthtrust.segmentation import NetworkConfig, load_segmenter
from synthtrust.training.datasets import toy_dataset
from synthtrust.training.segmenter import TrainingConfig, prepare_case, sample_patch, train_segmenter


def toy_training(out_dir, seed: int = 0, iterations: int = 30, task: str = "brain-tumor") -> TrainingConfig:
    channels, values = (["flair", "t1c"], [0, 1, 2, 4]) if task == "brain-tumor" else (["lge"], [0, 1, 2, 3, 4])
    network = NetworkConfig("unet", channels, task, values, {"channels": [8, 16], "strides": [2], "num_res_units": 0},
                            target_spacing_mm=None, roi_size=(16, 16, 16), id=f"toy-{task}")
    dataset = toy_dataset(task, channels, seed=1, training_cases=2, validation_cases=1, shape=(20, 24, 24))
    return TrainingConfig(network, dataset, out_dir, iterations=iterations, seed=seed, learning_rate=5e-3,
                          external_evaluation=False)


def test_a_tiny_training_run_lowers_the_loss_and_writes_every_file(tmp_path):
    report = train_segmenter(toy_training(tmp_path))

    assert report.loss_decrease(window=5) > 0.2
    for name in ("toy-brain-tumor.safetensors", "toy-brain-tumor.json", "toy-brain-tumor.md",
                 "toy-brain-tumor_loss.png", "toy-brain-tumor_loss.csv", "toy-brain-tumor.manifest-entry.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert set(report.validation_dice) == {"NCR", "ED", "ET", "TC", "WT"}
    card = (tmp_path / "toy-brain-tumor.md").read_text(encoding="utf-8")
    assert "Seed 0, 30 iterations" in card and "licence" in card and report.sha256 in card
    entry = json.loads((tmp_path / "toy-brain-tumor.manifest-entry.json").read_text(encoding="utf-8"))
    assert entry["sha256"] == report.sha256 and entry["channels"] == ["flair", "t1c"]
    assert entry["training_data"][0]["licence"] == "project-generated"


def test_a_trained_model_loads_back_and_segments(tmp_path):
    report = train_segmenter(toy_training(tmp_path, iterations=3))
    case = toy_training(tmp_path).dataset.validation[0].build()

    segmenter = load_segmenter(report.files["weights"], device="cpu", task="brain-tumor")

    assert segmenter.predict(case.channels).labels.geometry.matches(case.labels.geometry)


def test_the_same_seed_gives_the_same_weights_and_another_seed_does_not(tmp_path):
    first = train_segmenter(toy_training(tmp_path / "a", seed=5, iterations=4))
    second = train_segmenter(toy_training(tmp_path / "b", seed=5, iterations=4))
    third = train_segmenter(toy_training(tmp_path / "c", seed=6, iterations=4))

    assert first.sha256 == second.sha256
    assert first.losses == second.losses
    assert third.sha256 != first.sha256


def test_patches_oversample_the_lesion(rng):
    config = toy_training(None)
    case = prepare_case(config.dataset.training[0].build(), config.network, (8, 8, 8))
    lesion_share = np.mean([sample_patch(case, (8, 8, 8), rng, 1.0)[1].any() for _ in range(50)])
    random_share = np.mean([sample_patch(case, (8, 8, 8), rng, 0.0)[1].any() for _ in range(200)])

    assert lesion_share == 1.0
    assert random_share < 0.9


def test_training_refuses_a_dataset_for_other_channels(tmp_path):
    config = toy_training(tmp_path)
    config.dataset = toy_dataset("brain-tumor", ["t1"])

    with pytest.raises(InputError, match="does not match the network"):
        train_segmenter(config)
