"""The instant "template" engine: paints the lesion's appearance into a copy of the image.

Inside the edit region only. A brain tumour in FLAIR, T1, T1c or T2 takes the appearance learned from real
gliomas (``synthesis.intensity.learned_appearance``): each region's median sits its real contrast above
normal white matter (in brain SDs), a coarse random field gives its real heterogeneity, and fine texture
with the power spectrum of the image's own white matter (``synthesis.texture``) is as strong, relative to
that white matter, as in real tumours: a smooth template gets no visible noise. Other modalities and scars
use targets from the image's healthy-tissue quantiles with a seeded low-frequency texture and noise at the
image's own level. A smooth ramp joins the border. Every voxel outside the region is copied unchanged
(bit-identical). All work happens on the crop around the lesion, so a 240x240x155 image takes a fraction
of a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

import synthtrust
from synthtrust.editing.edit import mask_checksum
from synthtrust.imaging.image import Image, cast_like
from synthtrust.imaging.tissue import MIN_VOXELS, brain_voxels, in_plane_high_pass, normal_white_matter
from synthtrust.labels.schema import LabelSchema
from synthtrust.synthesis.base import SynthesisResult, validate_synthesis_inputs
from synthtrust.synthesis.intensity import (
    healthy_statistics,
    learned_appearance,
    lge_targets,
    noise_level,
    tumour_targets,
)
from synthtrust.synthesis.texture import coarse_field, spectrum_matched_texture
from synthtrust.trust.lesion_features import away_from_border, reference_channel
from synthtrust.trust.realism import CONTEXT_MM


def _box(mask: np.ndarray, margin_voxels: np.ndarray) -> tuple[slice, ...]:
    box = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        present = np.flatnonzero(mask.any(axis=other))
        low = max(0, int(present[0]) - int(margin_voxels[axis]))
        high = min(mask.shape[axis], int(present[-1]) + 1 + int(margin_voxels[axis]))
        box.append(slice(low, high))
    return tuple(box)


LEARNED_BLEND_MM = 4.0  # with this ramp the border sharpness of synthetic tumours is nearest the real one
RULES_BLEND_MM = 2.0
RULES_CONTEXT_MM = 30.0
PAINT_MARGIN_MM = 15.0  # around the lesion: the smoothing's reach and white matter for the texture's spectrum


@dataclass
class _Tissue:
    """What the learned appearance paints relative to, in one channel's crop."""

    brain_mean: float
    brain_sd: float
    white_median: float
    white_fine_sd: float  # SD of the in-plane high-pass in normal white matter: the image's own fine grain
    white: np.ndarray


def _tissue(crop: np.ndarray, white: np.ndarray, spacing: np.ndarray) -> _Tissue:
    brain = brain_voxels(crop)
    values = crop[brain]
    fine = in_plane_high_pass(crop, spacing)[away_from_border(white, spacing)]
    return _Tissue(float(values.mean()), float(values.std()) or 1.0, float(np.median(crop[white])),
                   float(fine.std()), white)


def _smooth_within(values: np.ndarray, inside: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Gaussian smoothing of a per-label map that does not mix in what lies outside the region."""
    smoothed = ndimage.gaussian_filter(values * inside, sigma)
    support = ndimage.gaussian_filter(inside.astype(np.float64), sigma)
    return np.where(inside, smoothed / np.maximum(support, 1e-6), 0.0)


def _match_medians(blended: np.ndarray, weight: np.ndarray, labels: np.ndarray, targets: dict) -> np.ndarray:
    """Shift each region so that its median, border ramp included, is the learned target (real contrasts
    are medians over whole regions, borders included); the shift follows the ramp, so the border stays
    continuous with the untouched tissue outside."""
    blended = blended.copy()
    for value, painted in targets.items():
        region = labels == int(value)
        if not region.any():
            continue
        ramp = weight[region]
        for _ in range(3):  # the median moves less than the shift where the ramp is below 1: a few passes
            shift = painted["target"] - float(np.median(blended[region]))
            blended[region] += ramp * shift / max(float(ramp.mean()), 0.3)
    return blended


class TemplateSynthesizer:
    """Instant lesion synthesis from intensity models estimated on the image itself."""

    name = "template"

    def __init__(self, blend_mm: float | None = None, texture_mm: float = 3.0, texture_strength: float = 0.06,
                 context_mm: float | None = None, heterogeneity_mm: float = 6.0, label_smoothing_mm: float = 1.5):
        self.blend_mm = blend_mm
        self.texture_mm = texture_mm
        self.texture_strength = texture_strength
        self.context_mm = context_mm
        self.heterogeneity_mm = heterogeneity_mm
        self.label_smoothing_mm = label_smoothing_mm

    def prepare(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                anatomy: Image | None = None) -> np.ndarray:
        return validate_synthesis_inputs(channels, lesion, schema, modalities)

    def synthesize(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                   seed: int = 0, progress=None, should_cancel=None, anatomy: Image | None = None) -> SynthesisResult:
        """``anatomy`` is accepted for a uniform interface and unused: the template estimates tissue itself."""
        started = time.perf_counter()
        region = validate_synthesis_inputs(channels, lesion, schema, modalities)
        spacing = np.asarray(lesion.spacing_zyx)
        # Tumours: the crop the realism audit measures on, so brain statistics agree; scars: 30 mm as ever.
        context_mm = self.context_mm or (CONTEXT_MM if schema.name.startswith("brats") else RULES_CONTEXT_MM)
        box = _box(region, np.ceil(context_mm / spacing))
        labels = lesion.array[box]
        inside = region[box]
        white = self._white_matter(channels, modalities, box, inside, schema, spacing)
        # The depth inside the region only needs the region's own box (and one voxel of outside around it).
        own = _box(inside, np.ones(3))
        depth = ndimage.distance_transform_edt(inside[own], sampling=spacing)[inside[own]]
        rng = np.random.default_rng(seed)
        sigma = self.texture_mm / spacing
        texture = ndimage.gaussian_filter(rng.standard_normal(inside.shape), sigma)
        texture /= max(float(texture[inside].std()), 1e-9)
        white_noise = rng.standard_normal(inside.shape)

        outputs, models = [], []
        for c, (channel, modality) in enumerate(zip(channels, modalities, strict=True)):
            if should_cancel is not None and should_cancel():
                from synthtrust.errors import CancelledError

                raise CancelledError("synthesis cancelled; nothing was written")
            crop = channel.array[box].astype(np.float64)
            appearance = learned_appearance(modality) if white is not None else {}
            weight = self._ramp(depth, learned=bool(appearance))
            if appearance:
                tissue = _tissue(crop, white, spacing)
                # Painting needs only the lesion and some white matter around it: a smaller box, same voxel order.
                near = _box(inside, np.ceil(PAINT_MARGIN_MM / spacing))
                blended, model = self._learned(crop[near], labels[near], inside[near], weight, schema, appearance,
                                               white[near], spacing, rng, tissue)
            else:
                lesion_values, model = self._quantile_rules(crop, labels, inside, schema, modality, spacing, texture,
                                                            white_noise, rng)
                blended = (1.0 - weight) * crop[inside] + weight * lesion_values
            output = channel.array.copy()
            view = output[box]
            view[inside] = cast_like(blended, channel.array.dtype)
            outputs.append(channel.with_array(output, name=f"{channel.name} synthetic"))
            models.append({"channel": c, "modality": modality, **model})
            if progress is not None:
                progress(c + 1, len(channels), f"channel {c + 1}/{len(channels)} ({modality})")
        provenance = {"engine": self.name, "software_version": synthtrust.__version__, "seed": int(seed),
                      "modalities": list(modalities), "schema": schema.name,
                      "mask_sha256": mask_checksum(lesion.array),
                      "blend_mm": [self.blend_mm or (LEARNED_BLEND_MM if m.get("appearance", "").startswith("learned")
                                                     else RULES_BLEND_MM) for m in models],
                      "texture_mm": self.texture_mm, "texture_strength": self.texture_strength,
                      "heterogeneity_mm": self.heterogeneity_mm, "label_smoothing_mm": self.label_smoothing_mm,
                      "intensity_models": models, "seconds": round(time.perf_counter() - started, 4)}
        return SynthesisResult(outputs, region, provenance)

    def _ramp(self, depth: np.ndarray, learned: bool) -> np.ndarray:
        """Weight of the painted values, from 0 at the region's border to 1 at ``blend_mm`` inside it: a
        smoothstep over 4 mm for the learned appearance (real tumour borders are soft), the linear 2 mm ramp
        of the quantile rules (scars) otherwise, unless ``blend_mm`` is given."""
        blend_mm = self.blend_mm or (LEARNED_BLEND_MM if learned else RULES_BLEND_MM)
        ramp = np.clip(depth / blend_mm, 0.0, 1.0)
        return ramp * ramp * (3.0 - 2.0 * ramp) if learned else ramp

    def _white_matter(self, channels: list[Image], modalities: list[str], box, inside: np.ndarray,
                      schema: LabelSchema, spacing: np.ndarray) -> np.ndarray | None:
        """Normal white matter around the lesion, found once on a T1-weighted channel (None for scars, or
        when too little of it is in view: the quantile rules then apply)."""
        if not schema.name.startswith("brats"):
            return None
        reference = reference_channel(modalities)
        crop = channels[reference].array[box].astype(np.float64)
        white = normal_white_matter(crop, modalities[reference], brain_voxels(crop), inside, tuple(spacing))
        return white if np.count_nonzero(white) >= MIN_VOXELS else None

    def _learned(self, crop, labels, inside, weight, schema, appearance, white, spacing, rng,
                 tissue: _Tissue) -> tuple[np.ndarray, dict]:
        """The region's values: learned medians and heterogeneity blended into the tissue, then as much
        fine grain as the real texture ratio asks for beyond what the composition already has."""
        target, coarse_sd = np.zeros(inside.shape), np.zeros(inside.shape)
        painted, fine_wanted = {}, {}
        for value, name in schema.labels.items():
            region = labels == value
            learned = appearance.get(name) or appearance.get("NCR")  # NET (2015 numbering) looks like necrosis
            if learned is None or not region.any():
                continue
            fine_wanted[value] = learned["texture"] * tissue.white_fine_sd
            # The region's total spread is the real heterogeneity; the fine grain is part of it.
            coarse = float(np.sqrt(max((learned["heterogeneity"] * tissue.brain_sd) ** 2 - fine_wanted[value] ** 2,
                                       0.0)))
            target[region] = tissue.white_median + learned["contrast"] * tissue.brain_sd
            coarse_sd[region] = coarse
            painted[str(value)] = {"target": round(float(target[region][0]), 4), "coarse_sd": round(coarse, 5),
                                   **{k: round(v, 4) for k, v in learned.items()}}
        coarse = coarse_field(inside.shape, inside, self.heterogeneity_mm, spacing, rng)
        # A 1 mm high-pass still sees a little of a smooth field: where that alone would exceed the real fine
        # grain (a smooth template has almost none), the heterogeneity gives way, so no grain appears.
        coarse_high = in_plane_high_pass(coarse, spacing)
        for value, wanted in fine_wanted.items():
            region = labels == value
            grain = float(coarse_high[away_from_border(region, spacing)].std()) * float(coarse_sd[region][0])
            if grain > wanted:
                coarse_sd[region] *= wanted / grain
                painted[str(value)]["coarse_sd"] = round(float(coarse_sd[region][0]), 5)
        smoothing = self.label_smoothing_mm / spacing
        target, coarse_sd = (_smooth_within(m, inside, smoothing) for m in (target, coarse_sd))
        fine = spectrum_matched_texture(crop, white, inside, spacing, rng)
        values = (1.0 - weight) * crop[inside] + weight * (target + coarse_sd * coarse)[inside]
        values = _match_medians(values, weight, labels[inside], painted)
        # Fine grain already there (the tissue under the ramp, the label steps): add only what is missing.
        composed = crop.copy()
        composed[inside] = values
        high = in_plane_high_pass(composed, spacing)
        fine_sd = np.zeros(inside.shape)
        for value, wanted in fine_wanted.items():
            region = labels == value
            present = float(high[away_from_border(region, spacing)].std())  # as the realism audit measures it
            fine_sd[region] = np.sqrt(max(wanted ** 2 - present ** 2, 0.0))
            painted[str(value)]["fine_sd"] = round(float(fine_sd[region][0]), 5)
        values = values + (weight * _smooth_within(fine_sd, inside, smoothing)[inside] * fine[inside])
        return values, {"appearance": "learned from real gliomas (Resources/Appearance/brain_tumour_reference.json)",
                        "targets": painted, "tissue_statistics": {
                            "brain_mean": round(tissue.brain_mean, 4), "brain_sd": round(tissue.brain_sd, 4),
                            "white_matter_median": round(tissue.white_median, 4),
                            "white_matter_fine_sd": round(tissue.white_fine_sd, 5)}}

    def _quantile_rules(self, crop, labels, inside, schema, modality, spacing, texture, white_noise,
                        rng) -> tuple[np.ndarray, dict]:
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
        target = _smooth_within(target, inside, 0.7 / spacing)
        contrast = stats.get("spread", stats.get("remote_sd", 1.0) * 4.0)
        values = (target + self.texture_strength * contrast * texture + noise_sd * white_noise)[inside]
        return values, {"appearance": "quantile rules", "targets": {str(k): round(v, 4) for k, v in targets.items()},
                        "tissue_statistics": {k: round(v, 4) for k, v in stats.items()},
                        "noise_sd": round(noise_sd, 5)}
