"""The bad-input battery, models part: MONAI bundles, checkpoints and manifest models that must be refused
through the real CLI with exit 2, one line naming the problem, and the folder untouched (``refuse``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from model_folders import (
    BRATS_REGIONS,
    SIGMOID_POSTPROCESSING,
    TINY_UNET,
    inference_config,
    metadata,
    tiny_network,
    write_bundle,
)
from refusals import refuse

from synthtrust.imaging.image import Image
from synthtrust.imaging.io import save_image

SOFTMAX_CLASSES = {"0": "background", "1": "NCR", "2": "ED", "3": "ET"}


@pytest.fixture
def folder(tmp_path) -> Path:
    """Two channels of a small brain-like image, and a lesion map, for the commands to read."""
    rng = np.random.default_rng(0)
    for name in ("flair", "t1c"):
        save_image(Image.from_array(rng.normal(100, 10, (12, 16, 16)).astype(np.float32)), tmp_path / f"{name}.nii.gz")
    lesion = np.zeros((12, 16, 16), np.uint8)
    lesion[5:8, 6:10, 6:10] = 2
    lesion[6, 7:9, 7:9] = 4
    save_image(Image.from_array(lesion), tmp_path / "lesion.nii.gz")
    return tmp_path


def segment(folder: Path, model: Path) -> list:
    return ["segment", "--task", "brain-tumor", "--image", folder / "flair.nii.gz", "--image", folder / "t1c.nii.gz",
            "--channels", "flair,t1c", "--model", model, "--device", "cpu", "--out", folder / "prediction.nii.gz"]


def bundle(folder: Path, inference: dict | None = None, meta: dict | None = None, out_channels: int = 4,
           network: torch.nn.Module | None = None, **options) -> Path:
    return write_bundle(folder / "bundle", network or tiny_network(out_channels),
                        inference if inference is not None else inference_config(out_channels),
                        meta if meta is not None else metadata(SOFTMAX_CLASSES), **options)


def test_a_bundle_without_a_network_definition_is_refused(capfd, folder):
    inference = inference_config(4)
    del inference["network_def"]
    refuse(capfd, segment(folder, bundle(folder, inference)), folder, "has no 'network_def'", "must define its network")


def test_a_bundle_whose_target_is_not_a_monai_network_is_refused(capfd, folder):
    inference = inference_config(4, network_def=dict(TINY_UNET, _target_="os.system"))
    refuse(capfd, segment(folder, bundle(folder, inference)), folder, "'os.system'", "only MONAI networks are loaded")


def test_a_bundle_that_would_run_a_python_expression_is_refused_without_running_it(capfd, folder):
    marker = folder / "ran"
    inference = inference_config(4, network_def=dict(TINY_UNET, out_channels=f"$open({str(marker)!r}, 'w')"))
    refuse(capfd, segment(folder, bundle(folder, inference)), folder, "Python expression", "never runs code")
    assert not marker.exists()


def test_a_bundle_with_a_nested_component_as_an_argument_is_refused(capfd, folder):
    network_def = dict(TINY_UNET, act={"_target_": "torch.nn.PReLU"})
    refuse(capfd, segment(folder, bundle(folder, inference_config(4, network_def=network_def))), folder,
           "nested component", "'torch.nn.PReLU'")


def test_a_bundle_referring_to_an_undefined_id_is_refused(capfd, folder):
    network_def = dict(TINY_UNET, out_channels="@classes_nobody_defined")
    refuse(capfd, segment(folder, bundle(folder, inference_config(4, network_def=network_def))), folder,
           "refers to '@classes_nobody_defined'", "does not define")


def test_a_yaml_bundle_with_a_syntax_error_is_refused_on_one_line(capfd, folder):
    model = bundle(folder, config_format="yaml")
    (model / "configs" / "inference.yaml").write_text("network_def:\n  _target_: UNet\n  channels: [4, 8\n", encoding="utf-8")
    refuse(capfd, segment(folder, model), folder, "inference.yaml is not valid YAML", "line")


def test_a_yaml_bundle_that_is_not_a_mapping_is_refused(capfd, folder):
    model = bundle(folder, config_format="yaml")
    (model / "configs" / "inference.yaml").write_text("- UNet\n- 4\n", encoding="utf-8")
    refuse(capfd, segment(folder, model), folder, "holds a list, not a mapping")


def test_a_bundle_with_invalid_metadata_json_is_refused(capfd, folder):
    model = bundle(folder)
    (model / "configs" / "metadata.json").write_text("{\"name\": ", encoding="utf-8")
    refuse(capfd, segment(folder, model), folder, "metadata", "is not valid JSON")


def test_bundle_weights_that_do_not_fit_the_network_are_refused(capfd, folder):
    refuse(capfd, segment(folder, bundle(folder, network=tiny_network(3))), folder, "does not fit", "shape mismatch")


def test_a_pickled_whole_model_that_weights_only_refuses_is_not_loaded(capfd, folder):
    model = bundle(folder)
    torch.save(tiny_network(4), model / "models" / "model.pt")  # the whole module, pickled: could run code
    refuse(capfd, segment(folder, model), folder, "cannot read model weights", "only plain state dicts")


def test_corrupt_safetensors_weights_are_refused(capfd, folder):
    model = bundle(folder, weights="safetensors")
    weights = model / "models" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    refuse(capfd, segment(folder, model), folder, "cannot read model weights", "corrupt")


def test_a_bundle_with_only_torchscript_weights_is_refused(capfd, folder):
    model = bundle(folder)
    (model / "models" / "model.pt").rename(model / "models" / "model.ts")
    refuse(capfd, segment(folder, model), folder, "TorchScript", "export the state dict")


def test_a_sigmoid_bundle_whose_channels_cannot_be_mapped_to_labels_is_refused(capfd, folder):
    inference = inference_config(2, postprocessing=SIGMOID_POSTPROCESSING)
    meta = metadata({"0": "Tumor core", "1": "ED"})  # TC minus nothing inside it is NCR+ET: two labels
    refuse(capfd, segment(folder, bundle(folder, inference, meta, out_channels=2)), folder,
           "sigmoid output TC", "cannot be mapped")


def test_a_sigmoid_bundle_whose_outputs_are_not_named_is_refused(capfd, folder):
    inference = inference_config(3, postprocessing=SIGMOID_POSTPROCESSING)
    meta = metadata(BRATS_REGIONS)
    del meta["network_data_format"]["outputs"]
    refuse(capfd, segment(folder, bundle(folder, inference, meta, out_channels=3)), folder,
           "sigmoid regions but 0 are named", "output_regions")


def test_a_bundle_whose_network_settings_cannot_build_is_refused_on_one_line(capfd, folder):
    network_def = dict(TINY_UNET, channels=[4], strides=[2, 2])
    refuse(capfd, segment(folder, bundle(folder, inference_config(4, network_def=network_def))), folder,
           "cannot build UNet", "fix network_kwargs")


def test_a_generator_bundle_holding_a_segmentation_network_is_refused(capfd, folder):
    model = bundle(folder)
    refuse(capfd, ["synthesize", "--engine", "inpaint", "--image", folder / "flair.nii.gz", "--image",
                   folder / "t1c.nii.gz", "--modalities", "flair,t1c", "--lesion", folder / "lesion.nii.gz",
                   "--schema", "brats", "--model", model, "--steps", "2", "--device", "cpu", "--out",
                   folder / "synthetic"], folder, "'UNet' is not a DiffusionModelUNet")


def test_a_manifest_model_whose_weights_do_not_match_their_sha256_is_refused(capfd, folder, monkeypatch):
    models = folder / "Resources" / "Models"
    models.mkdir(parents=True)
    (models / "t1.safetensors").write_bytes(b"weights that were replaced")
    (models / "t1.json").write_text("{}", encoding="utf-8")
    entry = {"id": "t1-default", "task": "brain-tumor", "channels": ["t1"], "file": "t1.safetensors",
             "sha256": "0" * 64}
    (models / "manifest.json").write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    monkeypatch.setenv("SYNTHTRUST_RESOURCES", str(folder / "Resources"))
    refuse(capfd, ["segment", "--task", "brain-tumor", "--image", folder / "flair.nii.gz", "--device", "cpu",
                   "--out", folder / "prediction.nii.gz"], folder, "t1-default", "sha256", "the manifest says 0000")
