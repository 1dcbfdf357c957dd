"""Resampling onto another grid: only when the user asks for it (``--resample``)."""

from __future__ import annotations

import SimpleITK as sitk

from synthtrust.imaging.image import Geometry, Image
from synthtrust.imaging.io import from_sitk, to_sitk


def resample_to(image: Image, target: Geometry, is_label: bool, name: str | None = None) -> Image:
    """Resample onto ``target``: nearest neighbour for labels, linear for intensities."""
    reference = sitk.Image([int(s) for s in target.size], sitk.sitkUInt8)
    reference.SetSpacing(target.spacing)
    reference.SetOrigin(target.origin)
    reference.SetDirection(target.direction)
    interpolator = sitk.sitkNearestNeighbor if is_label else sitk.sitkLinear
    result = sitk.Resample(to_sitk(image), reference, sitk.Transform(), interpolator, 0.0)
    return from_sitk(result, name or image.name)
