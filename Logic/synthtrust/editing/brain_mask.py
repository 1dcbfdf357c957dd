"""A brain mask derived from the image itself, for clipping tumours when the user gives none."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.imaging.image import Image


def _largest_component(mask: np.ndarray) -> np.ndarray:
    components, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(components.ravel())
    sizes[0] = 0
    return components == int(np.argmax(sizes))


def _otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    histogram, edges = np.histogram(values, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(histogram)
    mean = np.cumsum(histogram * centers)
    total_mean = mean[-1]
    between = (total_mean * weight - mean * weight[-1]) ** 2 / np.maximum(weight * (weight[-1] - weight), 1)
    return float(centers[int(np.argmax(between))])


def derive_brain_mask(image: Image, erosion_mm: float = 5.0) -> Image:
    """Skull-stripped images: the non-zero head. Others: Otsu foreground, eroded by ``erosion_mm`` to cut
    the bridges to scalp, largest component, dilated back inside the foreground, holes filled."""
    array = image.array.astype(np.float32)
    sampling = image.spacing_zyx
    nonzero = array != 0
    if 0.2 < 1.0 - nonzero.mean() and _largest_component(nonzero).sum() > 0.95 * nonzero.sum():
        mask = ndimage.binary_fill_holes(_largest_component(nonzero))
        return image.with_array(mask.astype(np.uint8), name="brain mask")
    smoothed = ndimage.gaussian_filter(array, 1.0)
    foreground = smoothed > _otsu_threshold(smoothed[smoothed > np.percentile(smoothed, 2)])
    eroded = ndimage.distance_transform_edt(foreground, sampling=sampling) > erosion_mm
    core = _largest_component(eroded) if eroded.any() else _largest_component(foreground)
    regrown = (ndimage.distance_transform_edt(~core, sampling=sampling) <= erosion_mm) & foreground
    mask = ndimage.binary_fill_holes(regrown)
    return image.with_array(mask.astype(np.uint8), name="brain mask")
