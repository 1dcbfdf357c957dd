"""Loading segmenters from local files: safetensors and .pt checkpoints with their configs, MONAI bundle
folders, and the shipped defaults through the manifest, with clear refusals for what does not fit."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_segmentation_inference import tiny_config, tiny_segmenter

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.models.checkpoints import save_weights
from synthtrust.models.manifest import read_manifest, resolve_default_model
from synthtrust.models.model_files import update_manifest
from synthtrust.provenance import file_sha256
from synthtrust.segmentation import NetworkConfig, load_default_segmenter, load_segmenter


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


@pytest.fixture
def checkpoint(tmp_path):
    """A tiny UNet saved as safetensors with its config beside it."""
    segmenter = tiny_segmenter()
    weights = save_weights(segmenter.network, tmp_path / "tiny.safetensors")
    segmenter.config.save(tmp_path / "tiny.json")
    return segmenter, weights


def test_a_safetensors_checkpoint_round_trips_with_its_config(checkpoint, rng):
    original, weights = checkpoint

    loaded = load_segmenter(weights, device="cpu")

    assert same_weights(original.network, loaded.network)
    assert loaded.config == original.config
    assert loaded.sha256 == file_sha256(weights)
    image = Image.from_array(rng.normal(0, 1, (12, 16, 16)).astype(np.float32))
    np.testing.assert_array_equal(original.predict([image, image]).probabilities,
                                  loaded.predict([image, image]).probabilities)


def test_a_pt_state_dict_loads_with_weights_only(checkpoint, tmp_path):
    original, _ = checkpoint
    torch.save({"state_dict": original.network.state_dict()}, tmp_path / "other.pt")
    original.config.save(tmp_path / "other.json")

    loaded = load_segmenter(tmp_path / "other.pt", device="cpu")

    assert same_weights(original.network, loaded.network)


def test_a_pickled_whole_model_is_refused_not_executed(checkpoint, tmp_path):
    original, _ = checkpoint
    torch.save(original.network, tmp_path / "pickled.pt")
    original.config.save(tmp_path / "pickled.json")

    with pytest.raises(InputError, match="only plain state dicts are loaded"):
        load_segmenter(tmp_path / "pickled.pt")


def test_a_checkpoint_that_does_not_fit_its_network_names_offending_keys(checkpoint, tmp_path):
    _, weights = checkpoint
    wider = tiny_config()
    wider.network_kwargs = {"channels": [6, 8], "strides": [2], "num_res_units": 0}
    wider.save(tmp_path / "tiny.json")

    with pytest.raises(InputError) as error:
        load_segmenter(weights)

    message = str(error.value)
    assert "does not fit the UNet" in message and "shape mismatch" in message
    assert "model.0.conv.weight" in message and "trained with" in message


def test_a_checkpoint_without_its_config_says_where_the_config_is_expected(checkpoint):
    _, weights = checkpoint
    weights.with_name("tiny.json").unlink()

    with pytest.raises(InputError, match="tiny.json"):
        load_segmenter(weights)


def write_bundle(folder, network: torch.nn.Module, network_def: dict, metadata: dict | None = None):
    (folder / "configs").mkdir(parents=True)
    (folder / "models").mkdir()
    inference = {"num_classes": 4, "network_def": network_def,
                 "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [16, 16, 16], "overlap": 0.5}}
    (folder / "configs" / "inference.json").write_text(json.dumps(inference))
    if metadata is not None:
        (folder / "configs" / "metadata.json").write_text(json.dumps(metadata))
    torch.save(network.state_dict(), folder / "models" / "model.pt")
    return folder


BUNDLE_NETWORK = {"_target_": "UNet", "spatial_dims": 3, "in_channels": 2, "out_channels": "@num_classes",
                  "channels": [4, 8], "strides": [2], "num_res_units": 0}
BUNDLE_METADATA = {
    "name": "tiny bundle",
    "network_data_format": {
        "inputs": {"image": {"num_channels": 2, "channel_def": {"0": "FLAIR", "1": "T1c"}}},
        "outputs": {"pred": {"num_channels": 4, "channel_def": {"0": "background", "1": "NCR", "2": "ED",
                                                                 "3": "ET"}}},
    },
}


def test_a_monai_bundle_folder_loads_its_network_channels_and_labels(tmp_path, rng):
    original = tiny_segmenter()
    folder = write_bundle(tmp_path / "bundle", original.network, BUNDLE_NETWORK, BUNDLE_METADATA)

    loaded = load_segmenter(folder, device="cpu", task="brain-tumor")

    assert same_weights(original.network, loaded.network)
    assert loaded.config.channels == ["flair", "t1c"]
    assert loaded.config.label_values == [0, 1, 2, 4]
    assert loaded.config.roi_size == (16, 16, 16)
    assert loaded.model_id == "tiny bundle"
    image = Image.from_array(rng.normal(0, 1, (12, 16, 16)).astype(np.float32))
    assert set(np.unique(loaded.predict([image, image]).labels.array)) <= {0, 1, 2, 4}


def test_a_bundle_with_a_python_expression_is_refused_without_running_it(tmp_path):
    network_def = dict(BUNDLE_NETWORK, out_channels="$__import__('os').getpid() * 0 + 4")
    folder = write_bundle(tmp_path / "bundle", tiny_segmenter().network, network_def, BUNDLE_METADATA)

    with pytest.raises(InputError, match="never runs code"):
        load_segmenter(folder, task="brain-tumor")


def test_a_bundle_whose_target_is_not_a_monai_network_is_refused(tmp_path):
    network_def = dict(BUNDLE_NETWORK, _target_="os.system")
    folder = write_bundle(tmp_path / "bundle", tiny_segmenter().network, network_def, BUNDLE_METADATA)

    with pytest.raises(InputError, match="only MONAI networks are loaded"):
        load_segmenter(folder, task="brain-tumor")


@pytest.fixture
def resources(tmp_path, monkeypatch, checkpoint):
    """A Resources folder with one registered default model, found through SYNTHTRUST_RESOURCES."""
    _, weights = checkpoint
    models = tmp_path / "Resources" / "Models"
    models.mkdir(parents=True)
    for name in ("tiny.safetensors", "tiny.json"):
        (models / name).write_bytes((weights.parent / name).read_bytes())
    entry = {"id": "tiny-default", "task": "brain-tumor", "channels": ["flair", "t1c"], "file": "tiny.safetensors",
             "config": "tiny.json", "sha256": file_sha256(models / "tiny.safetensors"),
             "size_bytes": (models / "tiny.safetensors").stat().st_size}
    update_manifest(models / "manifest.json", entry)
    monkeypatch.setenv("SYNTHTRUST_RESOURCES", str(tmp_path / "Resources"))
    return models


def test_the_default_model_is_chosen_by_task_and_channels_in_any_order(resources):
    segmenter = load_default_segmenter("brain-tumor", ["T1c", "FLAIR"], device="cpu")

    assert segmenter.model_id == "tiny-default"
    assert resolve_default_model("brain-tumor", ["flair", "t1c"]).weights_path == resources / "tiny.safetensors"


def test_a_default_for_other_channels_is_refused_naming_the_available_ones(resources):
    with pytest.raises(InputError, match="reads channels t2; the defaults read flair\\+t1c"):
        resolve_default_model("brain-tumor", ["t2"])


def test_a_default_whose_weights_do_not_match_the_manifest_sha256_is_refused(resources):
    manifest = json.loads((resources / "manifest.json").read_text())
    manifest["models"][0]["sha256"] = "0" * 64
    (resources / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(InputError, match="sha256 .* but the manifest says 0000"):
        load_default_segmenter("brain-tumor", ["flair", "t1c"])


def test_the_shipped_manifest_is_valid_json_with_a_models_list():

    assert isinstance(read_manifest(), list)


def test_a_config_written_by_hand_with_unknown_fields_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({**tiny_config().to_dict(), "spacing": [1, 1, 1]}))

    with pytest.raises(InputError, match="unknown fields \\['spacing'\\]"):
        NetworkConfig.load(path)
