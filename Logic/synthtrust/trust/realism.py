"""The realism audit: how far a synthetic brain tumour's measurable features lie from real gliomas.

Each feature of :mod:`synthtrust.trust.lesion_features` is turned into a z-score against the shipped
reference of real tumours (``Resources/Appearance/brain_tumour_reference.json``, made by
``scripts/estimate_brain_tumour_appearance.py``), and the realism score is

    realism = mean over features of exp(-z^2 / 8)

which is 1 when every feature sits at the real mean, 0.61 when every feature is 2 SD away, 0.32 at 3 SD;
the feature farthest from the real range is named beside it. A feature the reference lacks (a modality
it has no data for) is left out and listed, never guessed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import LabelSchema
from synthtrust.resources import resources_dir
from synthtrust.trust.lesion_features import lesion_features

REFERENCE_FILE = Path("Appearance") / "brain_tumour_reference.json"
FORMULA = "realism = mean over features of exp(-z^2 / 8), z = (feature - real mean) / real SD"
CONTEXT_MM = 40.0  # the crop around the lesion the features are measured on (the shell reaches 25 mm)


@lru_cache(maxsize=4)
def _read_reference(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return dict(data["features"])
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"the real-tumour reference {path} cannot be read ({error}); reinstall the extension or "
                         "rebuild it with scripts/estimate_brain_tumour_appearance.py") from error


def tumour_reference(path: str | Path | None = None) -> dict[str, dict]:
    """The shipped statistics of real tumours: feature name -> {mean, sd, samples, cases}."""
    return _read_reference(str(path or resources_dir() / REFERENCE_FILE))


@dataclass
class RealismAudit:
    """A lesion's features, their z-scores against real tumours, and the score (see the module docstring)."""

    score: float
    features: dict[str, float]
    z_scores: dict[str, float]
    worst_feature: str = ""
    unreferenced: list[str] = field(default_factory=list)
    formula: str = FORMULA

    @property
    def worst_z(self) -> float:
        return self.z_scores.get(self.worst_feature, float("nan"))

    def to_json(self) -> dict:
        def finite(value: float):
            return value if math.isfinite(value) else None

        return {"score": finite(self.score), "worst_feature": self.worst_feature, "worst_z": finite(self.worst_z),
                "features": {k: finite(v) for k, v in self.features.items()},
                "z_scores": {k: finite(v) for k, v in self.z_scores.items()},
                "unreferenced": list(self.unreferenced), "formula": self.formula}

    @classmethod
    def from_json(cls, data: dict) -> RealismAudit:
        def number(value) -> float:
            return float("nan") if value is None else float(value)

        return cls(number(data.get("score")), {k: number(v) for k, v in (data.get("features") or {}).items()},
                   {k: number(v) for k, v in (data.get("z_scores") or {}).items()}, data.get("worst_feature", ""),
                   list(data.get("unreferenced") or []), data.get("formula", FORMULA))


def score_features(features: dict[str, float], reference: dict[str, dict]) -> RealismAudit:
    """z-scores and the realism score of measured ``features`` against ``reference``."""
    z_scores = {name: (value - reference[name]["mean"]) / reference[name]["sd"]
                for name, value in features.items() if name in reference and reference[name]["sd"] > 0}
    unreferenced = sorted(set(features) - set(z_scores))
    if not z_scores:
        return RealismAudit(float("nan"), features, {}, "", unreferenced)
    score = float(np.mean([math.exp(-z * z / 8.0) for z in z_scores.values()]))
    worst = max(z_scores, key=lambda name: abs(z_scores[name]))
    return RealismAudit(score, features, z_scores, worst, unreferenced)


def _crop(mask: np.ndarray, spacing_zyx) -> tuple[slice, ...]:
    where = np.argwhere(mask)
    margin = np.ceil(CONTEXT_MM / np.asarray(spacing_zyx, float)).astype(int)
    low = np.maximum(where.min(axis=0) - margin, 0)
    high = np.minimum(where.max(axis=0) + margin + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))


def realism_audit(channels: list[np.ndarray], modalities: list[str], labels: np.ndarray, schema: LabelSchema,
                  spacing_zyx, brain: np.ndarray | None = None,
                  reference: dict[str, dict] | None = None) -> RealismAudit | None:
    """The realism audit of the tumour ``labels`` in ``channels``; None when the schema is not a BraTS one
    or the lesion is empty (there is no real reference for scars in the shipped statistics)."""
    if not schema.name.startswith("brats"):
        return None
    lesion = np.isin(labels, schema.lesion_labels)
    if not lesion.any():
        return None
    box = _crop(lesion, spacing_zyx)
    features = lesion_features([np.asarray(c)[box] for c in channels], list(modalities), np.asarray(labels)[box],
                               schema, spacing_zyx, None if brain is None else np.asarray(brain, bool)[box])
    return score_features(features, reference if reference is not None else tumour_reference())


def realism_of(channels: list[Image], modalities: list[str], labels: np.ndarray, schema: LabelSchema) -> dict | None:
    """The realism audit of a synthetic variant as the run records keep it (JSON), or None (scars)."""
    audit = realism_audit([c.array for c in channels], modalities, labels, schema, channels[0].spacing_zyx)
    return None if audit is None else audit.to_json()
