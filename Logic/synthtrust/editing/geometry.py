"""Physical coordinates of voxels and smooth random border fields shared by the lesion edits."""

from __future__ import annotations

import numpy as np

from synthtrust.imaging.image import Geometry


def box_around(geometry: Geometry, center_lps: np.ndarray, radius_mm: float) -> tuple[slice, slice, slice]:
    """Numpy (z, y, x) slices covering a sphere of ``radius_mm`` around ``center_lps``, clipped to the grid."""
    matrix = geometry.ijk_to_lps()[:3, :3]
    center_index = geometry.physical_to_index(center_lps)
    # Half-extent in voxels along each index axis of a sphere of that radius (any direction matrix).
    half = radius_mm * np.linalg.norm(np.linalg.inv(matrix), axis=1)
    low = np.floor(center_index - half).astype(int)
    high = np.ceil(center_index + half).astype(int) + 1
    size = np.array(geometry.size)
    low, high = np.clip(low, 0, size), np.clip(high, 0, size)
    return (slice(low[2], high[2]), slice(low[1], high[1]), slice(low[0], high[0]))


def physical_coordinates(geometry: Geometry, box: tuple[slice, slice, slice]) -> np.ndarray:
    """LPS millimetres of every voxel in ``box``: array (z, y, x, 3)."""
    k, j, i = np.meshgrid(*(np.arange(s.start, s.stop) for s in box), indexing="ij")
    index = np.stack([i, j, k], axis=-1).astype(np.float64)
    matrix = geometry.ijk_to_lps()
    return index @ matrix[:3, :3].T + matrix[:3, 3]


def sample_border_field(rng: np.random.Generator, n_waves: int = 8) -> list[dict]:
    """Coefficients of a smooth random function on the unit sphere (a sum of plane waves)."""
    directions = rng.standard_normal((n_waves, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return [{"direction": [float(v) for v in directions[w]], "frequency": float(rng.uniform(1.0, 3.5)),
             "phase": float(rng.uniform(0, 2 * np.pi)), "amplitude": float(rng.normal(0.0, 1.0) / np.sqrt(n_waves))}
            for w in range(n_waves)]


def evaluate_border_field(waves: list[dict], unit_vectors: np.ndarray) -> np.ndarray:
    """The field at ``unit_vectors`` (..., 3): smooth, zero-mean, roughly unit variance."""
    field = np.zeros(unit_vectors.shape[:-1])
    for wave in waves:
        projection = unit_vectors @ np.asarray(wave["direction"])
        field += wave["amplitude"] * np.cos(wave["frequency"] * np.pi * projection + wave["phase"])
    return field
