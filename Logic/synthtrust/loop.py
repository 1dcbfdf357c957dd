"""The product's one loop, headless: synthesize N variants of an edit, segment each, evaluate each
against the intended lesion, audit each, and read trust over the variants.

The demo, the what-if sweeps and the Slicer panel all call :func:`run_loop`; it never modifies its
inputs (every variant is a new image). Metrics, audits and trust are the typed records of
:mod:`synthtrust.results` (``VariantResult.record`` gives a variant's record for a run).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from synthtrust.editing.edit import Edit
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import LabelSchema
from synthtrust.metrics import DEFAULT_HD95, evaluate_labels
from synthtrust.results.records import Audits, EvaluationRecord, Prediction, Variant
from synthtrust.trust.audits import (
    conditioning_fidelity,
    hallucination,
    off_target_change,
    without_existing_lesions,
)
from synthtrust.trust.factors import TrustReport, trust_over_variants
from synthtrust.trust.realism import realism_of


@dataclass
class VariantResult:
    """One synthetic variant: its images, the segmenter's prediction, metrics and audits."""

    seed: int
    channels: list[Image]
    prediction: Image
    probabilities: np.ndarray | None
    metrics: EvaluationRecord
    audits: Audits
    synthesis_provenance: dict
    segmentation_provenance: dict
    seconds: dict

    def record(self, index: int, segmenter: int = 0, channel_files=(), prediction_file: str = "") -> Variant:
        """The variant's record with this loop's prediction as segmenter ``segmenter``'s."""
        return Variant(index, self.seed, list(channel_files), self.synthesis_provenance,
                       [self.prediction_record(segmenter, prediction_file)])

    def prediction_record(self, segmenter: int = 0, file: str = "") -> Prediction:
        return Prediction(segmenter, file, self.metrics, self.audits, self.segmentation_provenance, dict(self.seconds))


@dataclass
class LoopResult:
    task: str
    schema: LabelSchema
    edit: Edit
    inputs: list[Image]
    modalities: list[str]
    variants: list[VariantResult] = field(default_factory=list)
    trust: TrustReport | None = None

    @property
    def trust_rows(self) -> list[dict]:
        return self.trust.rows() if self.trust is not None else []

    def variant_records(self, segmenter: int = 0) -> list[Variant]:
        return [v.record(k, segmenter) for k, v in enumerate(self.variants)]

    def summary(self) -> dict:
        """JSON-ready summary (no voxels) for metrics.json and the report."""
        return {
            "task": self.task,
            "schema": self.schema.name,
            "modalities": self.modalities,
            "edit": self.edit.provenance(),
            "variants": [
                {"seed": v.seed, "metrics": v.metrics.to_json(), "audits": v.audits.to_json(), "seconds": v.seconds,
                 "synthesis": v.synthesis_provenance, "segmentation": v.segmentation_provenance}
                for v in self.variants
            ],
            "trust": self.trust.to_dict() if self.trust is not None else {},
        }


def run_loop(task: str, channels: list[Image], modalities: list[str], edit: Edit, schema: LabelSchema,
             segmenter, synthesizer, n_variants: int = 3, seed: int = 0, fidelity_threshold: float = 0.6,
             hallucination_margin_mm: float = 2.0, tolerance_mm: float = 1.0, n_bootstrap: int = 1000,
             progress: Callable[[str], None] | None = None,
             existing_lesion: np.ndarray | None = None, hd95: str = DEFAULT_HD95) -> LoopResult:
    """Synthesize ``n_variants`` of ``edit`` (seeds ``seed``..), segment, evaluate, audit, trust.

    ``existing_lesion`` marks lesions already in the image (a real tumour or scar): what the segmenter
    finds there is left out of the edit's metrics and audits (see ``without_existing_lesions``). ``hd95``
    names the HD95 convention of the metrics (brats or monai, :mod:`synthtrust.metrics.conventions`).
    """
    result = LoopResult(task, schema, edit, channels, modalities)
    intended = schema.lesion_mask(edit.labels.array)
    original = np.stack([c.array for c in channels])
    for k in range(n_variants):
        variant_seed = seed + k
        if progress:
            progress(f"{task}: variant {k + 1}/{n_variants}: synthesizing")
        started = time.perf_counter()
        synthesis = synthesizer.synthesize(channels, edit.labels, schema, modalities, seed=variant_seed)
        synthesized_at = time.perf_counter()
        if progress:
            progress(f"{task}: variant {k + 1}/{n_variants}: segmenting")
        segmentation = segmenter.predict(synthesis.channels)
        segmented_at = time.perf_counter()
        found = without_existing_lesions(segmentation.labels.array, existing_lesion, intended,
                                         channels[0].spacing_zyx, hallucination_margin_mm)
        evaluation = evaluate_labels(edit.labels.array, found, schema, channels[0].spacing_zyx,
                                     tolerance_mm=tolerance_mm, hd95=hd95)
        predicted = schema.lesion_mask(found)
        synthetic = np.stack([c.array for c in synthesis.channels])
        audits = Audits(
            conditioning_fidelity(intended, predicted, threshold=fidelity_threshold),
            hallucination(intended, predicted, channels[0].spacing_zyx, margin_mm=hallucination_margin_mm),
            off_target_change(original, synthetic, synthesis.edit_region),
            realism_of(synthesis.channels, modalities, edit.labels.array, schema),
        )
        finished = time.perf_counter()
        result.variants.append(VariantResult(
            variant_seed, synthesis.channels, segmentation.labels, segmentation.probabilities,
            EvaluationRecord.from_evaluation(evaluation), audits, synthesis.provenance, segmentation.provenance,
            {"synthesis": round(synthesized_at - started, 3), "segmentation": round(segmented_at - synthesized_at, 3),
             "evaluation": round(finished - segmented_at, 3)},
        ))
    result.trust = trust_over_variants({f"variant seed {v.seed}": v.metrics.dice() for v in result.variants},
                                       n_bootstrap=n_bootstrap, seed=seed)
    return result
