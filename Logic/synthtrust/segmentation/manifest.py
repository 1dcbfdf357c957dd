"""The shipped default models: ``Resources/Models/manifest.json`` (in the style of SlicerMONAIAuto3DSeg's
``Models.json``), one entry per model with its task, channels, licence, training data, accuracy and cost.

A default is chosen by task *and* channels (brain tumour: ``flair+t1c`` or ``t1``; cardiac scar: ``lge``),
and its weight file is checked against the manifest's sha256 before anything is loaded.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS
from synthtrust.provenance import file_sha256
from synthtrust.segmentation.config import canonical_channel

MANIFEST_NAME = "manifest.json"
REQUIRED_FIELDS = ("id", "task", "channels", "file", "sha256")


@dataclass
class ModelEntry:
    """One model of the manifest; ``file``, ``config`` and ``model_card`` are relative to its folder."""

    id: str
    task: str
    channels: list[str]
    file: str
    sha256: str
    folder: Path = field(default=Path("."), repr=False)
    title: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    config: str = ""
    size_bytes: int = 0
    licence: str = ""
    training_data: list[dict] = field(default_factory=list)
    model_card: str = ""
    validation_dice: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float | None = None
    memory: dict = field(default_factory=dict)
    version: str = ""
    kind: str = "segmenter"  # or "generator" (a diffusion model of the synthesis engines)
    engines: list[str] = field(default_factory=list)  # generators: the engines it serves

    @property
    def weights_path(self) -> Path:
        return self.folder / self.file

    @property
    def config_path(self) -> Path:
        if self.config:
            return self.folder / self.config
        from synthtrust.segmentation.loading import config_beside

        return config_beside(self.weights_path)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("folder")
        return data

    @classmethod
    def from_dict(cls, data: dict, folder: Path, source: str) -> ModelEntry:
        missing = [name for name in REQUIRED_FIELDS if not data.get(name)]
        if missing:
            raise InputError(f"{source}: model entry {data.get('id', '?')!r} lacks {missing}; fix the manifest")
        known = set(cls.__dataclass_fields__) - {"folder"}
        entry = cls(**{k: v for k, v in data.items() if k in known}, folder=folder)
        entry.channels = [canonical_channel(c) for c in entry.channels]
        for name in ("file", "config", "model_card"):
            relative = getattr(entry, name)
            # Manifest paths stay inside the models folder: a manifest must not point anywhere on disk.
            if relative and (Path(relative).is_absolute() or ".." in Path(relative).parts):
                raise InputError(f"{source}: model {entry.id!r} has {name} {relative!r}; paths must be relative "
                                 "to the manifest's folder, without '..'")
        return entry


def models_folder() -> Path:
    """``Resources/Models``: source tree, installed beside the module, or ``$SYNTHTRUST_RESOURCES/Models``."""
    from synthtrust.resources import resources_dir

    return resources_dir() / "Models"


def read_manifest(path: str | os.PathLike | None = None) -> list[ModelEntry]:
    """All entries of the manifest (default: the shipped one)."""
    path = Path(path) if path else models_folder() / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"model manifest {path} does not exist; set SYNTHTRUST_RESOURCES or pass --model")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"model manifest {path} is not valid JSON ({error}); restore it") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise InputError(f"model manifest {path} has no 'models' list; restore it")
    return [ModelEntry.from_dict(m, path.parent, f"model manifest {path}") for m in models]


def resolve_default_model(task: str, channels: list[str], manifest: str | os.PathLike | None = None) -> ModelEntry:
    """The shipped model for ``task`` that reads exactly ``channels`` (in any order)."""
    if task not in TASK_SCHEMAS:
        raise InputError(f"task {task!r} is unknown; use one of {', '.join(TASK_SCHEMAS)}")
    wanted = sorted(canonical_channel(c) for c in channels)
    entries = [e for e in read_manifest(manifest) if e.task == task and e.kind == "segmenter"]
    for entry in entries:
        if sorted(entry.channels) == wanted:
            return entry
    if not entries:
        raise InputError(f"no default {task} model is installed (the model manifest lists none); train the "
                         "defaults with scripts/train_default_segmenters.sh, or pass --model PATH")
    offered = " or ".join("+".join(e.channels) for e in entries)
    raise InputError(f"no default {task} model reads channels {'+'.join(wanted)}; the defaults read {offered}: pass "
                     "those images (named with --channels), or pass your own model with --model PATH")


def verify_model_file(entry: ModelEntry) -> None:
    """Refuse a missing, truncated or replaced weight file before it is loaded."""
    path = entry.weights_path
    if not path.is_file():
        raise InputError(f"weights of default model {entry.id} are missing ({path}); reinstall SynthTrustSlicer or "
                         "retrain with scripts/train_default_segmenters.sh")
    if entry.size_bytes and path.stat().st_size != entry.size_bytes:
        raise InputError(f"weights of default model {entry.id} ({path}) have {path.stat().st_size} bytes but the "
                         f"manifest says {entry.size_bytes}; the file is truncated or was replaced: restore it")
    digest = file_sha256(path)
    if digest != entry.sha256.lower():
        raise InputError(f"weights of default model {entry.id} ({path}) have sha256 {digest[:16]}... but the "
                         f"manifest says {entry.sha256[:16]}...; the file is corrupt or was replaced: restore it or "
                         "update the manifest after retraining")


def load_default_segmenter(task: str, channels: list[str], device: str = "auto",
                           manifest: str | os.PathLike | None = None):
    """The sha256-verified default :class:`~synthtrust.segmentation.segmenter.Segmenter` for task + channels."""
    from synthtrust.segmentation.loading import load_checkpoint

    entry = resolve_default_model(task, channels, manifest)
    verify_model_file(entry)
    segmenter = load_checkpoint(entry.weights_path, entry.config_path, device, sha256=entry.sha256.lower())
    if segmenter.config.task != task or sorted(segmenter.config.channels) != sorted(entry.channels):
        raise InputError(f"default model {entry.id}: its config ({segmenter.config.task}, channels "
                         f"{segmenter.config.channels}) disagrees with the manifest ({task}, {entry.channels}); "
                         "restore the model files")
    segmenter.model_id = entry.id
    return segmenter
