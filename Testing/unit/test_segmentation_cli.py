"""``synthtrust segment`` and ``synthtrust train-segmenter`` end to end on tiny data: files written on the
image grid with provenance, refusals as one line with exit code 2, a trained model usable as a default."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk
from test_segmentation_inference import tiny_segmenter

from synthtrust.cli.main import main
from synthtrust.imaging.io import load_image, save_image
from synthtrust.models.checkpoints import save_weights
from synthtrust.training.datasets import toy_case


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip()


@pytest.fixture
def images(tmp_path):
    case = toy_case("brain-tumor", ["flair", "t1c"], seed=3, shape=(12, 18, 20), spacing=(1.2, 1.0, 2.0))
    return [save_image(channel, tmp_path / f"{channel.name}.nii.gz") for channel in case.channels]


@pytest.fixture
def empty_resources(tmp_path, monkeypatch):
    models = tmp_path / "Resources" / "Models"
    models.mkdir(parents=True)
    (models / "manifest.json").write_text(json.dumps({"models": []}), encoding="utf-8")
    monkeypatch.setenv("SYNTHTRUST_RESOURCES", str(tmp_path / "Resources"))
    return models


def test_segment_writes_labels_probabilities_and_provenance_on_the_image_grid(tmp_path, images, capsys):
    segmenter = tiny_segmenter()
    save_weights(segmenter.network, tmp_path / "model.safetensors")
    segmenter.config.save(tmp_path / "model.json")
    out = tmp_path / "out" / "labels.nii.gz"

    code, _ = run_cli(capsys, "segment", "--image", images[1], "--image", images[0], "--channels", "t1c,flair",
                      "--task", "brain-tumor", "--out", out, "--model", tmp_path / "model.safetensors",
                      "--device", "cpu", "--probabilities", tmp_path / "out" / "probabilities.nii.gz")

    assert code == 0
    labels, reference = load_image(out), load_image(images[0])
    assert labels.geometry.matches(reference.geometry)
    assert set(np.unique(labels.array)) <= {0, 1, 2, 4}
    probabilities = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / "probabilities.nii.gz")))
    assert probabilities.shape == (4, *reference.array.shape)
    record = json.loads((tmp_path / "out" / "labels.provenance.json").read_text(encoding="utf-8"))
    assert record["segmenter"]["sha256"] and record["segmenter"]["device"] == "cpu"
    assert record["parameters"]["channels"] == ["t1c", "flair"]


def test_segment_without_an_installed_default_refuses_in_one_line(tmp_path, images, empty_resources, capsys):
    code, message = run_cli(capsys, "segment", "--image", images[0], "--task", "brain-tumor",
                            "--out", tmp_path / "labels.nii.gz")

    assert code == 2 and len(message.splitlines()) == 1
    assert "no default brain-tumor model is installed" in message
    assert not (tmp_path / "labels.nii.gz").exists()


def test_segment_asks_to_name_several_images(tmp_path, images, capsys):
    code, message = run_cli(capsys, "segment", "--image", images[0], "--image", images[1], "--task", "brain-tumor",
                            "--out", tmp_path / "labels.nii.gz")

    assert code == 2 and "--channels flair,t1c" in message


def test_a_model_trained_by_the_cli_serves_as_the_default(tmp_path, images, empty_resources, capsys):
    code, _ = run_cli(capsys, "train-segmenter", "--task", "brain-tumor", "--channels", "flair,t1c",
                      "--out", empty_resources, "--iterations", 3, "--seed", 1, "--dataset", "toy",
                      "--update-manifest")
    assert code == 0
    manifest = json.loads((empty_resources / "manifest.json").read_text(encoding="utf-8"))
    assert [m["id"] for m in manifest["models"]] == ["brain-tumor-flair-t1c-unet"]

    code, _ = run_cli(capsys, "segment", "--image", images[0], "--image", images[1], "--channels", "flair,t1c",
                      "--task", "brain-tumor", "--out", tmp_path / "labels.nii.gz")

    assert code == 0
    record = json.loads((tmp_path / "labels.provenance.json").read_text(encoding="utf-8"))
    assert record["segmenter"]["model_id"] == "brain-tumor-flair-t1c-unet"
