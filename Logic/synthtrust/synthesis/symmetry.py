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


Box = tuple[slice, slice, slice]


@dataclass
class Reflection:
    """The registration of an image's left-right mirror onto the image: ``mirror`` resamples any array on
    that grid (a channel, a mask) as seen from the other hemisphere, within a box of the grid."""

    axis: int
    transform: sitk.Transform
    spacing_zyx: tuple[float, float, float]
    shape: tuple[int, int, int]
    correlation: float  # between the image and its mirror over the head, after registration (4 mm grid)
    parameters: tuple[float, ...]  # Euler angles (rad) and translation (mm) of the registration
    seconds: float

    def mirror(self, values: np.ndarray, box: Box | None = None, default: float = 0.0) -> np.ndarray:
        """``values`` (on the registered grid) mirrored, at the voxels of ``box`` (default: all of them)."""
        box = box or tuple(slice(0, n) for n in self.shape)
        flipped = _sitk_image(np.flip(np.asarray(values, np.float32), self.axis), self.spacing_zyx)
        reference = _sitk_image(np.zeros([b.stop - b.start for b in box], np.float32), self.spacing_zyx)
        reference.SetOrigin(tuple(float(b.start * s) for b, s in zip(reversed(box), reversed(self.spacing_zyx),
                                                                       strict=True)))
        resampled = sitk.Resample(flipped, reference, self.transform, sitk.sitkLinear, default)
        return sitk.GetArrayFromImage(resampled).astype(np.float64)

    def twin_known(self, hidden: np.ndarray, box: Box | None = None) -> np.ndarray:
        """True at the voxels of ``box`` whose mirror twin is inside the image and not ``hidden``."""
        return self.mirror((~np.asarray(hidden, bool)).astype(np.float32), box) > 0.5


def _head(array: np.ndarray) -> np.ndarray:
    positive = array[array > 0]
    if positive.size == 0:
        raise InputError("the image has no positive voxel, so it shows no head to mirror; check the image")
    return ndimage.binary_opening(array > 0.15 * np.percentile(positive, 99), iterations=1)


def _shrunk(image: sitk.Image, factor: int) -> sitk.Image:
    return sitk.BinShrink(image, [factor] * 3) if factor > 1 else image


def reflect(array: np.ndarray, spacing_zyx, axis: int, exclude: np.ndarray, seed: int = 0) -> Reflection:
    """Register ``array`` flipped along ``axis`` onto ``array``, ignoring ``exclude`` (the region to fill,
    whose values are unknown) and its mirror."""
    started = time.perf_counter()
    values = np.asarray(array, np.float32)
    exclude = np.asarray(exclude, bool)
    head = _head(values)
    known = head & ~ndimage.binary_dilation(exclude, iterations=2)
    if not known.any():
        raise InputError("the region to fill covers the whole head: no tissue is left to mirror")
    # Registered on ~4 mm then ~8 mm grids whatever the voxel size: the mid-plane needs no finer detail,
    # and a 1 mm brain then costs what a 2 mm one does. Binned (averaged) copies of both images share one
    # physical frame with the full grid, so the transform found applies to the full grid as it is.
    factor = max(1, round(4.0 / min(float(s) for s in spacing_zyx)))
    fixed = _shrunk(_sitk_image(values, spacing_zyx), factor)
    moving = _shrunk(_sitk_image(np.flip(values, axis), spacing_zyx), factor)
    fixed_mask = _shrunk(_sitk_image(known, spacing_zyx), factor) > 0.5
    moving_mask = _shrunk(_sitk_image(np.flip(known, axis), spacing_zyx), factor) > 0.5
    transform = sitk.CenteredTransformInitializer(
        sitk.Cast(fixed_mask, sitk.sitkFloat32), sitk.Cast(moving_mask, sitk.sitkFloat32), sitk.Euler3DTransform(),
        sitk.CenteredTransformInitializerFilter.MOMENTS)
    registration = sitk.ImageRegistrationMethod()
    # One thread: ITK's threads sum the randomly sampled metric in a varying order, which changes the
    # optimiser's path from run to run; the same image and seed must give the same fill.
    registration.SetNumberOfThreads(1)
    registration.SetMetricAsCorrelation()
    registration.SetMetricFixedMask(fixed_mask)
    registration.SetMetricMovingMask(moving_mask)
    registration.SetMetricSamplingStrategy(registration.RANDOM)
    registration.SetMetricSamplingPercentage(0.25, seed + 1)  # ITK reads a seed of 0 as "seed from the clock"
    registration.SetInterpolator(sitk.sitkLinear)
    registration.SetOptimizerAsRegularStepGradientDescent(learningRate=2.0, minStep=1e-3, numberOfIterations=80,
                                                          relaxationFactor=0.6)
    registration.SetOptimizerScalesFromPhysicalShift()
    registration.SetShrinkFactorsPerLevel([2, 1])
    registration.SetSmoothingSigmasPerLevel([2.0, 1.0])
    registration.SetInitialTransform(transform, inPlace=True)
    registration.Execute(fixed, moving)
    mirrored = sitk.GetArrayFromImage(sitk.Resample(moving, fixed, transform, sitk.sitkLinear, 0.0))
    reached = sitk.GetArrayFromImage(sitk.Resample(sitk.Cast(moving_mask, sitk.sitkFloat32), fixed, transform,
                                                   sitk.sitkLinear, 0.0))
    overlap = sitk.GetArrayFromImage(fixed_mask).astype(bool) & (reached > 0.5)
    fixed_values = sitk.GetArrayFromImage(fixed)
    correlation = float(np.corrcoef(fixed_values[overlap], mirrored[overlap])[0, 1]) if overlap.sum() > 2 else 0.0
    return Reflection(axis, transform, tuple(float(s) for s in spacing_zyx), values.shape, correlation,
                      tuple(float(p) for p in transform.GetParameters()), round(time.perf_counter() - started, 3))
