"""The slice-wise LGE segmenter: trained on renderings, resumed from its checkpoint, shipped as a 3D UNet
with (3, 3, 1) kernels that the product's Segmenter runs on stacks of any slice count."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.segmentation.config import NetworkConfig
from synthtrust.segmentation.loading import load_segmenter
from synthtrust.segmentation.networks import build_network
from synthtrust.training.lge_anatomies import build_anatomy_pool, phantom_anatomies
from synthtrust.training.lge_segmenter import (
    TrainingSchedule,
    export_slice_segmenter,
    slice_network_config,
    slice_network_state,
    train_until,
    unet_2d,
)


def test_the_3d_form_computes_exactly_what_the_2d_network_computes():
    torch.manual_seed(0)
    network_2d = unet_2d().eval()
    network_3d = build_network(slice_network_config()).eval()
    network_3d.load_state_dict(slice_network_state(network_2d.state_dict()), strict=True)
    x = torch.randn(2, 1, 64, 48)
    with torch.no_grad():
        np.testing.assert_allclose(network_3d(x[..., None])[..., 0].numpy(), network_2d(x).numpy(), atol=1e-4)


def test_a_config_keeps_the_input_spacing_on_an_axis_given_as_zero_but_not_on_all():
    assert slice_network_config().target_spacing_mm == (1.5, 1.5, 0.0)
    with pytest.raises(InputError, match="0 keeps the input's spacing"):
        NetworkConfig(**{**slice_network_config().__dict__, "target_spacing_mm": (0.0, 0.0, 0.0)})
    with pytest.raises(InputError, match="multiple of"):
        NetworkConfig(**{**slice_network_config().__dict__, "roi_size": (100, 128, 1)})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lge")
    pool = build_anatomy_pool(phantom_anatomies(1, seed=2), scars_per_variant=1, thickening=((0, 0),))
    lines: list[str] = []
    checkpoint = folder / "checkpoint.pt"
    schedule = TrainingSchedule(deadline=time.time() + 600, batch_size=2, log_every=1, max_iterations=2)
    first = train_until(pool, schedule, checkpoint, lines.append)
    schedule.max_iterations = 3
    second = train_until(pool, schedule, checkpoint, lines.append)
    return folder, checkpoint, first, second, lines


def test_training_writes_a_checkpoint_it_resumes_from(trained):
    _, checkpoint, first, second, lines = trained
    assert checkpoint.is_file()
    assert first["iterations"] == 2 and second["iterations"] == 3
    assert any("resumed at iteration 2" in line for line in lines)
    assert sum('"loss"' in line for line in lines) == 3


@pytest.mark.parametrize("slices", [1, 3, 5])
def test_the_exported_model_segments_stacks_of_one_to_five_slices(trained, slices):
    folder, checkpoint, *_ = trained
    weights = export_slice_segmenter(checkpoint, folder / "lge2d.safetensors", "lge2d-test")
    segmenter = load_segmenter(weights, device="cpu", task="cardiac-scar")
    rng = np.random.default_rng(slices)
    image = Image.from_array(rng.random((slices, 70, 90)).astype(np.float32), (1.4, 1.4, 8.0), name="lge")
    result = segmenter.predict([image])
    labels = result.labels
    assert labels.array.shape == (slices, 70, 90)
    # The stack keeps its own slices (no interpolation between slices 8 mm apart), in-plane 1.5 mm.
    assert result.provenance["working_spacing_mm"] == pytest.approx([1.5, 1.5, 8.0])
    assert set(np.unique(labels.array)) <= {0, 1, 2, 3, 4}


def test_the_shipped_slice_wise_model_segments_a_three_slice_lge_stack():
    from pathlib import Path

    from synthtrust.phantoms.cardiac import make_lge_phantom

    weights = Path(__file__).resolve().parents[2] / "Resources" / "Models" / "cardiac-scar-lge-unet2d.safetensors"
    segmenter = load_segmenter(weights, device="cpu", task="cardiac-scar")
    image, labels = make_lge_phantom(seed=9, shape=(3, 128, 128), spacing=(1.5, 1.5, 15.0))
    predicted = segmenter.predict([image]).labels.array
    truth, found = np.isin(labels.array, (2, 3, 4)), np.isin(predicted, (2, 3, 4))
    assert predicted.shape == labels.array.shape
    assert 2 * (truth & found).sum() / (truth.sum() + found.sum()) > 0.3  # a project phantom: its training domain
