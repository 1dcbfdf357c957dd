"""Segmenters from config: every architecture builds, predictions land on the input grid in the schema's
labels with probabilities summing to 1, devices are chosen or refused clearly, channels are checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.models.device import choose_device
from synthtrust.segmentation import NetworkConfig, Segmenter, build_network
from synthtrust.segmentation.preprocessing import normalize_channel, working_geometry

TINY = {
    "unet": ({"channels": [4, 8], "strides": [2], "num_res_units": 0}, (16, 16, 16)),
    "segresnet": ({"init_filters": 8, "blocks_down": [1, 1], "blocks_up": [1]}, (16, 16, 16)),
    "swinunetr": ({"feature_size": 12, "depths": [1, 1, 1, 1], "num_heads": [3, 6, 12, 24]}, (64, 64, 64)),
}


def tiny_config(architecture: str = "unet", channels=("flair", "t1c"), task: str = "brain-tumor",
                label_values=(0, 1, 2, 4), spacing=(2.0, 2.0, 2.0)) -> NetworkConfig:
    kwargs, roi = TINY[architecture]
    return NetworkConfig(architecture, list(channels), task, list(label_values), dict(kwargs),
                         target_spacing_mm=spacing, roi_size=roi, id=f"tiny-{architecture}")


def tiny_segmenter(config: NetworkConfig | None = None, device: str = "cpu") -> Segmenter:
    config = config or tiny_config()
    torch.manual_seed(0)
    return Segmenter(build_network(config), config, device)


def anisotropic_image(rng, shape=(11, 19, 23), spacing=(1.3, 0.9, 2.5), name="") -> Image:
    return Image.from_array(rng.normal(100.0, 20.0, shape).astype(np.float32), spacing, (5.0, -3.0, 12.0),
                            name=name)


@pytest.mark.parametrize("architecture", ["unet", "segresnet", "swinunetr"])
def test_each_architecture_builds_from_config_and_predicts_on_the_input_grid(architecture, rng):
    config = tiny_config(architecture)
    segmenter = tiny_segmenter(config)
    flair, t1c = anisotropic_image(rng), anisotropic_image(rng)

    result = segmenter.predict([flair, t1c])

    assert result.labels.geometry.matches(flair.geometry)
    assert set(np.unique(result.labels.array)) <= {0, 1, 2, 4}
    assert result.probabilities.shape == (4, *flair.array.shape)
    assert result.probabilities.dtype == np.float32
    np.testing.assert_allclose(result.probabilities.sum(axis=0), 1.0, atol=1e-5)
    assert result.provenance["architecture"] == architecture


def test_a_config_round_trips_through_json(tmp_path):
    config = tiny_config("segresnet")
    path = config.save(tmp_path / "model.json")

    assert NetworkConfig.load(path) == config


def test_a_config_refuses_a_roi_the_network_cannot_take():
    with pytest.raises(InputError, match="multiple of 32"):
        NetworkConfig("swinunetr", ["t1"], "brain-tumor", [0, 1, 2, 4], {"feature_size": 12}, roi_size=(48, 64, 64))


def test_a_config_refuses_label_values_outside_the_task_schema():
    with pytest.raises(InputError, match=r"label values \[3\]"):
        NetworkConfig("unet", ["t1"], "brain-tumor", [0, 1, 3], TINY["unet"][0], roi_size=(16, 16, 16))


def test_labels_follow_the_argmax_of_the_model_on_its_own_grid(rng):
    config = tiny_config(spacing=None)
    segmenter = tiny_segmenter(config)
    image = Image.from_array(rng.normal(0, 1, (16, 16, 16)).astype(np.float32), (2.0, 2.0, 2.0))

    result = segmenter.predict([image, image])

    values = np.asarray(config.label_values)
    np.testing.assert_array_equal(result.labels.array, values[np.argmax(result.probabilities, axis=0)])


def test_zscore_nonzero_gives_the_same_input_for_raw_and_already_normalised_images(rng):
    raw = np.zeros((10, 12, 14), np.float32)
    raw[2:8, 3:9, 4:10] = rng.normal(600.0, 80.0, (6, 6, 6))
    once = normalize_channel(raw, "zscore-nonzero")
    whole_image_zscored = (raw - raw.mean()) / raw.std()  # background becomes a negative constant

    np.testing.assert_allclose(normalize_channel(once, "zscore-nonzero"), once, atol=1e-5)
    np.testing.assert_allclose(normalize_channel(whole_image_zscored, "zscore-nonzero"), once, atol=1e-4)
    assert np.all(once[raw == 0] == 0)


def test_the_working_grid_covers_the_same_physical_box(rng):
    image = anisotropic_image(rng)
    working = working_geometry(image.geometry, (2.0, 2.0, 2.0))

    def box(geometry):
        low = geometry.index_to_physical((-0.5, -0.5, -0.5))
        high = geometry.index_to_physical(np.asarray(geometry.size) - 0.5)
        return (low + high) / 2

    np.testing.assert_allclose(box(working), box(image.geometry), atol=1e-6)
    assert working.spacing == (2.0, 2.0, 2.0)


def test_progress_reports_every_window_and_cancel_stops_the_prediction(rng):
    from synthtrust.errors import CancelledError

    segmenter = tiny_segmenter(tiny_config(spacing=None))
    image = Image.from_array(rng.normal(0, 1, (20, 40, 40)).astype(np.float32))
    calls = []

    segmenter.predict([image, image], progress=lambda done, total, message: calls.append((done, total)))

    assert calls[-1][0] == calls[-1][1] == len(calls) > 1
    with pytest.raises(CancelledError):
        segmenter.predict([image, image], should_cancel=lambda: True)


def test_auto_device_falls_back_to_the_cpu_and_cpu_can_be_forced(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    assert choose_device("auto").type == "cpu"
    assert tiny_segmenter(device="cpu").device.type == "cpu"


def test_cuda_without_a_gpu_is_refused_saying_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    with pytest.raises(InputError, match="no usable CUDA GPU"):
        tiny_segmenter(device="cuda")
    with pytest.raises(InputError, match="use auto, cpu or cuda"):
        choose_device("tpu")


def test_a_missing_channel_is_refused_naming_the_channels_the_model_needs(rng):
    segmenter = tiny_segmenter()

    with pytest.raises(InputError, match=r"needs 2 channel\(s\) \(flair, t1c, in that order\) but 1 image"):
        segmenter.predict([anisotropic_image(rng)])


def test_wrongly_named_channels_are_refused_and_named_ones_are_reordered(rng):
    segmenter = tiny_segmenter()
    flair, t1c = anisotropic_image(rng, name="flair"), anisotropic_image(rng, name="t1c")

    with pytest.raises(InputError, match="images are t1, t2"):
        segmenter.predict([flair, t1c], channel_names=["t1", "t2"])
    assert segmenter.order_channels([t1c, flair], ["T1ce", "FLAIR"]) == [flair, t1c]
