"""Label-map anatomies for domain-randomised LGE training: real Sunnybrook hearts and the project's phantoms,
made thicker-walled in variants, each with scars and MVO placed by the project's own scar editor.

Why thicker variants: the Sunnybrook contours are drawn on cine (bSSFP) images, where the endocardial border
sits further out than on LGE (trabeculae and papillary muscles are counted as blood); a network trained only
on them draws LGE myocardium too thin. Why scars from :func:`~synthtrust.editing.scar.place_scar`: the same
editor the user places scars with, so the network sees every AHA segment, 10-100 % transmural, compact and
patchy, with and without an MVO core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from synthtrust.editing.scar import place_scar
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image
from synthtrust.phantoms.cardiac import make_lge_phantom

SUNNYBROOK_CASES = ("SC-HF-I-1", "SC-HF-I-2", "SC-HF-I-4", "SC-HF-I-5")
# AHA territories of the three coronary arteries: infarcts follow them.
TERRITORIES = {"LAD": (1, 2, 7, 8, 13, 14, 17), "RCA": (3, 4, 9, 10, 15), "LCx": (5, 6, 11, 12, 16)}
# Room around the heart: real LGE shows the whole chest (EMIDEC: about 400 mm), so the real surroundings of
# the cine images are kept almost whole; a network that only saw the heart's neighbourhood finds hearts in
# the bowel.
CROP_MARGIN_MM = 150.0


@dataclass
class Anatomy:
    """One short-axis stack: EMIDEC labels (z, y, x), its in-plane spacing, and (Sunnybrook) the real cine
    image on the same grid, whose surroundings the renderer may keep as real anatomy."""

    labels: np.ndarray
    spacing_yx: tuple[float, float]
    source: str
    cine: np.ndarray | None = None


def thicken_myocardium(labels: np.ndarray, outward: int, inward: int) -> np.ndarray:
    """Grow the wall by ``outward`` pixels into the surroundings and ``inward`` pixels into the cavity, slice
    by slice (in-plane only: short-axis slices are thick)."""
    result = labels.copy()
    for z in range(labels.shape[0]):
        wall = np.isin(labels[z], (2, 3, 4))
        if not wall.any():
            continue
        cavity = labels[z] == 1
        if outward:
            grown = ndimage.binary_dilation(wall | cavity, iterations=outward) & (labels[z] == 0)
            result[z][grown] = 2
        if inward and cavity.sum() > 40 * inward:
            eaten = cavity & ~ndimage.binary_erosion(cavity, iterations=inward)
            result[z][eaten] = 2
    return result


def crop_to_heart(labels: np.ndarray, spacing_yx, *others: np.ndarray) -> list[np.ndarray]:
    """Crop every array to the heart's in-plane box plus :data:`CROP_MARGIN_MM` (smaller arrays, faster
    scar placement; the margin keeps enough surroundings for any rotation of a 128-pixel patch)."""
    _, ys, xs = np.nonzero(labels)
    if len(ys) == 0:
        raise InputError("the label map has no heart (no label 1 or 2); give a cardiac label map")
    margin = [int(round(CROP_MARGIN_MM / s)) for s in spacing_yx]
    y0, y1 = max(ys.min() - margin[0], 0), min(ys.max() + margin[0] + 1, labels.shape[1])
    x0, x1 = max(xs.min() - margin[1], 0), min(xs.max() + margin[1] + 1, labels.shape[2])
    return [a[:, y0:y1, x0:x1] for a in (labels, *others)]


def random_scar_request(rng: np.random.Generator) -> dict:
    """Scar parameters covering what the editor offers: a territory's contiguous segments (one to four),
    10-100 % transmural, compact or patchy, MVO in about half of the scars."""
    territory = TERRITORIES[str(rng.choice(sorted(TERRITORIES)))]
    count = int(rng.integers(1, min(4, len(territory)) + 1))
    start = int(rng.integers(0, len(territory) - count + 1))
    return {"segments": list(territory[start:start + count]), "transmurality": float(rng.uniform(0.1, 1.0)),
            "extent": float(rng.uniform(0.4, 1.0)), "irregularity": float(rng.uniform(0.05, 0.9)),
            "mvo": 0.0 if rng.random() < 0.5 else float(rng.uniform(0.15, 0.6))}


def with_random_scar(anatomy: Anatomy, seed: int) -> Anatomy | None:
    """The anatomy with one scar placed by the project's editor (``None`` when five tries miss the stack)."""
    rng = np.random.default_rng(seed)
    volume = Image.from_array(anatomy.labels, (anatomy.spacing_yx[1], anatomy.spacing_yx[0], 8.0))
    for attempt in range(5):
        try:
            edit = place_scar(volume, seed=seed * 7 + attempt, **random_scar_request(rng))
        except InputError:
            continue
        return Anatomy(edit.labels.array.astype(np.uint8), anatomy.spacing_yx, anatomy.source, anatomy.cine)
    return None


def sunnybrook_anatomies(root: str | os.PathLike) -> list[Anatomy]:
    """The four Sunnybrook hearts (CC0), cropped around the heart, with their cine images."""
    folder = Path(root) / "sunnybrook_cine"
    anatomies = []
    for case in SUNNYBROOK_CASES:
        label_path, image_path = folder / f"{case}_label.nii.gz", folder / f"{case}_image.nii.gz"
        if not label_path.is_file() or not image_path.is_file():
            raise InputError(f"{label_path} or {image_path} is missing; pass --data-root pointing at the folder "
                             "that holds sunnybrook_cine/")
        labels, cine = load_image(label_path), load_image(image_path)
        spacing_yx = (float(labels.spacing[1]), float(labels.spacing[0]))
        label_array, cine_array = crop_to_heart(labels.array.astype(np.uint8), spacing_yx,
                                                cine.array.astype(np.float32))
        anatomies.append(Anatomy(label_array, spacing_yx, f"Sunnybrook {case}", cine_array))
    return anatomies


def phantom_anatomies(count: int, seed: int = 0) -> list[Anatomy]:
    """The project's LGE phantoms' label maps (no cine image: their surroundings are drawn by rules)."""
    anatomies = []
    for k in range(count):
        _, labels = make_lge_phantom(seed=seed * 1000 + k)
        spacing_yx = (float(labels.spacing[1]), float(labels.spacing[0]))
        anatomies.append(Anatomy(labels.array.astype(np.uint8), spacing_yx, f"phantom {k}"))
    return anatomies


def build_anatomy_pool(anatomies: list[Anatomy], scars_per_variant: int, seed: int = 0,
                       thickening: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (2, 1), (3, 1)),
                       progress=None) -> list[Anatomy]:
    """Every anatomy in each wall-thickness variant ``(outward, inward)`` pixels, scar-free once and with
    ``scars_per_variant`` random scars."""
    pool: list[Anatomy] = []
    for index, anatomy in enumerate(anatomies):
        for variant, (outward, inward) in enumerate(thickening):
            thick = Anatomy(thicken_myocardium(anatomy.labels, outward, inward), anatomy.spacing_yx,
                            f"{anatomy.source} wall +{outward}/{inward} px", anatomy.cine)
            pool.append(thick)
            for k in range(scars_per_variant):
                scarred = with_random_scar(thick, seed=(seed * 100_000 + index * 1000 + variant * 100 + k))
                if scarred is not None:
                    pool.append(scarred)
        if progress is not None:
            progress(f"anatomy {index + 1}/{len(anatomies)} ({anatomy.source}): pool {len(pool)}")
    return pool
