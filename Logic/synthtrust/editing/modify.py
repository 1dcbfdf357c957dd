"""Edits of an existing lesion: grow, shrink, smooth and move, in millimetres.

The lesion is the schema's lesion labels; anatomy labels stay. Where the lesion recedes, voxels return
to the host label (background for brain tumours, normal myocardium for scars); where it advances, it
may only enter its host (any non-lesion voxel for tumours, myocardium for scars).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.editing.edit import Edit
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import LabelSchema


def _host(schema: LabelSchema) -> tuple[int, tuple[int, ...] | None]:
    """(label a receding lesion leaves behind, labels an advancing lesion may enter or None for any)."""
    if schema.name == "emidec":
        return 2, (2, 3, 4)
    return 0, None


def _lesion(labels: Image, schema: LabelSchema) -> np.ndarray:
    schema.validate(labels.array)
    lesion = schema.lesion_mask(labels.array)
    if not lesion.any():
        raise InputError("the label map holds no lesion to modify; place or draw a lesion first")
    return lesion


def _allowed(labels: np.ndarray, schema: LabelSchema, mask: np.ndarray | None) -> np.ndarray:
    _, host = _host(schema)
    allowed = np.ones(labels.shape, bool) if host is None else np.isin(labels, host)
    if mask is not None:
        allowed &= mask.astype(bool)
    return allowed


def grow(labels: Image, amount_mm: float, schema: LabelSchema, mask: Image | None = None) -> Edit:
    """Advance the lesion border by ``amount_mm``; new voxels take the label of the nearest lesion voxel."""
    if amount_mm <= 0:
        raise InputError(f"grow amount {amount_mm} mm must be > 0 (use shrink to make a lesion smaller)")
    lesion = _lesion(labels, schema)
    distance, nearest = ndimage.distance_transform_edt(~lesion, sampling=labels.spacing_zyx, return_indices=True)
    nearest_label = labels.array[tuple(nearest)]
    advance = (distance > 0) & (distance <= amount_mm)
    advance &= _allowed(labels.array, schema, mask.array if mask is not None else None)
    result = labels.array.copy()
    result[advance] = nearest_label[advance]
    return Edit("grow", labels.with_array(result), {"amount_mm": float(amount_mm), "schema": schema.name})


def shrink(labels: Image, amount_mm: float, schema: LabelSchema) -> Edit:
    """Pull the lesion border in by ``amount_mm``; the lesion's inner labels keep their places."""
    if amount_mm <= 0:
        raise InputError(f"shrink amount {amount_mm} mm must be > 0")
    lesion = _lesion(labels, schema)
    depth = ndimage.distance_transform_edt(lesion, sampling=labels.spacing_zyx)
    result = labels.array.copy()
    result[lesion & (depth <= amount_mm)] = _host(schema)[0]
    if not schema.lesion_mask(result).any():
        raise InputError(f"shrinking by {amount_mm} mm removes the whole lesion; use a smaller amount")
    return Edit("shrink", labels.with_array(result), {"amount_mm": float(amount_mm), "schema": schema.name})


def smooth(labels: Image, radius_mm: float, schema: LabelSchema) -> Edit:
    """Smooth the lesion's borders with a Gaussian of ``radius_mm`` (sigma), keeping the nesting order."""
    if radius_mm <= 0:
        raise InputError(f"smoothing radius {radius_mm} mm must be > 0")
    lesion = _lesion(labels, schema)
    sigma = [radius_mm / s for s in labels.spacing_zyx]
    allowed = _allowed(labels.array, schema, None) | lesion
    result = labels.array.copy()
    result[lesion] = _host(schema)[0]
    # Paint from the outermost label inwards: each label's smoothed mask is the union of itself and the
    # labels it encloses, so nesting (e.g. NCR inside ET inside ED) survives smoothing.
    order = sorted(set(np.unique(labels.array[lesion]).tolist()),
                   key=lambda v: -int(np.count_nonzero(labels.array == v)))
    for position, value in enumerate(order):
        enclosed = np.isin(labels.array, order[position:])
        smoothed = ndimage.gaussian_filter(enclosed.astype(np.float32), sigma) >= 0.5
        result[smoothed & allowed] = value
    return Edit("smooth", labels.with_array(result), {"radius_mm": float(radius_mm), "schema": schema.name})


def move(labels: Image, offset_mm, schema: LabelSchema, mask: Image | None = None) -> Edit:
    """Translate the lesion by ``offset_mm`` (x, y, z in LPS mm); it is clipped to its host and ``mask``."""
    offset = np.asarray(offset_mm, float)
    if offset.shape != (3,) or not np.all(np.isfinite(offset)):
        raise InputError(f"offset {offset_mm} must be three finite numbers (x, y, z in mm)")
    lesion = _lesion(labels, schema)
    matrix = labels.geometry.ijk_to_lps()[:3, :3]
    shift_ijk = np.linalg.solve(matrix, offset)
    lesion_values = np.where(lesion, labels.array, 0)
    moved = ndimage.shift(lesion_values, shift_ijk[::-1], order=0, mode="constant", cval=0)
    result = labels.array.copy()
    result[lesion] = _host(schema)[0]
    target = (moved > 0) & _allowed(result, schema, mask.array if mask is not None else None)
    result[target] = moved[target]
    if not schema.lesion_mask(result).any():
        raise InputError(f"moving by {tuple(offset)} mm takes the lesion outside the image or its host tissue")
    return Edit("move", labels.with_array(result), {"offset_lps_mm": [float(v) for v in offset],
                                                     "shift_voxels_ijk": [float(v) for v in shift_ijk],
                                                     "schema": schema.name})
