"""Measurable features of a brain tumour in its image, the same for real and synthetic tumours: per-region
contrast against normal white matter, heterogeneity, fine texture, border sharpness, and core shape.

Intensities are first z-scored over the brain, so raw scanner values, z-scored images and the MNI
template are measured on one scale; normal white matter and the in-plane high-pass that defines fine
texture are those of :mod:`synthtrust.imaging.tissue`. White matter is found on one T1-weighted channel
when there is one, so every modality of a case is measured against the same voxels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from synthtrust.imaging.tissue import MIN_VOXELS, brain_z_scored, in_plane_high_pass, normal_white_matter
from synthtrust.labels.schema import LabelSchema

APPEARANCE_REGIONS = ("ED", "ET", "NCR")
# Grain below this (in brain SDs) cannot be seen: a noise-free template's white matter is taken to have this
# much, so its texture ratio measures visible grain, not a division by almost nothing.
INVISIBLE_GRAIN = 0.02
TEXTURE_MARGIN_MM = 3.0  # three SDs of the 1 mm high-pass: farther in, a region's border no longer shows
T1_LIKE = ("t1", "t1c")


def _robust_sd(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values)))) if values.size else 0.0


def away_from_border(mask: np.ndarray, spacing_zyx, margin_mm: float = TEXTURE_MARGIN_MM) -> np.ndarray:
    """The voxels of ``mask`` farther than ``margin_mm`` in-plane from its border, where the 1 mm high-pass
    sees the region's own grain and not the step to its neighbours; all of ``mask`` when too few are."""
    # An in-plane erosion by an ellipse of margin_mm radii (one slice thick): fast, and anisotropy-aware.
    ry, rx = (int(np.floor(margin_mm / float(s))) for s in spacing_zyx[1:])
    y, x = np.ogrid[-ry:ry + 1, -rx:rx + 1]
    disc = ((y * float(spacing_zyx[1])) ** 2 + (x * float(spacing_zyx[2])) ** 2 <= margin_mm ** 2)[None]
    inner = ndimage.binary_erosion(mask, structure=disc, border_value=1) if mask.any() else mask
    return inner if np.count_nonzero(inner) >= MIN_VOXELS else mask


def _surface_area_mm2(mask: np.ndarray, spacing_zyx) -> float:
    """Exposed voxel faces times their areas (over-counts a smooth surface ~1.5x, the same for every
    tumour measured on the same grid, so real and synthetic compare)."""
    dz, dy, dx = (float(s) for s in spacing_zyx)
    face = {0: dy * dx, 1: dz * dx, 2: dz * dy}
    padded = np.pad(mask, 1)
    return float(sum(np.count_nonzero(np.diff(padded.astype(np.int8), axis=a)) * face[a] for a in range(3)))


def _solidity(mask: np.ndarray, spacing_zyx) -> float:
    points = np.argwhere(mask).astype(np.float64) * np.asarray(spacing_zyx, float)
    if len(points) < 10:
        return float("nan")
    try:
        hull = ConvexHull(points)
    except QhullError:  # flat or degenerate: no volume to compare with
        return float("nan")
    voxel = float(np.prod(spacing_zyx))
    # Voxel centres: the hull misses half a voxel all round; grow it by that shell before comparing.
    return float(min(1.0, len(points) * voxel / (hull.volume + 0.5 * hull.area * float(np.mean(spacing_zyx)))))


def shape_features(labels: np.ndarray, schema: LabelSchema, spacing_zyx) -> dict[str, float]:
    """Tumour-core sphericity, solidity, surface/volume (1/mm) and the edema/core volume ratio."""
    core_labels = schema.region("TC").labels
    core = np.isin(labels, core_labels)
    edema = labels == schema.label_value("ED")
    features: dict[str, float] = {}
    if np.count_nonzero(core) < MIN_VOXELS:
        return features
    volume = np.count_nonzero(core) * float(np.prod(spacing_zyx))
    area = _surface_area_mm2(core, spacing_zyx)
    features["shape.core_sphericity"] = float(np.pi ** (1 / 3) * (6 * volume) ** (2 / 3) / area)
    features["shape.core_surface_per_volume"] = area / volume
    solidity = _solidity(core, spacing_zyx)
    if np.isfinite(solidity):
        features["shape.core_solidity"] = solidity
    features["shape.edema_core_ratio"] = float(np.count_nonzero(edema) * float(np.prod(spacing_zyx)) / volume)
    return features


def reference_channel(modalities: list[str]) -> int:
    for name in T1_LIKE:
        if name in modalities:
            return modalities.index(name)
    return 0


def lesion_features(channels: list[np.ndarray], modalities: list[str], labels: np.ndarray, schema: LabelSchema,
                    spacing_zyx, brain: np.ndarray | None = None) -> dict[str, float]:
    """Every feature this module defines that the case allows (a region under ``MIN_VOXELS`` gives none),
    keyed ``<modality>.<region>.<feature>``, ``<modality>.border_sharpness`` and ``shape.<feature>``."""
    spacing = tuple(float(s) for s in spacing_zyx)
    lesion = np.isin(labels, schema.lesion_labels)
    if brain is None:
        brain = np.asarray(channels[0]) != 0
    brain = np.asarray(brain, bool) | lesion
    reference = reference_channel(modalities)
    white = normal_white_matter(np.asarray(channels[reference]), modalities[reference], brain, lesion, spacing)
    features = shape_features(labels, schema, spacing)
    if np.count_nonzero(white) < MIN_VOXELS:
        return features
    white_inner = away_from_border(white, spacing)
    boundary = lesion & ~ndimage.binary_erosion(lesion)
    for array, modality in zip(channels, modalities, strict=True):
        z = brain_z_scored(np.asarray(array), brain)
        high = in_plane_high_pass(z, spacing)
        white_median = float(np.median(z[white]))
        white_texture = max(float(high[white_inner].std()), INVISIBLE_GRAIN)
        for name in APPEARANCE_REGIONS:
            if name not in schema.labels.values():
                continue
            region = labels == schema.label_value(name)
            if np.count_nonzero(region) < MIN_VOXELS:
                continue
            values = z[region]
            features[f"{modality}.{name}.contrast"] = float(np.median(values)) - white_median
            features[f"{modality}.{name}.heterogeneity"] = _robust_sd(values)
            features[f"{modality}.{name}.texture"] = float(high[away_from_border(region, spacing)].std()) / white_texture
        gradient = np.sqrt(sum(g ** 2 for g in np.gradient(ndimage.gaussian_filter(z, 0.5), *spacing)))
        features[f"{modality}.border_sharpness"] = float(np.median(gradient[boundary]))
    return features
