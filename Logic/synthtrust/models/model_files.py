"""The files every training run leaves beside its weights, segmenter or generator: the loss curve
(``<id>_loss.csv`` + ``<id>_loss.png``), the model card, the manifest entry
(``<id>.manifest-entry.json``), and that entry added to a models manifest. Each file is written
atomically (temporary name, then rename)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.imaging.io import atomic_path
from synthtrust.models.manifest import MANIFEST_NAME
from synthtrust.provenance import write_json


def write_loss_curve(losses: list[float], stem: Path, title: str,
                     ylabel: str = "loss") -> tuple[Path, Path]:
    """``<stem>_loss.png`` (per iteration and a running mean) and ``<stem>_loss.csv``; returns (png, csv)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    table = stem.with_name(stem.name + "_loss.csv")
    with atomic_path(table) as temporary:
        temporary.write_text("iteration,loss\n" + "".join(f"{i + 1},{v:.6f}\n" for i, v in enumerate(losses)), encoding="utf-8")
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=90)
    axis.plot(np.arange(1, len(losses) + 1), losses, color="0.75", linewidth=0.8, label="per iteration")
    window = max(len(losses) // 25, 1)
    if window > 1:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axis.plot(np.arange(window, len(losses) + 1), smooth, color="C0", label=f"mean of {window}")
    axis.set(xlabel="iteration", ylabel=ylabel, title=title)
    axis.legend()
    figure.tight_layout()
    image = stem.with_name(stem.name + "_loss.png")
    with atomic_path(image) as temporary:
        figure.savefig(temporary, format="png")
    plt.close(figure)
    return image, table


def write_model_card(text: str, path: Path) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def write_manifest_entry(entry: dict, path: Path) -> Path:
    """The entry to paste into (or merge with ``--update-manifest`` into) ``Resources/Models/manifest.json``."""
    return write_json(entry, path)


def update_manifest(manifest: str | os.PathLike, entry: dict) -> Path:
    """Add ``entry`` to a models manifest, replacing one with the same id (the file is created if absent)."""
    manifest = Path(manifest)
    if manifest.name != MANIFEST_NAME:
        raise InputError(f"{manifest} is not named {MANIFEST_NAME}; pass the manifest.json to update")
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"model manifest {manifest} is not valid JSON ({error}); fix it first") from None
        if not isinstance(data, dict) or not isinstance(data.get("models", []), list):
            raise InputError(f"model manifest {manifest} has no 'models' list; fix it first")
    else:
        data = {"models": []}
    data["models"] = [m for m in data.get("models", []) if m.get("id") != entry["id"]] + [entry]
    return write_json(data, manifest)
