"""Loading segmenters from local files: safetensors and .pt checkpoints with their configs, MONAI bundle
folders, and the shipped defaults through the manifest, with clear refusals for what does not fit."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from model_folders import BRATS_REGIONS, SIGMOID_POSTPROCESSING, inference_config, metadata, tiny_network
from model_folders import write_bundle as write_model_bundle
from test_segmentation_inference import tiny_config, tiny_segmenter

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import get_schema
from synthtrust.models.checkpoints import save_weights
from synthtrust.models.manifest import read_manifest, resolve_default_model
from synthtrust.models.model_files import update_manifest
from synthtrust.provenance import file_sha256
from synthtrust.segmentation import NetworkConfig, load_default_segmenter, load_segmenter
from synthtrust.segmentation.outputs import multilabel_plan, sigmoid_decode
from synthtrust.segmentation.preprocessing import normalize_channel


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
    (folder / "configs" / "inference.json").write_text(json.dumps(inference), encoding="utf-8")
    if metadata is not None:
        (folder / "configs" / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
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
    manifest = json.loads((resources / "manifest.json").read_text(encoding="utf-8"))
    manifest["models"][0]["sha256"] = "0" * 64
    (resources / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(InputError, match="sha256 .* but the manifest says 0000"):
        load_default_segmenter("brain-tumor", ["flair", "t1c"])


def test_the_shipped_manifest_is_valid_json_with_a_models_list():

    assert isinstance(read_manifest(), list)


def test_a_config_written_by_hand_with_unknown_fields_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({**tiny_config().to_dict(), "spacing": [1, 1, 1]}), encoding="utf-8")

    with pytest.raises(InputError, match="unknown fields \\['spacing'\\]"):
        NetworkConfig.load(path)


# --- MONAI bundles: YAML configs, inferer settings, sigmoid multi-label outputs (issue 10 item 6) -----------

def independent_labels(network, channels, roi, sw_batch_size, overlap, mode, regions_to_labels=None):
    """What the bundle's own MONAI pipeline gives on the same input (input grid kept: no Spacingd)."""
    from monai.inferers import sliding_window_inference

    volume = np.stack([normalize_channel(c.array, "zscore-nonzero") for c in channels]).transpose(0, 3, 2, 1)
    with torch.inference_mode():
        logits = sliding_window_inference(torch.from_numpy(np.ascontiguousarray(volume))[None], list(roi),
                                          sw_batch_size, network, overlap=overlap, mode=mode)[0]
    if regions_to_labels is None:
        return torch.argmax(logits, 0).numpy().transpose(2, 1, 0)
    on = (torch.sigmoid(logits) > 0.5).numpy()
    labels = np.zeros(on.shape[1:], np.uint8)
    for channel, value in regions_to_labels:  # outermost first: WT -> ED, TC -> NCR, ET -> ET
        labels[on[channel]] = value
    return labels.transpose(2, 1, 0)


def two_channels(rng, shape=(12, 20, 24)) -> list[Image]:
    return [Image.from_array(rng.normal(0, 1, shape).astype(np.float32), (1.0, 1.0, 1.0)) for _ in range(2)]


def test_a_yaml_bundle_loads_with_its_references_and_honours_its_sliding_window_settings(tmp_path, rng):
    network = tiny_network(4)
    inferer = {"roi_size": "@patch", "sw_batch_size": 3, "overlap": 0.5, "mode": "gaussian"}
    inference = dict(inference_config(4, inferer), patch=[16, 16, 8])
    folder = write_model_bundle(tmp_path / "bundle", network, inference,
                          metadata({"0": "background", "1": "NCR", "2": "ED", "3": "ET"}), config_format="yaml")

    loaded = load_segmenter(folder, device="cpu", task="brain-tumor")

    config = loaded.config
    assert (config.roi_size, config.sw_batch_size, config.overlap, config.blend_mode) == ((16, 16, 8), 3, 0.5,
                                                                                         "gaussian")
    assert config.output == "softmax" and config.label_values == [0, 1, 2, 4]
    channels = two_channels(rng)
    result = loaded.predict(channels)
    expected = np.asarray([0, 1, 2, 4], np.uint8)[independent_labels(network, channels, (16, 16, 8), 3, 0.5,
                                                                     "gaussian")]
    np.testing.assert_array_equal(result.labels.array, expected)
    assert result.provenance["overlap"] == 0.5 and result.provenance["blend_mode"] == "gaussian"


def test_a_bundle_inferer_without_mode_or_overlap_gets_monais_defaults(tmp_path):
    inference = inference_config(4)
    del inference["inferer"]["overlap"]
    folder = write_model_bundle(tmp_path / "bundle", tiny_network(4), inference,
                          metadata({"0": "background", "1": "NCR", "2": "ED", "3": "ET"}))
    config = load_segmenter(folder, task="brain-tumor").config
    assert (config.overlap, config.blend_mode, config.sw_batch_size) == (0.25, "constant", 1)


def test_a_brats_style_sigmoid_bundle_gives_brats_labels_nested_as_the_regions_are(tmp_path, rng):
    network = tiny_network(3, seed=3)
    inference = inference_config(3, {"overlap": 0.5}, SIGMOID_POSTPROCESSING)
    folder = write_model_bundle(tmp_path / "bundle", network, inference, metadata(BRATS_REGIONS),
                                weights="safetensors")

    loaded = load_segmenter(folder, device="cpu", task="brain-tumor")

    assert loaded.config.output == "sigmoid" and loaded.config.output_regions == ["TC", "WT", "ET"]
    assert loaded.config.label_values == [0, 1, 2, 4]
    channels = two_channels(rng)
    result = loaded.predict(channels)
    # BraTS 2021: WT-minus-TC is edema (2), TC-minus-ET necrosis (1), ET enhancing (4).
    expected = independent_labels(network, channels, (16, 16, 16), 1, 0.5, "constant", [(1, 2), (0, 1), (2, 4)])
    np.testing.assert_array_equal(result.labels.array, expected)
    assert len(np.unique(expected)) >= 3  # the check covers several labels, not an empty map
    assert result.probabilities.shape == (4, *channels[0].array.shape)
    np.testing.assert_allclose(result.probabilities.sum(axis=0), 1.0, atol=1e-5)
    assert result.provenance["output_regions"] == ["TC", "WT", "ET"]


def test_a_sigmoid_bundle_in_brats_2023_numbering_writes_enhancing_tumour_as_3(tmp_path, rng):
    folder = write_model_bundle(tmp_path / "bundle", tiny_network(3), inference_config(3, None, SIGMOID_POSTPROCESSING),
                          metadata(BRATS_REGIONS, schema="brats2023"))
    loaded = load_segmenter(folder, device="cpu", task="brain-tumor")
    assert loaded.config.label_values == [0, 1, 2, 3]
    assert set(np.unique(loaded.predict(two_channels(rng)).labels.array)) <= {0, 1, 2, 3}


def test_sigmoid_regions_become_the_label_of_the_smallest_region_that_is_on():
    plan = multilabel_plan(get_schema("brats"), ["TC", "WT", "ET"])
    # voxels: nothing, WT only, WT+TC, WT+TC+ET, ET alone (regions disagree: ET wins), TC alone
    on = torch.tensor([[0, 0, 1, 1, 0, 1], [0, 1, 1, 1, 0, 0], [0, 0, 0, 1, 1, 0]], dtype=torch.float32)
    logits = (on * 2 - 1) * 8.0
    probabilities, classes = sigmoid_decode(logits, plan)
    assert [plan.label_values[c] for c in classes.tolist()] == [0, 2, 1, 4, 4, 1]
    torch.testing.assert_close(probabilities.sum(0), torch.ones(6))
    assert probabilities.argmax(0).tolist() == classes.tolist()


@pytest.mark.parametrize("regions, why", [
    (["TC", "ED"], "TC minus the outputs inside it leaves NCR\\+ET"),
    (["WT", "lung"], "'lung' is not a region of the brats schema"),
    (["WT", "ET"], "WT minus the outputs inside it leaves NCR\\+ED"),
    (["TC", "TC"], "must name distinct regions"),
])
def test_sigmoid_regions_that_cannot_be_mapped_to_labels_are_refused(regions, why):
    with pytest.raises(InputError, match=why):
        multilabel_plan(get_schema("brats"), regions)
