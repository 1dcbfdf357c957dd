"""Provenance records: what was run, on what, with which software, producing what.

Every CLI run writes its outputs plus ``<output stem>.provenance.json`` beside them (the run folder is
the output's folder), so any synthetic image or prediction can be traced and replayed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

import synthtrust
from synthtrust.imaging.io import atomic_path


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    path = Path(path)
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode())
            digest.update(file_sha256(child).encode())
        return digest.hexdigest()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def software_versions() -> dict:
    versions = {"synthtrust": synthtrust.__version__, "python": platform.python_version(),
                "numpy": np.__version__}
    for module in ("torch", "monai", "SimpleITK"):
        loaded = sys.modules.get(module)
        if loaded is not None:
            versions[module] = getattr(loaded, "__version__", "unknown")
    return versions


def provenance_path(output: str | os.PathLike) -> Path:
    """``labels.nii.gz`` -> ``labels.provenance.json`` in the same folder."""
    output = Path(output)
    stem = output.name
    for suffix in (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".json", ".mrb", ".csv"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return output.with_name(f"{stem}.provenance.json")


def make_record(command: str, inputs: dict[str, str | os.PathLike] | None = None,
                parameters: dict | None = None, outputs: dict[str, str | os.PathLike] | None = None,
                **extra) -> dict:
    """A JSON-ready provenance record; input files are identified by their sha256."""
    record = {
        "command": command,
        "argv": sys.argv[1:],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "software": software_versions(),
        "inputs": {name: {"path": str(path), "sha256": file_sha256(path)}
                   for name, path in (inputs or {}).items() if path and Path(path).exists()},
        "parameters": parameters or {},
        "outputs": {name: str(path) for name, path in (outputs or {}).items()},
    }
    record.update(extra)
    return record


def to_jsonable(value):
    """Convert numpy scalars/arrays and paths so json.dump accepts them, and write every undefined
    number (NaN, +-inf) as ``None``: bare ``NaN`` is not JSON and strict parsers reject the whole file.
    Whoever writes such a value says in the same record which policy made it undefined."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(data, indent: int | None = 2, sort_keys: bool = False,
              default: Callable[[object], object] | None = None) -> str:
    """Strict JSON text of ``data`` (see :func:`to_jsonable`); ``allow_nan=False`` so a non-finite number
    that slipped past the conversion raises instead of producing a file other programs cannot read.
    ``default`` converts objects JSON has no type for (e.g. ``str`` for free-form scene attributes)."""
    return json.dumps(to_jsonable(data), indent=indent, sort_keys=sort_keys, default=default, allow_nan=False)


def write_json(data: dict, path: str | os.PathLike) -> Path:
    """Write strict JSON atomically (temporary name, then rename); undefined numbers become ``null``."""
    path = Path(path)
    text = json_text(data)  # before the temporary file exists, so a failure leaves nothing behind
    with atomic_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return path

