"""Tissue found from the image itself, shared by the template engine (what it paints relative to) and the
realism audit (what it measures against): brain z-scores, normal white matter around a lesion, and the
in-plane high-pass that defines fine texture.

Normal white matter is the brightest (T1, T1c and other T1-like images), the middle (FLAIR: CSF is
suppressed, white matter is darker than grey) or the darkest (T2) of three intensity classes in a shell
around the lesion. Fine texture is measured in-plane (a 1 mm Gaussian high-pass per slice) so thick-slice
and 1 mm images compare.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

MIN_VOXELS = 20  # fewer voxels than this give no stable median or SD: the measurement is left out
MAX_CLASS_SAMPLES = 200_000
SHELL_MM = (3.0, 25.0)  # the normal-tissue shell around a lesion: from 3 mm to 25 mm outside it


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
    """Normal white matter in a shell around ``lesion`` (see the module docstring); empty when the shell is.
    The three classes are found over the whole ``brain`` (it has CSF even where the shell has none, which
    would otherwise split white matter in two) and then applied to the shell."""
    distance = ndimage.distance_transform_edt(~lesion, sampling=spacing_zyx)
    shell = brain & ~lesion & (distance > SHELL_MM[0]) & (distance <= SHELL_MM[1])
    if np.count_nonzero(shell) < 3 * MIN_VOXELS:
        return np.zeros_like(shell)
    values = reference[brain & ~lesion].astype(np.float64)
    step = max(1, values.size // MAX_CLASS_SAMPLES)  # every n-th voxel: fast, and deterministic
    _, centres = three_class_labels(values[::step])
    classes = np.argmin(np.abs(reference[shell].astype(np.float64)[:, None] - centres[None, :]), axis=1)
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


def brain_voxels(array: np.ndarray) -> np.ndarray:
    """The brain of a skull-stripped image (its non-zero voxels); of any other image, all but its darkest 5 %
    (background and air), which is what the engine and the audit both z-score over."""
    nonzero = array != 0
    if nonzero.mean() < 0.95:
        return nonzero
    return array > np.percentile(array, 5)
