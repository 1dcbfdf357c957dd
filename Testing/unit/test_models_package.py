"""The models package: what segmenters and generators share, and the manifest the panel reads without torch."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from synthtrust.errors import InputError
from synthtrust.models.channels import canonical_channel
from synthtrust.models.device import DEVICES, choose_device
from synthtrust.models.files import config_beside, weights_stem
from synthtrust.models.manifest import (
    find_model,
    list_models,
    read_manifest,
    resolve_default_model,
    verify_model_file,
)

REPOSITORY = Path(__file__).resolve().parents[2]
CORE = REPOSITORY / "Logic" / "synthtrust"
BLOCKED = ("torch", "monai", "numpy", "SimpleITK", "scipy", "safetensors", "yaml", "nilearn")

# Run in a fresh interpreter where the heavy packages cannot be imported, as on a fresh 3D Slicer
# (Slicer has numpy, but the manifest must not need it either).
WITHOUT_HEAVY_PACKAGES = f"""
import importlib.abc, json, sys
BLOCKED = {BLOCKED!r}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError(f'{{name}} is blocked in this test')
        return None
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, {str(REPOSITORY / "Logic")!r})
from synthtrust.models.manifest import list_models, verify_model_file
listed = {{kind: [e.id for e in list_models(kind=kind)] for kind in ('segmenter', 'generator')}}
per_task = {{task: [e.id for e in list_models(task, 'segmenter')] for task in ('brain-tumor', 'cardiac-scar')}}
entry = list_models('cardiac-scar', 'segmenter')[0]
verify_model_file(entry)
loaded = sorted(m for m in sys.modules if m.split('.')[0] in BLOCKED)
print(json.dumps({{'listed': listed, 'per_task': per_task, 'loaded': loaded}}))
"""


def test_the_manifest_lists_and_verifies_the_shipped_models_where_torch_monai_and_numpy_cannot_be_imported():
    done = subprocess.run([sys.executable, "-c", WITHOUT_HEAVY_PACKAGES], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    shipped = json.loads((REPOSITORY / "Resources" / "Models" / "manifest.json").read_text(encoding="utf-8"))["models"]
    for kind in ("segmenter", "generator"):
        assert sorted(result["listed"][kind]) == sorted(m["id"] for m in shipped if m.get("kind", "segmenter") == kind)
    assert "brain-tumor-t1-unet" in result["per_task"]["brain-tumor"]
    assert result["per_task"]["cardiac-scar"] == ["cardiac-scar-lge-unet"]
    assert result["loaded"] == []


def test_the_blocking_finder_of_that_test_really_blocks_torch():
    code = WITHOUT_HEAVY_PACKAGES.split("from synthtrust.models.manifest")[0] + "import torch\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "torch is blocked in this test" in done.stderr


def imported_names(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every ``from synthtrust... import name`` in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("synthtrust"):
            found += [(node.module, alias.name) for alias in node.names]
    return found


def test_no_core_module_imports_a_private_name_of_another():
    offenders = [f"{path.relative_to(CORE)}: {module}.{name}" for path in sorted(CORE.rglob("*.py"))
                 for module, name in imported_names(path) if name.startswith("_") and name != "__version__"]
    assert offenders == []


def test_no_code_imports_the_old_homes_of_the_shared_model_code():
    old = ("synthtrust.segmentation.manifest", "synthtrust.segmentation.checkpoints")
    folders = [REPOSITORY / "Logic", REPOSITORY / "SynthTrustSlicer", REPOSITORY / "scripts", REPOSITORY / "Testing"]
    offenders = [str(path) for folder in folders for path in folder.rglob("*.py")
                 if any(module in old for module, _ in imported_names(path))]
    assert offenders == []


def test_models_are_listed_per_task_and_kind():
    generators = list_models("brain-tumor", "generator")
    assert generators and all(e.kind == "generator" and e.task == "brain-tumor" for e in generators)
    assert {e.id for e in list_models(kind="segmenter")} | {e.id for e in list_models(kind="generator")} == {
        e.id for e in read_manifest()}
    with pytest.raises(InputError, match="model kind 'weights' is unknown"):
        list_models(kind="weights")


def test_a_default_is_picked_by_task_kind_channels_and_engine():
    assert resolve_default_model("brain-tumor", ["T1ce", "FLAIR"]).id == "brain-tumor-flair-t1c-unet"
    generator = resolve_default_model("cardiac-scar", ["lge"], kind="generator", engine="inpaint")
    assert generator.kind == "generator" and "inpaint" in generator.engines
    with pytest.raises(InputError, match="no default brain-tumor segmenter reads channels t2"):
        resolve_default_model("brain-tumor", ["t2"])
    with pytest.raises(InputError, match="no default lung-nodule model is installed"):
        resolve_default_model("lung-nodule", ["ct"])


def test_a_model_is_found_by_id_or_refused_listing_the_ids():
    assert find_model("cardiac-scar-lge-unet").task == "cardiac-scar"
    with pytest.raises(InputError, match="generator model 'cardiac-scar-lge-unet' is not in the model manifest"):
        find_model("cardiac-scar-lge-unet", kind="generator")


def test_a_manifest_entry_with_a_path_outside_its_folder_is_refused(tmp_path):
    entry = {"id": "x", "task": "cardiac-scar", "channels": ["lge"], "file": "../x.safetensors", "sha256": "0" * 64}
    (tmp_path / "manifest.json").write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    with pytest.raises(InputError, match="paths must be relative to the manifest's folder"):
        read_manifest(tmp_path / "manifest.json")


def test_a_replaced_weight_file_fails_verification(tmp_path):
    (tmp_path / "x.safetensors").write_bytes(b"not the weights")
    entry = {"id": "x", "task": "cardiac-scar", "channels": ["lge"], "file": "x.safetensors", "sha256": "0" * 64}
    (tmp_path / "manifest.json").write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    with pytest.raises(InputError, match="sha256 .* but the manifest says 0000"):
        verify_model_file(read_manifest(tmp_path / "manifest.json")[0])


def test_channel_names_fold_aliases_and_weight_files_name_their_config():
    assert [canonical_channel(c) for c in ("T1ce", " FLAIR ", "psir", "t2")] == ["t1c", "flair", "lge", "t2"]
    assert weights_stem(Path("a/model.safetensors")) == "model"
    assert config_beside(Path("a/model.pt")) == Path("a/model.json")


def test_device_names_resolve_in_one_place():
    assert DEVICES == ("auto", "cpu", "cuda")
    assert choose_device("cpu").type == "cpu"
    with pytest.raises(InputError, match="device 'tpu' is unknown"):
        choose_device("tpu")


def test_saved_weights_get_the_permissions_of_a_new_file_and_strict_json_metadata(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors import safe_open

    from synthtrust.models.checkpoints import save_weights

    previous = os.umask(0o027)
    try:
        path = save_weights(torch.nn.Linear(2, 2), tmp_path / "w.safetensors", {"loss": float("nan"), "seed": 1})
        plain = tmp_path / "plain.txt"
        plain.write_text("x", encoding="utf-8")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o640
    with safe_open(str(path), "pt") as handle:
        assert json.loads(handle.metadata()["synthtrust"]) == {"loss": None, "seed": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "w.safetensors"]  # no temporary left
