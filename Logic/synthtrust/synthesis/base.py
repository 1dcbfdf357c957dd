"""The synthesizer interface every engine implements (template, and the diffusion engines inpaint and
conditional; ``engines.make_synthesizer`` builds one by name).

``synthesize`` takes the input channels, the intended lesion (a label map on their grid) and a seed, and
returns new images: the inputs are never modified. Shared validation lives here so every engine refuses
bad input the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image, require_same_grid
from synthtrust.labels.schema import LabelSchema

MODALITIES = ("flair", "t1", "t1c", "t2", "lge", "other")

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class SynthesisResult:
    channels: list[Image]
    edit_region: np.ndarray  # bool (z, y, x): the only voxels an engine may change
    provenance: dict


class Synthesizer(Protocol):
    name: str

    def prepare(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                anatomy: Image | None = None) -> object:
        """Refuse bad input and load what the engine needs, before any work starts (no output)."""
        ...

    def synthesize(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                   seed: int = 0, progress: ProgressCallback | None = None,
                   should_cancel: Callable[[], bool] | None = None,
                   anatomy: Image | None = None) -> SynthesisResult: ...


def validate_synthesis_inputs(channels: list[Image], lesion: Image, schema: LabelSchema,
                              modalities: list[str]) -> np.ndarray:
    """Refuse bad input with a clear message; return the edit region."""
    if not channels:
        raise InputError("no image channel was given; pass at least one --image")
    if len(modalities) != len(channels):
        raise InputError(f"{len(channels)} channels but {len(modalities)} modalities {modalities}; give one "
                         "modality per channel")
    unknown = [m for m in modalities if m not in MODALITIES]
    if unknown:
        raise InputError(f"modalities {unknown} are unknown; use {', '.join(MODALITIES)}")
    for channel in channels:
        require_same_grid(channels[0], channel, what="channel")
        if channel.array.dtype.kind == "f" and not np.all(np.isfinite(channel.array)):
            raise InputError(f"channel '{channel.name}' holds NaN or infinite voxels; replace them first")
    require_same_grid(channels[0], lesion, what="lesion mask")
    schema.validate(lesion.array, "lesion mask")
    region = schema.lesion_mask(lesion.array)
    if not region.any():
        raise InputError(f"the lesion mask is empty (no {schema.name} lesion label "
                         f"{list(schema.lesion_labels)}); draw or place a lesion first")
    if region.all():
        raise InputError("the lesion covers the whole image, leaving no healthy tissue to estimate its "
                         "appearance from; the lesion must be a part of the image")
    return region
