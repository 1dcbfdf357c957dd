"""Measurable features of a brain tumour in its image, the same for real and synthetic tumours: per-region
contrast against normal white matter, heterogeneity, fine texture, border sharpness, and core shape.

Intensities are first z-scored over the brain (mean and SD of the brain's voxels), so raw scanner values,
z-scored images and the MNI template are measured on one scale. Normal white matter is the brightest
(T1, T1c) or darkest-but-CSF (FLAIR: middle class, T2: darkest) of three intensity classes in a shell
around the tumour, found on one T1-weighted channel when there is one, so every modality of a case is
measured against the same voxels. Fine texture is measured in-plane (a 1 mm Gaussian high-pass per slice)
so thick-slice and 1 mm images compare.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from synthtrust.labels.schema import LabelSchema

APPEARANCE_REGIONS = ("ED", "ET", "NCR")
MIN_VOXELS = 20  # fewer voxels than this give no stable median or SD: the feature is left out
SHELL_MM = (3.0, 25.0)  # the normal-tissue shell around the tumour: from 3 mm to 25 mm outside it
T1_LIKE = ("t1", "t1c")


def _robust_sd(values: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values)))) if values.size else 0.0


def three_class_labels(values: np.ndarray, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """1-D k-means with three classes (CSF, grey, white matter by intensity), started at quantiles so it is
    deterministic; returns (class index per value in 0..2 sorted by centre, the three centres)."""
    centres = np.percentile(values, [15, 50, 85]).astype(float)
    classes = np.zeros(values.shape, np.int8)
    for _ in range(iterations):
        classes = np.argmin(np.abs(values[:, None] - centres[None, :]), axis=1).astype(np.int8)
        updated = np.array([values[classes == k].mean() if np.any(classes == k) else centres[k] for k in range(3)])
        if np.allclose(updated, centres):
            break
        centres = updated
    order = np.argsort(centres)
    rank = np.empty(3, np.int8)
    rank[order] = np.arange(3)
    return rank[classes], centres[order]


def white_matter_class(modality: str) -> int:
    """Which of the three sorted intensity classes is white matter in ``modality``."""
    return {"flair": 1, "t2": 0}.get(modality, 2)


def normal_white_matter(reference: np.ndarray, modality: str, brain: np.ndarray, lesion: np.ndarray,
                        spacing_zyx) -> np.ndarray:
    """Normal white matter in a shell around ``lesion`` (see the module docstring); empty when the shell is."""
    distance = ndimage.distance_transform_edt(~lesion, sampling=spacing_zyx)
    shell = brain & ~lesion & (distance > SHELL_MM[0]) & (distance <= SHELL_MM[1])
    if np.count_nonzero(shell) < 3 * MIN_VOXELS:
        return np.zeros_like(shell)
    classes, _ = three_class_labels(reference[shell].astype(np.float64))
    white = np.zeros_like(shell)
    white[shell] = classes == white_matter_class(modality)
    return white


def brain_z_scored(array: np.ndarray, brain: np.ndarray) -> np.ndarray:
    values = array[brain].astype(np.float64)
    sd = float(values.std()) or 1.0
    return (array.astype(np.float64) - float(values.mean())) / sd


def in_plane_high_pass(array: np.ndarray, spacing_zyx, sigma_mm: float = 1.0) -> np.ndarray:
    """The image minus its in-plane Gaussian blur (no smoothing across slices)."""
    sigma = (0.0, sigma_mm / float(spacing_zyx[1]), sigma_mm / float(spacing_zyx[2]))
    return array - ndimage.gaussian_filter(array, sigma)


def _erode(mask: np.ndarray) -> np.ndarray:
    eroded = ndimage.binary_erosion(mask)
    return eroded if np.count_nonzero(eroded) >= MIN_VOXELS else mask


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
    white_inner = _erode(white)
    boundary = lesion & ~ndimage.binary_erosion(lesion)
    for array, modality in zip(channels, modalities, strict=True):
        z = brain_z_scored(np.asarray(array), brain)
        high = in_plane_high_pass(z, spacing)
        white_median = float(np.median(z[white]))
        white_texture = float(high[white_inner].std()) or 1e-6
        for name in APPEARANCE_REGIONS:
            if name not in schema.labels.values():
                continue
            region = labels == schema.label_value(name)
            if np.count_nonzero(region) < MIN_VOXELS:
                continue
            values = z[region]
            features[f"{modality}.{name}.contrast"] = float(np.median(values)) - white_median
            features[f"{modality}.{name}.heterogeneity"] = _robust_sd(values)
            features[f"{modality}.{name}.texture"] = float(high[_erode(region)].std()) / white_texture
        gradient = np.sqrt(sum(g ** 2 for g in np.gradient(ndimage.gaussian_filter(z, 0.5), *spacing)))
        features[f"{modality}.border_sharpness"] = float(np.median(gradient[boundary]))
    return features
