"""A run's typed records (:mod:`.records`) and the one definition of the tables made from them (:mod:`.table`)."""

from __future__ import annotations

from synthtrust.results.records import (
    RESULTS_FILE,
    Audits,
    EvaluationRecord,
    Prediction,
    RunRecord,
    SegmentDice,
    SegmenterInfo,
    SweepRecord,
    SweepRow,
    TrustRecord,
    Variant,
)

__all__ = ["RESULTS_FILE", "Audits", "EvaluationRecord", "Prediction", "RunRecord", "SegmentDice", "SegmenterInfo",
           "SweepRecord", "SweepRow", "TrustRecord", "Variant"]
