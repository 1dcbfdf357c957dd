"""Per-region segmentation metrics with an explicit empty-mask policy and HD95 convention, and lesion-wise
scores as BraTS ranks them (see docs/metrics-and-trust.md)."""

from __future__ import annotations

from synthtrust.metrics.catalogue import METRIC_CATALOGUE, METRICS_BY_NAME, MetricInfo
from synthtrust.metrics.conventions import (
    BRATS_HD95,
    DEFAULT_HD95,
    HD95_CONVENTIONS,
    MONAI_HD95,
    Hd95Convention,
    get_hd95_convention,
)
from synthtrust.metrics.lesionwise import (
    BRATS2023_LESION_RULES,
    BRATS_LESION_RULES,
    LESION_RULES,
    LesionRules,
    LesionwiseMetrics,
    get_lesion_rules,
)
from synthtrust.metrics.policy import BRATS_POLICY, POLICIES, UNDEFINED_POLICY, EmptyMaskPolicy
from synthtrust.metrics.regions import Evaluation, RegionMetrics, evaluate_labels, evaluate_masks

__all__ = ["BRATS2023_LESION_RULES", "BRATS_HD95", "BRATS_LESION_RULES", "BRATS_POLICY", "DEFAULT_HD95",
           "HD95_CONVENTIONS", "LESION_RULES", "METRICS_BY_NAME", "METRIC_CATALOGUE", "MONAI_HD95", "POLICIES",
           "UNDEFINED_POLICY", "EmptyMaskPolicy", "Evaluation", "Hd95Convention", "LesionRules", "LesionwiseMetrics",
           "MetricInfo", "RegionMetrics", "evaluate_labels", "evaluate_masks", "get_hd95_convention",
           "get_lesion_rules"]
