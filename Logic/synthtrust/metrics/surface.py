"""Surface distances between two binary masks, in millimetres with anisotropic spacing.

Semantics match MONAI 1.6.1 (``get_mask_edges`` + ``get_surface_distance``): the surface of a mask is
the mask minus its erosion by the 6-connected cross, computed on the crop around both masks with a
one-voxel margin; a distance is the exact Euclidean distance from a surface voxel of one mask to the
nearest surface voxel of the other. The official BraTS package (panoptica) extracts the border the same
way (mask XOR its erosion by the 6-connected cross), so one set of distances serves both HD95 conventions
(:mod:`synthtrust.metrics.conventions`): the MONAI reductions round to float32 first, as MONAI returns its
distances; the BraTS reductions keep float64, as panoptica does.

Speed: a distance is only ever needed at the other mask's surface voxels, so instead of a Euclidean
distance transform of the whole crop (MONAI's and panoptica's way) each direction is one k-d tree query
of one surface's points (in mm) against the other's: the same exact nearest distances, at a cost that
grows with the surfaces, not the volume. The distances are computed once and reused for every metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass
class SurfaceDistances:
    """Directed distances: prediction surface -> reference surface and back (mm, float64)."""

    prediction_to_reference: np.ndarray
    reference_to_prediction: np.ndarray


def surface(mask: np.ndarray) -> np.ndarray:
    """Surface voxels: the mask minus its erosion by the 6-connected cross (zeros outside the array)."""
    padded = np.pad(mask, 1)
    interior = mask.copy()
    for axis in range(mask.ndim):
        for shift in (0, 2):  # the neighbour before and after along ``axis``
            window = [slice(1, n + 1) for n in mask.shape]
            window[axis] = slice(shift, shift + mask.shape[axis])
            interior &= padded[tuple(window)]
    return mask & ~interior


def _nearest_distances(points: np.ndarray, targets: np.ndarray, sampling: np.ndarray) -> np.ndarray:
    """Distance (mm) from each voxel of ``points`` to the nearest voxel of ``targets`` (voxel indices)."""
    if len(points) == 0:
        return np.zeros(0)
    tree = cKDTree(targets * sampling, balanced_tree=False, compact_nodes=False)
    _, nearest = tree.query(points * sampling)
    # Recomputed from the integer offsets as scipy's distance transform does, so that a distance exactly
    # at a tolerance (1 voxel of 0.9 mm) compares the same way as there.
    offsets = (points - targets[nearest]) * sampling
    squared = offsets[:, 0] ** 2
    for axis in range(1, offsets.shape[1]):
        squared = squared + offsets[:, axis] ** 2
    return np.sqrt(squared)


def surface_distances(reference: np.ndarray, prediction: np.ndarray, spacing_zyx) -> SurfaceDistances:
    """Directed surface distances between two non-empty masks (numpy axis order spacing)."""
    sampling = np.asarray([float(s) for s in spacing_zyx])
    reference_surface, prediction_surface = surface(reference.astype(bool)), surface(prediction.astype(bool))
    # Voxels on both surfaces are 0 mm away: only the others need a nearest-neighbour query.
    shared = int(np.count_nonzero(reference_surface & prediction_surface))
    reference_points, prediction_points = np.argwhere(reference_surface), np.argwhere(prediction_surface)
    reference_only = np.argwhere(reference_surface & ~prediction_surface)
    prediction_only = np.argwhere(prediction_surface & ~reference_surface)
    return SurfaceDistances(
        np.concatenate([np.zeros(shared), _nearest_distances(prediction_only, reference_points, sampling)]),
        np.concatenate([np.zeros(shared), _nearest_distances(reference_only, prediction_points, sampling)]))


def _as_monai(distances: SurfaceDistances) -> tuple[np.ndarray, np.ndarray]:
    return (distances.prediction_to_reference.astype(np.float32),
            distances.reference_to_prediction.astype(np.float32))


def percentile_hausdorff(distances: SurfaceDistances, percentile: float = 95.0) -> float:
    """MONAI's HD95: max of the two directed percentiles (float32, linear interpolation as torch.quantile)."""
    forward, backward = _as_monai(distances)
    return float(max(np.percentile(forward, percentile), np.percentile(backward, percentile)))


def pooled_percentile_hausdorff(distances: SurfaceDistances, percentile: float = 95.0) -> float:
    """The official BraTS package's HD95: the percentile of both directions' distances pooled (float64).

    It is at most about MONAI's (a pooled percentile lies near or between the two directed ones), and much
    smaller when one mask has a small far-away part: MONAI's directed percentile of that part's side sees
    it, the pooled one dilutes it among the other mask's surface."""
    both = np.concatenate([distances.prediction_to_reference, distances.reference_to_prediction])
    return float(np.percentile(both, percentile))


def mean_surface_distance(distances: SurfaceDistances) -> float:
    """Symmetric average surface distance: the mean over both directions' distances together."""
    both = np.concatenate(_as_monai(distances))
    return float(both.mean(dtype=np.float32))


def normalized_surface_dice(distances: SurfaceDistances, tolerance_mm: float) -> float:
    """Share of both surfaces lying within ``tolerance_mm`` of the other surface (voxel counts, as MONAI)."""
    forward, backward = _as_monai(distances)
    within = np.count_nonzero(forward <= tolerance_mm) + np.count_nonzero(backward <= tolerance_mm)
    return float(within / (forward.size + backward.size))


def mean_directed_surface_dice(distances: SurfaceDistances, tolerance_mm: float) -> float:
    """The official BraTS package's NSD: the mean of the two directed shares within ``tolerance_mm``
    (each surface counts half, whatever its size; MONAI's pools the voxels of both)."""
    forward = np.count_nonzero(distances.prediction_to_reference <= tolerance_mm) / distances.prediction_to_reference.size
    backward = (np.count_nonzero(distances.reference_to_prediction <= tolerance_mm)
                / distances.reference_to_prediction.size)
    return float((forward + backward) / 2.0)
