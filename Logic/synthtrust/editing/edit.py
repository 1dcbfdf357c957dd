"""The result of a lesion edit: a label map plus the parameters that reproduce it exactly.

Every edit works in two steps, as TorchIO's random transforms do: first *sample* its parameters from
the user's request and a seed (irregular border, jitter...), then *apply* them deterministically. The
sampled parameters are the provenance: ``replay`` feeds them back into the apply step and gets the same
label map, voxel for voxel.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from synthtrust.imaging.image import Image


@dataclass
class Edit:
    """A lesion edit: the new label map (on the image grid) and its JSON-serialisable parameters."""

    kind: str  # "tumor", "scar", "grow", "shrink", "smooth", "move"
    labels: Image
    parameters: dict = field(default_factory=dict)

    def provenance(self) -> dict:
        return {"edit": self.kind, "parameters": self.parameters, "mask_sha256": mask_checksum(self.labels.array)}


def mask_checksum(array: np.ndarray) -> str:
    """sha256 of a label map's values and shape: names exactly which lesion a synthetic image carries."""
    digest = hashlib.sha256()
    digest.update(str(tuple(array.shape)).encode())
    digest.update(np.ascontiguousarray(array.astype(np.uint8, copy=False)).tobytes())
    return digest.hexdigest()
