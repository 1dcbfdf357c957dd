"""The model manifest: ``Resources/Models/manifest.json`` (in the style of SlicerMONAIAuto3DSeg's
``Models.json``), one entry per model (segmenter or generator) with its task, channels, licence, training
data, accuracy and cost; listing the models per task and kind; picking a default; and checking a weight
file against the manifest's sha256 and size before anything is loaded.

Standard library only, at module level and inside every function: the Slicer panel lists the models with
this module before PyTorch, MONAI or numpy are installed (a test imports it where they cannot be imported).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.models.channels import canonical_channel
from synthtrust.models.files import config_beside
from synthtrust.resources import resources_dir

MANIFEST_NAME = "manifest.json"
REQUIRED_FIELDS = ("id", "task", "channels", "file", "sha256")
MODEL_KINDS = ("segmenter", "generator")


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
        return self.folder / self.config if self.config else config_beside(self.weights_path)

    @property
    def model_card_path(self) -> Path | None:
        return self.folder / self.model_card if self.model_card else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("folder")
        return data

    @classmethod
    def from_dict(cls, data: dict, folder: Path, source: str) -> ModelEntry:
        if not isinstance(data, dict):
            raise InputError(f"{source}: a model entry is a {type(data).__name__}, not an object; fix the manifest")
        missing = [name for name in REQUIRED_FIELDS if not data.get(name)]
        if missing:
            raise InputError(f"{source}: model entry {data.get('id', '?')!r} lacks {missing}; fix the manifest")
        if not isinstance(data["channels"], list):
            raise InputError(f"{source}: model {data['id']!r} has channels {data['channels']!r}; give a list of "
                             "names such as [\"flair\", \"t1c\"]")
        known = set(cls.__dataclass_fields__) - {"folder"}
        entry = cls(**{k: v for k, v in data.items() if k in known}, folder=folder)
        entry.channels = [canonical_channel(c) for c in entry.channels]
        entry.kind = entry.kind or "segmenter"
        if entry.kind not in MODEL_KINDS:
            raise InputError(f"{source}: model {entry.id!r} has kind {entry.kind!r}; use one of "
                             f"{', '.join(MODEL_KINDS)}")
        for name in ("file", "config", "model_card"):
            relative = getattr(entry, name)
            # Manifest paths stay inside the models folder: a manifest must not point anywhere on disk.
            if relative and (Path(relative).is_absolute() or ".." in Path(relative).parts):
                raise InputError(f"{source}: model {entry.id!r} has {name} {relative!r}; paths must be relative "
                                 "to the manifest's folder, without '..'")
        return entry


def models_folder() -> Path:
    """``Resources/Models``: source tree, installed beside the module, or ``$SYNTHTRUST_RESOURCES/Models``."""
    return resources_dir() / "Models"


def manifest_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path) if path else models_folder() / MANIFEST_NAME


def read_manifest(path: str | os.PathLike | None = None) -> list[ModelEntry]:
    """All entries of the manifest (default: the shipped one)."""
    path = manifest_path(path)
    if not path.is_file():
        raise InputError(f"model manifest {path} does not exist; set SYNTHTRUST_RESOURCES or pass --model")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"model manifest {path} is not valid JSON ({error}); restore it") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise InputError(f"model manifest {path} has no 'models' list; restore it")
    return [ModelEntry.from_dict(m, path.parent, f"model manifest {path}") for m in models]


def list_models(task: str | None = None, kind: str | None = None,
                manifest: str | os.PathLike | None = None) -> list[ModelEntry]:
    """The manifest's models, optionally only those of ``task`` and of ``kind`` (segmenter / generator)."""
    if kind is not None and kind not in MODEL_KINDS:
        raise InputError(f"model kind {kind!r} is unknown; use one of {', '.join(MODEL_KINDS)}")
    return [e for e in read_manifest(manifest)
            if (task is None or e.task == task) and (kind is None or e.kind == kind)]


def find_model(model_id: str, kind: str | None = None, manifest: str | os.PathLike | None = None) -> ModelEntry:
    """The manifest entry with this id (and kind), or a refusal listing the ids there are."""
    entries = list_models(kind=kind, manifest=manifest)
    entry = next((e for e in entries if e.id == model_id), None)
    if entry is None:
        what = f"{kind} " if kind else ""
        raise InputError(f"{what}model {model_id!r} is not in the model manifest (it lists "
                         f"{', '.join(e.id for e in entries) or 'none'}); choose a listed id or pass a file")
    return entry


def resolve_default_model(task: str, channels: list[str], manifest: str | os.PathLike | None = None,
                          kind: str = "segmenter", engine: str | None = None) -> ModelEntry:
    """The shipped model of ``kind`` for ``task`` that reads exactly ``channels`` (in any order); a
    generator must also serve ``engine`` when one is named."""
    wanted = sorted(canonical_channel(c) for c in channels)
    every = read_manifest(manifest)
    tasks = sorted({e.task for e in every})
    if task not in tasks:
        raise InputError(f"no default {task} model is installed (the model manifest lists tasks "
                         f"{', '.join(tasks) or 'none'}); check --task, train the defaults with "
                         "scripts/train_default_segmenters.sh, or pass --model PATH")
    entries = [e for e in every if e.task == task and e.kind == kind and (engine is None or engine in e.engines)]
    for entry in entries:
        if sorted(entry.channels) == wanted:
            return entry
    if not entries:
        raise InputError(f"no default {task} {kind} is installed (the model manifest lists none); train one, or "
                         "pass --model PATH")
    offered = " or ".join("+".join(e.channels) for e in entries)
    raise InputError(f"no default {task} {kind} reads channels {'+'.join(wanted)}; the defaults read {offered}: "
                     "pass those images (named with --channels), or pass your own model with --model PATH")


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model_file(entry: ModelEntry) -> None:
    """Refuse a missing, truncated or replaced weight file before it is loaded."""
    path = entry.weights_path
    if not path.is_file():
        raise InputError(f"weights of model {entry.id} are missing ({path}); reinstall SynthTrustSlicer or "
                         "retrain it (scripts/train_default_segmenters.sh, synthtrust train-generator)")
    if entry.size_bytes and path.stat().st_size != entry.size_bytes:
        raise InputError(f"weights of model {entry.id} ({path}) have {path.stat().st_size} bytes but the "
                         f"manifest says {entry.size_bytes}; the file is truncated or was replaced: restore it")
    digest = sha256_of_file(path)
    if digest != entry.sha256.lower():
        raise InputError(f"weights of model {entry.id} ({path}) have sha256 {digest[:16]}... but the manifest "
                         f"says {entry.sha256[:16]}...; the file is corrupt or was replaced: restore it or update "
                         "the manifest after retraining")
