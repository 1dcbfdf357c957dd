"""From a whole image to the generator's grid and back.

The generator works on a region around the lesion (a 3D box, or for 2D models the slices that hold
the lesion) resampled to its own spacing, in intensity units of clipped z-scores scaled to [-1, 1].
This module cuts that region out, builds the conditioning channels (see ``config.py`` for their order)
and writes generated voxels back into a copy of the image, touching only the voxels it is told to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image, require_same_grid
from synthtrust.labels.schema import LabelSchema
from synthtrust.segmentation.preprocessing import background_value
from synthtrust.synthesis.diffusion.config import GeneratorConfig


@dataclass(frozen=True)
class IntensityScale:
    """z-score of one channel over its foreground (as the segmenters normalise), clipped and scaled."""

    mean: float
    std: float
    clip: float

    @classmethod
    def of(cls, array: np.ndarray, clip: float) -> IntensityScale:
        values = array.astype(np.float64, copy=False)
        fill = background_value(values.astype(np.float32))
        sample = values[values != fill] if fill is not None and np.count_nonzero(values != fill) > 1 else values
        return cls(float(sample.mean()), max(float(sample.std()), 1e-6), clip)

    def to_model(self, values: torch.Tensor) -> torch.Tensor:
        return torch.clamp((values - self.mean) / self.std, -self.clip, self.clip) / self.clip

    def from_model(self, values: torch.Tensor) -> torch.Tensor:
        return values * self.clip * self.std + self.mean


def anatomy_mask(channels: list[Image], lesion: Image, schema: LabelSchema, anatomy: Image | None) -> np.ndarray:
    """The anatomy the lesion belongs in: given, else the myocardium of a cardiac map, else the foreground."""
    if anatomy is not None:
        require_same_grid(lesion, anatomy, what="anatomy mask")
        return anatomy.array > 0
    if schema.name == "emidec" and np.isin(lesion.array, (2, 3, 4)).any():
        return schema.region_mask(lesion.array, "myocardium")
    first = channels[0].array
    fill = background_value(first.astype(np.float32))
    return first != fill if fill is not None else np.ones(first.shape, bool)


@dataclass(frozen=True)
class Region:
    """Where the generator works: a native box (z, y, x slices) and the model-grid extent of it."""

    box: tuple[slice, slice, slice]
    model_shape: tuple[int, ...]  # 3D: (z, y, x); 2D: (y, x), one sample per slice of the box

    @property
    def native_shape(self) -> tuple[int, int, int]:
        return tuple(s.stop - s.start for s in self.box)


def _round_up(value: float, multiple: int) -> int:
    return max(multiple, int(math.ceil(value / multiple - 1e-6)) * multiple)


def choose_region(mask: np.ndarray, spacing_zyx, config: GeneratorConfig, whole_image: bool = False) -> Region:
    """The box around ``mask`` plus ``context_mm`` (or the whole image), refused beyond ``max_region``."""
    spacing_zyx = np.asarray(spacing_zyx, dtype=float)
    box = []
    for axis in range(3):
        if whole_image:
            box.append(slice(0, mask.shape[axis]))
            continue
        other = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(mask.any(axis=other))
        # 2D models generate slice by slice: through-plane, only the slices holding the lesion.
        margin = 0 if (config.spatial_dims == 2 and axis == 0) else int(math.ceil(config.context_mm /
                                                                                spacing_zyx[axis]))
        box.append(slice(max(0, int(present[0]) - margin), min(mask.shape[axis], int(present[-1]) + 1 + margin)))
    model_spacing_zyx = np.asarray(config.spacing_mm[::-1], dtype=float)
    axes = range(3) if config.spatial_dims == 3 else range(1, 3)
    shape = tuple(_round_up((box[a].stop - box[a].start) * spacing_zyx[a] / model_spacing_zyx[a], config.downsampling)
                  for a in axes)
    limit = tuple(config.max_region[::-1])
    if any(s > m for s, m in zip(shape, limit, strict=True)):
        extent = " x ".join(f"{(b.stop - b.start) * s:.0f}" for b, s in zip(box, spacing_zyx, strict=True))
        raise InputError(f"the region to generate ({extent} mm, {shape} voxels on the model grid, z y x) exceeds the "
                         f"generator's limit {limit}; draw a smaller lesion, generate lesion by lesion, or use "
                         "--engine template")
    return Region(tuple(box), shape)


def _resample(volume: torch.Tensor, shape: tuple[int, ...], spatial_dims: int) -> torch.Tensor:
    """(N, C, *spatial) -> (N, C, *shape), linearly; identity when the shape already matches."""
    if tuple(volume.shape[2:]) == tuple(shape):
        return volume
    mode = "trilinear" if spatial_dims == 3 else "bilinear"
    return F.interpolate(volume, size=shape, mode=mode, align_corners=False)


def to_model_batch(arrays: np.ndarray, region: Region, config: GeneratorConfig) -> torch.Tensor:
    """(C, z, y, x) native crop -> model grid: (1, C, *shape) for 3D, (slices, C, y, x) for 2D."""
    tensor = torch.from_numpy(np.ascontiguousarray(arrays, dtype=np.float32))
    if config.spatial_dims == 3:
        return _resample(tensor[None], region.model_shape, 3)
    return _resample(tensor.permute(1, 0, 2, 3), region.model_shape, 2)


def from_model_batch(batch: torch.Tensor, region: Region, config: GeneratorConfig) -> np.ndarray:
    """The inverse of :func:`to_model_batch`: model grid -> (C, z, y, x) on the native crop."""
    if config.spatial_dims == 3:
        return _resample(batch, region.native_shape, 3)[0].numpy()
    return _resample(batch, region.native_shape[1:], 2).permute(1, 0, 2, 3).numpy()


def one_hot_labels(labels: np.ndarray, values: list[int]) -> np.ndarray:
    return np.stack([(labels == v) for v in values]).astype(np.float32)


def conditioning(masked_images: torch.Tensor, generate: torch.Tensor, lesion_one_hot: torch.Tensor,
                 anatomy: torch.Tensor, conditional: bool) -> torch.Tensor:
    """Concatenate the conditioning channels; conditional generation hides the image entirely."""
    if conditional:
        masked_images = torch.zeros_like(masked_images)
        generate = torch.ones_like(generate)
    return torch.cat([masked_images, generate, lesion_one_hot, anatomy], dim=1)


def smooth_fill(known: torch.Tensor, generate: torch.Tensor, iterations: int = 60) -> torch.Tensor:
    """``known`` with the ``generate`` region filled by diffusing the surrounding values inwards (a
    membrane / harmonic fill): the first guess healthy-tissue filling starts from."""
    pool = F.avg_pool3d if known.dim() == 5 else F.avg_pool2d
    inside = generate.expand_as(known) > 0.5
    ring = (pool(generate.float(), 3, stride=1, padding=1) > 0) & ~(generate > 0.5)
    start = (known * ring).sum(dim=tuple(range(2, known.dim())), keepdim=True) / ring.sum(
        dim=tuple(range(2, known.dim())), keepdim=True).clamp(min=1)
    filled = torch.where(inside, start.expand_as(known), known)
    for _ in range(iterations):
        filled = torch.where(inside, pool(filled, 3, stride=1, padding=1, count_include_pad=False), known)
    return filled
