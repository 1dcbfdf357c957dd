"""Bring image channels to a model's working grid and intensity scale, and predictions back.

Training and inference call the same functions, so a model always sees inputs prepared one way.
Network arrays are ``(C, x, y, z)`` (MONAI's layout); images are ``(z, y, x)`` (see ``config.py``).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from synthtrust.errors import InputError
from synthtrust.imaging.image import Geometry, Image, require_same_grid
from synthtrust.imaging.io import from_sitk, to_sitk
from synthtrust.imaging.resample import resample_to
from synthtrust.segmentation.config import NetworkConfig

# A constant fill counts as background only when it covers at least this fraction of the volume.
BACKGROUND_MIN_FRACTION = 0.05
# ITK's recursive Gaussian refuses axes with fewer voxels than this.
MIN_SMOOTHING_VOXELS = 4


def working_geometry(geometry: Geometry, target_spacing_mm) -> Geometry:
    """The same physical box and direction at the model's spacing (``None`` keeps the input's grid, a 0
    keeps the input's spacing on that axis: slice-wise models keep the stack's slices)."""
    if target_spacing_mm is None:
        return geometry
    spacing = np.asarray(target_spacing_mm, float)
    spacing = np.where(spacing == 0, np.asarray(geometry.spacing, float), spacing)
    extent = np.asarray(geometry.size) * np.asarray(geometry.spacing)
    size = np.maximum(1, np.ceil(extent / spacing - 1e-3)).astype(int)
    # Centre the new grid on the old box: the first voxel centre moves by half the change in voxel size,
    # plus half the rounding slack so neither side of the box is favoured.
    slack = size * spacing - extent
    shift = (spacing - np.asarray(geometry.spacing)) / 2.0 - slack / 2.0
    origin = np.asarray(geometry.origin) + geometry.direction_matrix() @ shift
    return Geometry(tuple(int(s) for s in size), tuple(float(s) for s in spacing),
                    tuple(float(o) for o in origin), geometry.direction)


def background_value(array: np.ndarray) -> float | None:
    """The constant fill outside the anatomy (0 after skull stripping, or the image minimum), if any."""
    candidates = {0.0, float(array.min()), float(array.flat[0])}
    best, best_count = None, 0
    for value in candidates:
        count = int(np.count_nonzero(array == value))
        if count > best_count:
            best, best_count = value, count
    return best if best_count >= BACKGROUND_MIN_FRACTION * array.size else None


def normalize_channel(array: np.ndarray, mode: str) -> np.ndarray:
    """Intensity normalisation of one channel (``config.NORMALIZATIONS`` documents each mode).

    ``zscore-nonzero`` finds a constant background fill (0, or the minimum, as after whole-image
    z-scoring), z-scores the other voxels and sets the background to 0; running it twice changes
    nothing, so raw and already normalised images reach the network alike.
    """
    values = array.astype(np.float32, copy=False)
    if mode == "none":
        return values.copy()
    foreground = None
    if mode == "zscore-nonzero":
        fill = background_value(values)
        if fill is not None:
            foreground = values != fill
            if foreground.sum() < 2:
                foreground = None
    sample = values[foreground] if foreground is not None else values
    mean, std = float(sample.mean(dtype=np.float64)), float(sample.std(dtype=np.float64))
    result = (values - mean) / max(std, 1e-6)
    if foreground is not None:
        result[~foreground] = 0.0
    return result.astype(np.float32, copy=False)


def to_working_grid(image: Image, target: Geometry, is_label: bool = False) -> np.ndarray:
    """Resample one image onto ``target`` (Gaussian anti-aliasing before downsampling intensities)."""
    if image.geometry.matches(target):
        return image.array
    if is_label:
        return resample_to(image, target, is_label=True).array
    itk_image = sitk.Cast(to_sitk(image), sitk.sitkFloat32)
    factors = np.asarray(target.spacing) / np.asarray(image.geometry.spacing)
    if factors.max() > 1.01:
        # sigma ~ 0.4 x the new spacing along downsampled axes: removes what the coarse grid cannot hold.
        sigmas = [max(0.4 * s * (f - 1.0), 1e-3) for s, f in zip(image.geometry.spacing, factors, strict=True)]
        itk_image = anti_alias(itk_image, sigmas, factors)
    return resample_to(from_sitk(itk_image, image.name), target, is_label=False).array


def anti_alias(itk_image: sitk.Image, sigmas: list[float], factors: np.ndarray) -> sitk.Image:
    """Gaussian smoothing before downsampling. ITK's recursive Gaussian needs at least four voxels along
    every axis it smooths; a thin stack (1-5 slices, e.g. LGE) is smoothed only along the axes that have
    them and are downsampled, which is all the anti-aliasing it needs (a 2-5 slice axis is upsampled)."""
    size = itk_image.GetSize()
    if min(size) >= MIN_SMOOTHING_VOXELS:
        return sitk.SmoothingRecursiveGaussian(itk_image, sigmas)
    for axis, (sigma, factor) in enumerate(zip(sigmas, factors, strict=True)):
        if factor > 1.01 and size[axis] >= MIN_SMOOTHING_VOXELS:
            itk_image = sitk.RecursiveGaussian(itk_image, sigma, False, sitk.RecursiveGaussianImageFilter.ZeroOrder,
                                               axis)
    return itk_image


def prepare_channels(channels: list[Image], config: NetworkConfig) -> tuple[np.ndarray, Geometry]:
    """Normalised ``(C, x, y, z)`` float32 network input on the model's working grid, and that grid."""
    if not channels:
        raise InputError("no image channel was given; pass at least one --image")
    for channel in channels[1:]:
        require_same_grid(channels[0], channel, what="channel")
    working = working_geometry(channels[0].geometry, config.target_spacing_mm)
    arrays = []
    for channel in channels:
        # Normalise on the input grid, where the background fill is still exact, then resample.
        normalized = channel.with_array(normalize_channel(channel.array, config.normalization))
        arrays.append(to_working_grid(normalized, working).astype(np.float32, copy=False))
    return np.ascontiguousarray(np.stack(arrays).transpose(0, 3, 2, 1)), working


def _check_label_range(labels: np.ndarray, label_values: list[int], source: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise InputError(f"{source} holds labels outside 0-255; expected the values {label_values}")


def label_classes(labels: np.ndarray, label_values: list[int], source: str = "label map") -> np.ndarray:
    """Map schema label values to network class indices (0..K-1); unknown values are refused."""
    _check_label_range(labels, label_values, source)
    lookup = np.full(256, 255, np.uint8)
    for index, value in enumerate(label_values):
        lookup[value] = index
    classes = lookup[labels.astype(np.int64)]
    if (classes == 255).any():
        unknown = sorted(int(v) for v in np.unique(labels[classes == 255]))
        raise InputError(f"{source} holds labels {unknown} that the model does not predict (it predicts "
                         f"{label_values}); relabel the map or change label_values")
    return classes


def prepare_labels(labels: Image, working: Geometry, label_values: list[int]) -> np.ndarray:
    """Class indices ``(x, y, z)`` on the working grid (nearest neighbour: labels are never blended)."""
    _check_label_range(labels.array, label_values, labels.name or "label map")
    resampled = to_working_grid(labels.with_array(labels.array.astype(np.uint8)), working, is_label=True)
    return np.ascontiguousarray(label_classes(resampled, label_values, labels.name or "label map").transpose(2, 1, 0))


def classes_to_input_grid(classes_xyz: np.ndarray, working: Geometry, target: Geometry) -> np.ndarray:
    """Class indices from the working grid back onto the input grid, ``(z, y, x)``, nearest neighbour."""
    array = np.ascontiguousarray(classes_xyz.transpose(2, 1, 0)).astype(np.uint8)
    if working.matches(target):
        return array
    return resample_to(Image(array, working), target, is_label=True).array


def probabilities_to_input_grid(probabilities_xyz: np.ndarray, working: Geometry, target: Geometry) -> np.ndarray:
    """Class probabilities ``(K, x, y, z)`` back onto the input grid as ``(K, z, y, x)``, linearly, summing
    to 1 in every voxel (voxels beyond the working grid's reach are background)."""
    array = np.ascontiguousarray(probabilities_xyz.transpose(0, 3, 2, 1)).astype(np.float32)
    if not working.matches(target):
        array = np.stack([resample_to(Image(p, working), target, is_label=False).array for p in array])
        array = np.clip(array, 0.0, None)
    total = array.sum(axis=0)
    empty = total <= 1e-6
    array[0][empty] = 1.0
    total[empty] = 1.0
    array /= total[None]
    return array.astype(np.float32, copy=False)
