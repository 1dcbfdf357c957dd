"""Healthy-tissue fills that need no model: the region's border mean, its smooth (harmonic) fill, and the
mirror fill, which copies the contralateral tissue and blends it into the border.

The mirror fill is gradient-domain blending (seamless cloning) with the registered mirror image as the
guide: inside the region the fill is the mirror plus the harmonic interpolation of the image-minus-mirror
difference on the region's border, so it meets the surrounding voxels exactly and keeps the mirror's
structure (ventricle walls, cortex), while a bias between the hemispheres is taken out. Where the twin of
a voxel is itself hidden (a region across the midline) or outside the image, the guide falls back to the
smooth fill. ``mirror_weight`` below 1 mixes the mirror's structure with the smooth fill.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from synthtrust.editing.edit import mask_checksum
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image, cast_like, require_same_grid
from synthtrust.synthesis.harmonic import harmonic_fill
from synthtrust.synthesis.symmetry import left_right_axis, reflect

METHODS = ("mirror", "smooth", "mean")
MARGIN = 2  # voxels kept around the region's box: its border neighbours must lie in the solved box


@dataclass
class FillResult:
    channels: list[Image]
    provenance: dict = field(default_factory=dict)


def _box(region: np.ndarray) -> tuple[slice, ...]:
    found = ndimage.find_objects(region.astype(np.uint8))[0]
    return tuple(slice(max(s.start - MARGIN, 0), min(s.stop + MARGIN, n)) for s, n in zip(found, region.shape,
                                                                                           strict=True))


def mean_fill(values: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The region set to the mean of a 3-voxel shell around it, inside the non-zero image."""
    shell = ndimage.binary_dilation(region, iterations=3) & ~region & (values != 0)
    if not shell.any():
        shell = ndimage.binary_dilation(region, iterations=3) & ~region
    return np.where(region, values[shell].mean(), values.astype(np.float64))


def smooth_fill(values: np.ndarray, region: np.ndarray, spacing_zyx) -> np.ndarray:
    box = _box(region)
    result = values.astype(np.float64)
    result[box] = harmonic_fill(result[box], region[box], spacing_zyx)
    return result


def mirror_fill(values: np.ndarray, region: np.ndarray, spacing_zyx, mirrored: np.ndarray, valid: np.ndarray,
                mirror_weight: float = 1.0) -> np.ndarray:
    """The region filled from ``mirrored`` (the registered mirror image; ``valid`` where its twin is known)
    blended into the border (see the module docstring). All arrays on one grid (the image, or a box of it)."""
    box = _box(region)
    inside, image = region[box], values[box].astype(np.float64)
    smooth = harmonic_fill(image, inside, spacing_zyx)
    guide = np.where(valid[box], mirrored[box], np.where(inside, smooth, image))
    # Outside the region the difference is exact; where a border voxel has no twin it adds no correction.
    difference = harmonic_fill(np.where(inside, 0.0, image - guide), inside, spacing_zyx)
    blended = guide + difference
    filled = smooth + mirror_weight * (blended - smooth)
    result = values.astype(np.float64)
    result[box] = np.where(inside, filled, image)
    return result


def fill_region(channels: list[Image], region: Image, method: str = "mirror", mirror_weight: float = 1.0,
                seed: int = 0) -> FillResult:
    """Fill ``region`` of every channel with healthy tissue by ``method``; voxels outside the region come back
    bit-identical. The mirror registration is estimated on the first channel and used for all of them."""
    started = time.perf_counter()
    if method not in METHODS:
        raise InputError(f"unknown fill method {method!r}; choose one of {', '.join(METHODS)}")
    if not channels:
        raise InputError("no image channel was given; pass at least one image")
    for channel in channels:
        require_same_grid(channels[0], channel, what="channel")
    require_same_grid(channels[0], region, what="region mask")
    mask = np.asarray(region.array) > 0
    if not mask.any() or mask.all():
        raise InputError("the region to fill must be a part of the image: it is "
                         f"{'empty' if not mask.any() else 'the whole image'}")
    for channel in channels:
        if not np.isfinite(channel.array[~mask]).all():
            raise InputError(f"channel {channel.name or '?'} has NaN or infinite voxels outside the region; "
                             "fix the image first (they would spread into the fill)")
    spacing = channels[0].spacing_zyx
    provenance: dict = {"engine": f"{method} fill", "purpose": "healthy-tissue inpainting",
                        "mask_sha256": mask_checksum(mask), "region_voxels": int(mask.sum())}
    reflection = None
    if method == "mirror":
        axis = left_right_axis(channels[0].geometry)
        reflection = reflect(channels[0].array, spacing, axis, mask, seed=seed)
        provenance.update({"mirror_axis_zyx": axis, "mirror_weight": mirror_weight,
                           "mirror_correlation": round(reflection.correlation, 4),
                           "mirror_registration": [round(p, 5) for p in reflection.parameters],
                           "registration_seconds": reflection.seconds, "seed": seed})
    box = _box(mask)
    known = reflection.twin_known(mask, box) if reflection else None
    filled = []
    for channel in channels:
        values = np.asarray(channel.array)
        if method == "mean":
            array = mean_fill(values, mask)
        elif method == "smooth":
            array = smooth_fill(values, mask, spacing)
        else:
            array = values.astype(np.float64)
            array[box] = mirror_fill(array[box], mask[box], spacing, reflection.mirror(values, box), known,
                                     mirror_weight)
        # Outside the region the input's own voxels, not a float round trip of them.
        out = values.copy()
        out[mask] = cast_like(array[mask], values.dtype)
        filled.append(channel.with_array(out))
    provenance["seconds"] = round(time.perf_counter() - started, 3)
    return FillResult(filled, provenance)
