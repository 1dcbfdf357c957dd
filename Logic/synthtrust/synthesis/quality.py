"""The quality filter (LGESynthNet's "keep only what a segmenter recovers"): generate up to K candidates
of one edit, segment each, score it by the Dice between the segmented and the intended lesion, and
return the best with every candidate's score, whether it passed, and the pass rate.

It wraps any engine, so the instant template engine can be filtered the same way as the learned ones.
"""

from __future__ import annotations

import time

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.labels.schema import LabelSchema
from synthtrust.synthesis.base import SynthesisResult
from synthtrust.trust.audits import conditioning_fidelity

# Candidate k of a variant with seed s uses seed s + k * CANDIDATE_SEED_STRIDE: candidate 0 is exactly
# what the unfiltered engine makes with seed s, and candidates of neighbouring variants never collide.
CANDIDATE_SEED_STRIDE = 1_000_003


class QualityFilter:
    """A synthesizer that keeps the candidate a segmenter recovers best."""

    def __init__(self, synthesizer, segmenter, threshold: float = 0.6, candidates: int = 4,
                 stop_at_first_pass: bool = False):
        if not 0.0 <= threshold <= 1.0:
            raise InputError(f"quality threshold {threshold} must be between 0 and 1 (a Dice)")
        if candidates < 1:
            raise InputError(f"candidates {candidates} must be at least 1")
        self.synthesizer, self.segmenter = synthesizer, segmenter
        self.threshold, self.candidates, self.stop_at_first_pass = float(threshold), int(candidates), stop_at_first_pass
        self.name = synthesizer.name

    def prepare(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                anatomy: Image | None = None):
        return self.synthesizer.prepare(channels, lesion, schema, modalities, anatomy)

    def synthesize(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                   seed: int = 0, progress=None, should_cancel=None, **options) -> SynthesisResult:
        intended = schema.lesion_mask(lesion.array)
        best, scores = None, []
        for k in range(self.candidates):
            candidate_seed = seed + k * CANDIDATE_SEED_STRIDE
            started = time.perf_counter()

            def report(step: int, total: int, message: str, k=k) -> None:
                if progress is not None:
                    progress(step, total, f"candidate {k + 1}/{self.candidates}: {message}")

            result = self.synthesizer.synthesize(channels, lesion, schema, modalities, seed=candidate_seed,
                                                 progress=report, should_cancel=should_cancel, **options)
            prediction = self.segmenter.predict(result.channels, should_cancel=should_cancel,
                                                channel_names=list(modalities))
            # The same definition as the loop's fidelity audit, so a kept candidate passes that audit too.
            dice = conditioning_fidelity(intended, schema.lesion_mask(prediction.labels.array))["dice"]
            scores.append({"candidate": k, "seed": candidate_seed, "dice": round(dice, 4),
                           "passed": dice >= self.threshold, "seconds": round(time.perf_counter() - started, 3)})
            if best is None or dice > best[0]:
                best = (dice, k, result)
            if self.stop_at_first_pass and dice >= self.threshold:
                break
        dice, chosen, result = best
        passed = [s for s in scores if s["passed"]]
        result.provenance = {**result.provenance, "quality_filter": {
            "segmenter": getattr(self.segmenter, "model_id", "segmenter"),
            "segmenter_sha256": getattr(self.segmenter, "sha256", ""), "threshold": self.threshold,
            "candidates": scores, "pass_rate": round(len(passed) / len(scores), 4), "chosen": chosen,
            "chosen_dice": round(dice, 4), "passed": dice >= self.threshold,
        }}
        result.provenance["seed"] = scores[chosen]["seed"]
        return result


def pass_rate(results: list[SynthesisResult]) -> float:
    """Share of filtered results whose best candidate passed."""
    flags = [r.provenance.get("quality_filter", {}).get("passed", False) for r in results]
    return float(np.mean(flags)) if flags else 0.0
