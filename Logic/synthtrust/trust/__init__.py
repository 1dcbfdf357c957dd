"""Trust factors T1-T5 and per-edit audits (see docs/metrics-and-trust.md)."""

from __future__ import annotations

from synthtrust.trust.audits import conditioning_fidelity, hallucination, off_target_change
from synthtrust.trust.factors import (
    FORMULAS,
    SOURCE,
    DiceTable,
    TrustReport,
    TrustValue,
    compute_trust,
    trust_over_variants,
)

__all__ = ["FORMULAS", "SOURCE", "DiceTable", "TrustReport", "TrustValue", "compute_trust", "trust_over_variants",
           "conditioning_fidelity", "hallucination", "off_target_change"]
