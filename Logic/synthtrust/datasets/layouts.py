"""Which files make up each case of a data set on disk, for the four layouts users have.

Only paths are found here (nothing is loaded): :mod:`synthtrust.datasets.loading` reads and checks them.

- **BraTS** case folders: ``<root>/<case>/<case>_flair.nii.gz, _t1, _t1ce, _t2, _seg`` (2021) or
  ``<case>-t2f, -t1n, -t1c, -t2w, -seg`` (2023; label 3 is ET and is renumbered to 4 on loading).
- **EMIDEC**: ``<root>/<case>/Images/<case>.nii.gz`` + ``Contours/<case>.nii.gz`` (the challenge's layout),
  or ``<case>_image.nii.gz`` + ``<case>_label.nii.gz`` side by side (the shared copy's layout).
- **slices**: ``train/`` + ``trainannot/`` (and ``val/`` + ``valannot/``), or ``images/`` + ``masks/``, one
  2D PNG per slice with the mask under the same name; ``<patient>_slice<k>.png`` groups slices by patient.
- **CSV** manifest: header ``case,image[,image...],label`` (image columns may be named by channel, e.g.
  ``case,flair,t1c,label``); paths relative to the CSV file.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.models.channels import canonical_channel

LAYOUTS = ("brats", "emidec", "slices", "csv")
IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")
BRATS_2021 = {"flair": "flair", "t1": "t1", "t1c": "t1ce", "t2": "t2"}  # channel -> file suffix
BRATS_2023 = {"flair": "t2f", "t1": "t1n", "t1c": "t1c", "t2": "t2w"}
SLICE_FOLDERS = (("train", "trainannot"), ("val", "valannot"), ("images", "masks"))
_SLICE_NAME = re.compile(r"^(?P<patient>.+?)_slice\d+$")


@dataclass
class DiskCase:
    """One case's files: a path per channel and the label map; ``patient`` groups the slices of one patient
    (train/test splits keep a patient on one side)."""

    name: str
    patient: str
    channels: dict[str, Path]
    labels: Path
    label_numbering: str = ""  # "brats2023": ET is 3 on disk and becomes 4


@dataclass
class DiskDataset:
    """The cases of one data set folder or manifest and the layout they were read as."""

    path: Path
    layout: str
    task: str
    channels: list[str]
    cases: list[DiskCase] = field(default_factory=list)

    @property
    def two_dimensional(self) -> bool:
        return self.layout == "slices"

    def describe(self) -> dict:
        return {"path": str(self.path), "layout": self.layout, "task": self.task, "channels": self.channels,
                "cases": len(self.cases), "patients": len({c.patient for c in self.cases})}


def _image_file(folder: Path, stem: str) -> Path | None:
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _stem(path: Path) -> str:
    name = path.name
    for suffix in IMAGE_SUFFIXES + (".png",):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _brats_case(folder: Path, channels: list[str]) -> DiskCase:
    case = folder.name
    for numbering, names, separator in (("brats2021", BRATS_2021, "_"), ("brats2023", BRATS_2023, "-")):
        labels = _image_file(folder, f"{case}{separator}seg")
        if labels is None:
            continue
        paths = {}
        for channel in channels:
            if channel not in names:
                raise InputError(f"BraTS case {case}: channel {channel!r} is not a BraTS modality; use some of "
                                 f"{', '.join(names)}")
            path = _image_file(folder, f"{case}{separator}{names[channel]}")
            if path is None:
                raise InputError(f"BraTS case {case} has no {channel} image ({case}{separator}{names[channel]}"
                                 f".nii.gz in {folder}); add it or leave {channel} out of --channels")
            paths[channel] = path
        return DiskCase(case, case, paths, labels, "brats2023" if numbering == "brats2023" else "")
    raise InputError(f"BraTS case folder {folder} has no segmentation ({case}_seg.nii.gz or {case}-seg.nii.gz); "
                     "every case needs one")


def _emidec_case(folder: Path) -> DiskCase | None:
    case = folder.name
    image, labels = _image_file(folder / "Images", case), _image_file(folder / "Contours", case)
    if image is not None and labels is not None:
        return DiskCase(case, case, {"lge": image}, labels)
    return None


def _emidec_flat(folder: Path) -> list[DiskCase]:
    cases = []
    for image in sorted(folder.glob("*_image.*")):
        case = _stem(image)[: -len("_image")]
        labels = _image_file(folder, f"{case}_label")
        if labels is None:
            raise InputError(f"EMIDEC case {case} in {folder} has no label map {case}_label.nii.gz; add it")
        cases.append(DiskCase(case, case, {"lge": image}, labels))
    return cases


def _slice_cases(root: Path, channels: list[str]) -> list[DiskCase]:
    if len(channels) != 1:
        raise InputError(f"a folder of 2D slices holds one channel per slice, not {channels}; give one channel")
    cases = []
    for images, masks in SLICE_FOLDERS:
        if not (root / images).is_dir():
            continue
        if not (root / masks).is_dir():
            raise InputError(f"slice folder {root / images} has no mask folder {root / masks}; add the masks")
        for image in sorted((root / images).glob("*.png")):
            mask = root / masks / image.name
            if not mask.is_file():
                raise InputError(f"slice {image} has no mask {mask}; add it or remove the slice")
            match = _SLICE_NAME.match(image.stem)
            cases.append(DiskCase(f"{images}/{image.stem}", match["patient"] if match else image.stem,
                                  {channels[0]: image}, mask))
    return cases


def _csv_cases(path: Path, channels: list[str]) -> tuple[list[DiskCase], list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or len(rows[0]) < 3 or rows[0][0].strip().lower() != "case" or rows[0][-1].strip().lower() != "label":
        raise InputError(f"CSV manifest {path} must start with the header case,image[,image...],label")
    columns = [c.strip().lower() for c in rows[0][1:-1]]
    named = [canonical_channel(c) for c in columns] if all(c != "image" for c in columns) else channels
    if len(named) != len(columns):
        raise InputError(f"CSV manifest {path} has {len(columns)} image column(s) but {len(channels)} channel(s) "
                         f"{channels}; give one channel per image column")
    missing = [c for c in channels if c not in named]
    if missing:
        raise InputError(f"CSV manifest {path} has no column for channel(s) {missing} (columns {columns}); add "
                         "them or choose other channels")
    cases = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(rows[0]):
            raise InputError(f"CSV manifest {path} line {number} has {len(row)} fields, the header {len(rows[0])}")
        files = {c: path.parent / row[1 + named.index(c)].strip() for c in channels}
        cases.append(DiskCase(row[0].strip(), row[0].strip(), files, path.parent / row[-1].strip()))
    return cases, named


def detect_layout(path: Path) -> str:
    """The layout of ``path`` (see the module docstring), or a refusal naming the four it can be."""
    if path.is_file() and path.suffix.lower() == ".csv":
        return "csv"
    if not path.is_dir():
        raise InputError(f"data set {path} is neither a folder nor a .csv manifest; check the path")
    if any((path / images).is_dir() for images, _ in SLICE_FOLDERS):
        return "slices"
    if any(path.glob("*_image.nii*")):
        return "emidec"
    subfolders = [p for p in sorted(path.iterdir()) if p.is_dir()]
    if any(_emidec_case(p) for p in subfolders) or any(any(p.glob("*_image.nii*")) for p in subfolders):
        return "emidec"
    if any(any(p.glob(f"{p.name}[-_]seg.*")) for p in subfolders):
        return "brats"
    raise InputError(f"data set {path} matches no known layout: BraTS case folders (<case>/<case>_seg.nii.gz), "
                     "EMIDEC folders, train/+trainannot/ PNG slices, or a CSV manifest (docs/trust-study.md)")


def read_dataset(path: str | os.PathLike, task: str, channels: list[str] | None = None) -> DiskDataset:
    """Find every case of the data set at ``path`` for ``task`` (channels default: lge or flair)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"data set {path} does not exist; check the path")
    channels = [canonical_channel(c) for c in (channels or (["lge"] if task == "cardiac-scar" else ["flair"]))]
    layout = detect_layout(path)
    if layout == "csv":
        cases, _ = _csv_cases(path, channels)
    elif layout == "slices":
        cases = _slice_cases(path, channels)
    elif layout == "emidec":
        if channels != ["lge"]:
            raise InputError(f"EMIDEC data hold one LGE image per case, not channels {channels}; use lge")
        cases = _emidec_flat(path)
        for folder in (p for p in sorted(path.iterdir()) if p.is_dir()):
            found = _emidec_case(folder)
            cases += [found] if found else _emidec_flat(folder)
    else:
        cases = [_brats_case(p, channels) for p in sorted(path.iterdir())
                 if p.is_dir() and any(p.glob(f"{p.name}[-_]seg.*"))]
    if not cases:
        raise InputError(f"data set {path} ({layout} layout) holds no case; check the folder")
    names = [c.name for c in cases]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"data set {path} names case(s) {duplicated[:3]} more than once; give each case one name")
    return DiskDataset(path, layout, task, channels, cases)
