"""Tiny data sets on disk in each layout ``synthtrust.datasets`` reads, for the tests: BraTS 2021 and 2023
case folders, EMIDEC folders, PNG slices of ring-shaped hearts, and CSV manifests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from synthtrust.imaging.image import Image
from synthtrust.imaging.io import save_image
from synthtrust.training.datasets import toy_case

BRATS_2021 = {"flair": "flair", "t1": "t1", "t1c": "t1ce", "t2": "t2"}
BRATS_2023 = {"flair": "t2f", "t1": "t1n", "t1c": "t1c", "t2": "t2w"}


def brats_folder(root: Path, cases: int = 3, numbering: int = 2021, channels=("flair", "t1c")) -> Path:
    """``root/<case>/<case>_<modality>.nii.gz`` + ``_seg`` (2021) or ``-t2f`` ... ``-seg`` (2023, ET = 3)."""
    names, separator = (BRATS_2021, "_") if numbering == 2021 else (BRATS_2023, "-")
    for k in range(cases):
        case = f"BraTS-{numbering}-{k:03d}"
        toy = toy_case("brain-tumor", list(channels), seed=k, shape=(12, 16, 16))
        folder = root / case
        folder.mkdir(parents=True)
        for channel, image in zip(channels, toy.channels, strict=True):
            save_image(image, folder / f"{case}{separator}{names[channel]}.nii.gz")
        labels = toy.labels.array.copy()
        if numbering == 2023:
            labels[labels == 4] = 3
        save_image(toy.labels.with_array(labels), folder / f"{case}{separator}seg.nii.gz")
    return root


def heart_slice(seed: int, size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """A ring-shaped LV (cavity 1, myocardium 2, sometimes a scar 3) and an LGE-like uint8 picture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centre = size / 2 + rng.uniform(-3, 3, 2)
    radius = np.hypot(yy - centre[0], xx - centre[1])
    inner, outer = size * rng.uniform(0.14, 0.2), size * rng.uniform(0.27, 0.33)
    labels = np.zeros((size, size), np.uint8)
    labels[radius < outer] = 2
    labels[radius < inner] = 1
    if seed % 2:
        angle = np.arctan2(yy - centre[0], xx - centre[1])
        labels[(labels == 2) & (np.abs(angle) < 0.8)] = 3
    contrast = np.array([90.0, 210.0, 40.0, 220.0, 20.0])
    picture = contrast[labels] + rng.normal(0, 8, labels.shape)
    return np.clip(picture, 0, 255).astype(np.uint8), labels


def png_slices(root: Path, patients: int = 4, slices: int = 2, size: int = 48) -> Path:
    """``root/train/<patient>_slice<k>.png`` with masks under the same names in ``root/trainannot``."""
    (root / "train").mkdir(parents=True)
    (root / "trainannot").mkdir()
    for p in range(patients):
        for k in range(slices):
            picture, labels = heart_slice(p * 10 + k, size)
            name = f"Case_P{p:03d}_slice{k:03d}.png"
            sitk.WriteImage(sitk.GetImageFromArray(picture), str(root / "train" / name))
            sitk.WriteImage(sitk.GetImageFromArray(labels), str(root / "trainannot" / name))
    return root


def emidec_folder(root: Path, cases: int = 2, official: bool = True) -> Path:
    """EMIDEC cases: ``<case>/Images/<case>.nii.gz`` + ``Contours`` (official) or ``<case>_image/_label``."""
    for k in range(cases):
        case = f"Case_P{k:03d}"
        stacked = [heart_slice(k * 10 + z) for z in range(3)]
        image = Image.from_array(np.stack([s[0] for s in stacked]).astype(np.float32), (1.6, 1.6, 10.0))
        labels = image.with_array(np.stack([s[1] for s in stacked]).astype(np.uint8))
        if official:
            (root / case / "Images").mkdir(parents=True)
            (root / case / "Contours").mkdir()
            save_image(image, root / case / "Images" / f"{case}.nii.gz")
            save_image(labels, root / case / "Contours" / f"{case}.nii.gz")
        else:
            root.mkdir(parents=True, exist_ok=True)
            save_image(image, root / f"{case}_image.nii.gz")
            save_image(labels, root / f"{case}_label.nii.gz")
    return root


def csv_manifest(root: Path, header: str = "case,flair,t1c,label") -> Path:
    """A manifest over a BraTS folder's files (relative paths)."""
    brats_folder(root / "cases", cases=3)
    lines = [header]
    for folder in sorted((root / "cases").iterdir()):
        c = folder.name
        lines.append(f"{c},cases/{c}/{c}_flair.nii.gz,cases/{c}/{c}_t1ce.nii.gz,cases/{c}/{c}_seg.nii.gz")
    path = root / "manifest.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
