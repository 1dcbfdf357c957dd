"""The instant "template" engine: paints the lesion's appearance into a copy of the image.

Inside the edit region only: a per-modality target intensity for each lesion label (estimated from the
image's healthy tissue), a seeded low-frequency texture and noise at the image's own noise level, and a
smooth ramp at the border. Every voxel outside the region is copied unchanged (bit-identical). All work
happens on the crop around the lesion, so a 240x240x155 image takes a fraction of a second.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import ndimage

import synthtrust
from synthtrust.editing.edit import mask_checksum
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import LabelSchema
from synthtrust.synthesis.base import SynthesisResult, validate_synthesis_inputs
from synthtrust.synthesis.intensity import healthy_statistics, lge_targets, noise_level, tumour_targets


def _box(mask: np.ndarray, margin_voxels: np.ndarray) -> tuple[slice, ...]:
    box = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        present = np.flatnonzero(mask.any(axis=other))
        low = max(0, int(present[0]) - int(margin_voxels[axis]))
        high = min(mask.shape[axis], int(present[-1]) + 1 + int(margin_voxels[axis]))
        box.append(slice(low, high))
    return tuple(box)


def _cast_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


class TemplateSynthesizer:
    """Instant lesion synthesis from intensity models estimated on the image itself."""

    name = "template"

    def __init__(self, blend_mm: float = 2.0, texture_mm: float = 3.0, texture_strength: float = 0.06,
                 context_mm: float = 30.0):
        self.blend_mm = blend_mm
        self.texture_mm = texture_mm
        self.texture_strength = texture_strength
        self.context_mm = context_mm

    def prepare(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                anatomy: Image | None = None) -> np.ndarray:
        return validate_synthesis_inputs(channels, lesion, schema, modalities)

    def synthesize(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                   seed: int = 0, progress=None, should_cancel=None, anatomy: Image | None = None) -> SynthesisResult:
        """``anatomy`` is accepted for a uniform interface and unused: the template estimates tissue itself."""
        started = time.perf_counter()
        region = validate_synthesis_inputs(channels, lesion, schema, modalities)
        spacing = np.asarray(lesion.spacing_zyx)
        box = _box(region, np.ceil(self.context_mm / spacing))
        labels = lesion.array[box]
        inside = region[box]
        # Ramp from 0 at the region's border to 1 at blend_mm inside it.
        depth = ndimage.distance_transform_edt(inside, sampling=spacing)
        weight = np.clip(depth / self.blend_mm, 0.0, 1.0)[inside]
        rng = np.random.default_rng(seed)
        sigma = self.texture_mm / spacing
        texture = ndimage.gaussian_filter(rng.standard_normal(inside.shape), sigma)
        texture /= max(float(texture[inside].std()), 1e-9)
        white = rng.standard_normal(inside.shape)

        outputs, models = [], []
        for c, (channel, modality) in enumerate(zip(channels, modalities, strict=True)):
            if should_cancel is not None and should_cancel():
                from synthtrust.errors import CancelledError

                raise CancelledError("synthesis cancelled; nothing was written")
            crop = channel.array[box].astype(np.float64)
            tissue = ~inside & (crop > np.percentile(crop, 5)) & ~np.isin(labels, schema.lesion_labels)
            if schema.name == "emidec":
                targets, stats = lge_targets(crop, labels, rng)
            else:
                stats = healthy_statistics(crop[tissue] if tissue.any() else crop[~inside], rng)
                targets = tumour_targets(schema, modality, stats)
            noise_sd = noise_level(crop, tissue, rng)
            target = np.zeros(inside.shape)
            for value, intensity in targets.items():
                target[labels == value] = intensity
            # Soften the steps between sub-labels (e.g. rim to necrosis) without leaking outside.
            target = ndimage.gaussian_filter(target * inside, 0.7 / spacing)
            support = ndimage.gaussian_filter(inside.astype(np.float64), 0.7 / spacing)
            target = np.where(inside, target / np.maximum(support, 1e-6), 0.0)
            contrast = stats.get("spread", stats.get("remote_sd", 1.0) * 4.0)
            lesion_values = (target + self.texture_strength * contrast * texture + noise_sd * white)[inside]
            blended = (1.0 - weight) * crop[inside] + weight * lesion_values
            output = channel.array.copy()
            view = output[box]
            view[inside] = _cast_like(blended, channel.array.dtype)
            outputs.append(channel.with_array(output, name=f"{channel.name} synthetic"))
            models.append({"channel": c, "modality": modality, "targets": {str(k): round(v, 4) for k, v in
                                                                           targets.items()},
                           "tissue_statistics": {k: round(v, 4) for k, v in stats.items()},
                           "noise_sd": round(noise_sd, 5)})
            if progress is not None:
                progress(c + 1, len(channels), f"channel {c + 1}/{len(channels)} ({modality})")
        provenance = {"engine": self.name, "software_version": synthtrust.__version__, "seed": int(seed),
                      "modalities": list(modalities), "schema": schema.name,
                      "mask_sha256": mask_checksum(lesion.array), "blend_mm": self.blend_mm,
                      "texture_mm": self.texture_mm, "texture_strength": self.texture_strength,
                      "intensity_models": models, "seconds": round(time.perf_counter() - started, 4)}
        return SynthesisResult(outputs, region, provenance)
