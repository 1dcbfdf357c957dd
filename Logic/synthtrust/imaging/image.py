"""A small typed image container: voxels plus the geometry that places them in the patient.

Conventions (the same as SimpleITK and ITK, so files round-trip without surprises):

- ``array`` is indexed ``[k, j, i]`` (slice, row, column), i.e. numpy order ``(z, y, x)``;
- ``spacing`` and ``origin`` are in ``(x, y, z)`` order, millimetres;
- ``direction`` is a 3x3 matrix whose columns are the i, j, k axes in **LPS** patient coordinates.

3D Slicer works in **RAS**; ``ijk_to_ras`` gives its matrix (``diag(-1, -1, 1)`` applied to LPS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from synthtrust.errors import InputError

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


@dataclass(frozen=True)
class Geometry:
    """Where a voxel grid sits in the patient: size (x, y, z), spacing, origin and LPS direction."""

    size: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        if len(self.size) != 3 or any(int(s) < 1 for s in self.size):
            raise InputError(f"image size {tuple(self.size)} is not a 3D grid: every dimension must be >= 1")
        if len(self.spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in self.spacing):
            raise InputError(
                f"voxel spacing {tuple(self.spacing)} is invalid: every spacing must be finite and > 0 mm; "
                "fix the file header (e.g. in 3D Slicer's Volumes module) and try again"
            )
        if not all(math.isfinite(o) for o in self.origin):
            raise InputError(f"image origin {tuple(self.origin)} is not finite; fix the file header")
        d = np.asarray(self.direction, float).reshape(3, 3)
        if not np.all(np.isfinite(d)) or abs(abs(np.linalg.det(d)) - 1.0) > 1e-3:
            raise InputError(f"image direction {tuple(self.direction)} is not a rotation; fix the file header")

    @property
    def shape(self) -> tuple[int, int, int]:
        """The numpy shape ``(z, y, x)`` of arrays on this grid."""
        return (int(self.size[2]), int(self.size[1]), int(self.size[0]))

    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        """Spacing in numpy axis order, for scipy's ``sampling=`` arguments."""
        return (float(self.spacing[2]), float(self.spacing[1]), float(self.spacing[0]))

    @property
    def voxel_volume_ml(self) -> float:
        return float(np.prod(self.spacing)) / 1000.0

    def direction_matrix(self) -> np.ndarray:
        return np.asarray(self.direction, float).reshape(3, 3)

    def ijk_to_lps(self) -> np.ndarray:
        """4x4 matrix from (i, j, k, 1) voxel indices to LPS millimetres."""
        m = np.eye(4)
        m[:3, :3] = self.direction_matrix() @ np.diag(self.spacing)
        m[:3, 3] = self.origin
        return m

    def ijk_to_ras(self) -> np.ndarray:
        """4x4 matrix from voxel indices to RAS millimetres (3D Slicer's IJKToRAS)."""
        m = self.ijk_to_lps()
        m[:3, :] = LPS_TO_RAS @ m[:3, :]
        return m

    @classmethod
    def from_ijk_to_ras(cls, matrix: np.ndarray, size: tuple[int, int, int]) -> Geometry:
        """Inverse of :meth:`ijk_to_ras`: recover spacing, origin and LPS direction."""
        lps = LPS_TO_RAS @ np.asarray(matrix, float)[:3, :]
        axes = lps[:, :3]
        spacing = np.linalg.norm(axes, axis=0)
        direction = axes / spacing
        return cls(tuple(int(s) for s in size), tuple(float(s) for s in spacing),
                   tuple(float(o) for o in lps[:, 3]), tuple(float(v) for v in direction.flatten()))

    def index_to_physical(self, index_xyz) -> np.ndarray:
        """LPS millimetres of a (continuous) voxel index given as (i, j, k)."""
        return self.ijk_to_lps()[:3, :3] @ np.asarray(index_xyz, float) + np.asarray(self.origin)

    def physical_to_index(self, point_lps) -> np.ndarray:
        """Continuous (i, j, k) voxel index of an LPS point."""
        m = self.ijk_to_lps()
        return np.linalg.solve(m[:3, :3], np.asarray(point_lps, float) - m[:3, 3])

    def matches(self, other: Geometry, tolerance: float = 1e-4) -> bool:
        """True when both grids are the same voxel for voxel (spacing/origin within ``tolerance`` mm)."""
        return (tuple(self.size) == tuple(other.size)
                and np.allclose(self.spacing, other.spacing, atol=tolerance)
                and np.allclose(self.origin, other.origin, atol=tolerance)
                and np.allclose(self.direction, other.direction, atol=tolerance))

    def describe(self) -> str:
        sp = "x".join(f"{s:g}" for s in self.spacing)
        org = ", ".join(f"{o:.4g}" for o in self.origin)
        return f"size {'x'.join(str(s) for s in self.size)}, spacing {sp} mm, origin ({org})"


@dataclass
class Image:
    """Voxels and their geometry. ``array`` is ``(z, y, x)``; see the module docstring."""

    array: np.ndarray
    geometry: Geometry
    name: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise InputError(
                f"image {self.name or ''} has {self.array.ndim} dimensions {self.array.shape}; a 3D volume is "
                "required (for a 2D slice, save it as a volume with one slice; for 4D, pass each channel as its "
                "own --image)"
            )
        if tuple(self.array.shape) != self.geometry.shape:
            raise InputError(
                f"image array shape {self.array.shape} does not match its geometry ({self.geometry.describe()})"
            )

    @classmethod
    def from_array(cls, array: np.ndarray, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0),
                   direction=None, name: str = "") -> Image:
        """Wrap a ``(z, y, x)`` array with the given geometry (identity direction by default)."""
        array = np.asarray(array)
        if array.ndim != 3:
            raise InputError(f"array has shape {array.shape}; a 3D (z, y, x) array is required")
        size = (array.shape[2], array.shape[1], array.shape[0])
        geometry = Geometry(size, tuple(float(s) for s in spacing), tuple(float(o) for o in origin),
                            tuple(direction) if direction is not None else Geometry.direction)
        return cls(array, geometry, name)

    @property
    def spacing(self) -> tuple[float, float, float]:
        return self.geometry.spacing

    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        return self.geometry.spacing_zyx

    def with_array(self, array: np.ndarray, name: str | None = None) -> Image:
        """A new image on the same grid (the metadata dict is copied, never shared)."""
        return Image(array, self.geometry, self.name if name is None else name, dict(self.metadata))

    def copy(self) -> Image:
        return self.with_array(self.array.copy())


def require_same_grid(reference: Image, other: Image, what: str = "mask") -> None:
    """Refuse two images on different grids, naming both geometries and the fix."""
    if not reference.geometry.matches(other.geometry):
        raise InputError(
            f"{what} '{other.name}' ({other.geometry.describe()}) is not on the grid of image "
            f"'{reference.name}' ({reference.geometry.describe()}); resample it onto the image grid first "
            "(pass --resample to evaluate or synthesize, or use Resample Image (BRAINS) in 3D Slicer)"
        )


def stack_channels(channels: list[Image]) -> np.ndarray:
    """Stack channels that share one grid into a ``(C, z, y, x)`` float32 array."""
    if not channels:
        raise InputError("no image channels were given; pass at least one --image")
    for channel in channels[1:]:
        require_same_grid(channels[0], channel, what="channel")
    return np.stack([c.array.astype(np.float32, copy=False) for c in channels])


def cast_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` in an image's voxel type: integers rounded and clipped to the type's range, so a synthetic
    value never wraps around."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)
