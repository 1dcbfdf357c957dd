"""The brain's left-right mirror image, registered onto the brain: each voxel's contralateral twin.

Healthy brains are close to symmetric, so the tissue facing a region across the mid-sagittal plane is the
best structure guess this image itself holds (ventricle walls, cortex, sulci at the right depth), where
the smooth fill of the region's border has none. The image is flipped along its left-right array axis
and rigidly registered onto itself (the region and its mirror left out of the metric), which finds the
mid-sagittal plane however the head sits in the field of view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from synthtrust.errors import InputError
from synthtrust.imaging.image import Geometry


def left_right_axis(geometry: Geometry) -> int:
    """The (z, y, x) array axis that runs most nearly left-right (LPS x) in the patient."""
    direction = geometry.direction_matrix()  # columns: the i, j, k axes in LPS
    ijk = int(np.argmax(np.abs(direction[0, :])))
    return 2 - ijk


def _sitk_image(array: np.ndarray, spacing_zyx) -> sitk.Image:
    # Both images share one grid with identity direction: a rigid transform in this frame is rigid in the
    # patient too (the real direction is a rotation), so the header need not be carried through.
    image = sitk.GetImageFromArray(np.ascontiguousarray(array, np.float32))
    image.SetSpacing(tuple(float(s) for s in reversed(spacing_zyx)))
    return image


@dataclass
class Reflection:
    """The registered mirror of one image: ``mirrored`` (the contralateral value at each voxel) and
    ``valid`` (False where the twin lies in the excluded region or outside the field of view)."""

    axis: int
    mirrored: np.ndarray
    valid: np.ndarray
    correlation: float  # between the image and its mirror over the head, after registration
    parameters: tuple[float, ...]  # Euler angles (rad) and translation (mm) of the registration
    seconds: float
    transform: sitk.Transform
    spacing_zyx: tuple[float, float, float]

    def mirror(self, values: np.ndarray) -> np.ndarray:
        """Another array on the same grid (e.g. a second channel) mirrored by this registration."""
        grid = _sitk_image(values, self.spacing_zyx)
        flipped = _sitk_image(np.flip(np.asarray(values, np.float32), self.axis), self.spacing_zyx)
        resampled = sitk.Resample(flipped, grid, self.transform, sitk.sitkLinear, 0.0)
        return sitk.GetArrayFromImage(resampled).astype(np.float64)


def _head(array: np.ndarray) -> np.ndarray:
    positive = array[array > 0]
    if positive.size == 0:
        raise InputError("the image has no positive voxel, so it shows no head to mirror; check the image")
    return ndimage.binary_opening(array > 0.15 * np.percentile(positive, 99), iterations=1)


def reflect(array: np.ndarray, spacing_zyx, axis: int, exclude: np.ndarray, seed: int = 0) -> Reflection:
    """Register ``array`` flipped along ``axis`` onto ``array``, ignoring ``exclude`` (the region to fill,
    whose values are unknown) and its mirror; return the mirrored image resampled on the array's grid."""
    started = time.perf_counter()
    values = np.asarray(array, np.float32)
    exclude = np.asarray(exclude, bool)
    head = _head(values)
    hidden = ndimage.binary_dilation(exclude, iterations=2)
    fixed = _sitk_image(values, spacing_zyx)
    moving = _sitk_image(np.flip(values, axis), spacing_zyx)
    fixed_mask = _sitk_image(head & ~hidden, spacing_zyx)
    moving_mask = _sitk_image(np.flip(head & ~hidden, axis), spacing_zyx)
    if not (head & ~hidden).any():
        raise InputError("the region to fill covers the whole head: no tissue is left to mirror")
    initial = sitk.CenteredTransformInitializer(
        sitk.Cast(fixed_mask, sitk.sitkFloat32), sitk.Cast(moving_mask, sitk.sitkFloat32), sitk.Euler3DTransform(),
        sitk.CenteredTransformInitializerFilter.MOMENTS)
    registration = sitk.ImageRegistrationMethod()
    registration.SetMetricAsCorrelation()
    registration.SetMetricFixedMask(sitk.Cast(fixed_mask, sitk.sitkUInt8))
    registration.SetMetricMovingMask(sitk.Cast(moving_mask, sitk.sitkUInt8))
    registration.SetMetricSamplingStrategy(registration.RANDOM)
    registration.SetMetricSamplingPercentage(0.25, seed)
    registration.SetInterpolator(sitk.sitkLinear)
    registration.SetOptimizerAsRegularStepGradientDescent(learningRate=2.0, minStep=1e-3, numberOfIterations=80,
                                                          relaxationFactor=0.6)
    registration.SetOptimizerScalesFromPhysicalShift()
    registration.SetShrinkFactorsPerLevel([4, 2])
    registration.SetSmoothingSigmasPerLevel([2.0, 1.0])
    registration.SetInitialTransform(initial, inPlace=True)
    registration.Execute(fixed, moving)
    mirrored = sitk.GetArrayFromImage(sitk.Resample(moving, fixed, initial, sitk.sitkLinear, 0.0))
    source = np.flip(~exclude, axis).astype(np.float32)
    reached = sitk.GetArrayFromImage(sitk.Resample(_sitk_image(source, spacing_zyx), fixed, initial,
                                                   sitk.sitkLinear, 0.0))
    overlap = head & ~hidden & (reached > 0.5)
    correlation = float(np.corrcoef(values[overlap], mirrored[overlap])[0, 1]) if overlap.sum() > 2 else 0.0
    return Reflection(axis, mirrored.astype(np.float64), reached > 0.5, correlation,
                      tuple(float(p) for p in initial.GetParameters()), round(time.perf_counter() - started, 3),
                      initial, tuple(float(s) for s in spacing_zyx))
