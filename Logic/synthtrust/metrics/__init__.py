"""Per-region segmentation metrics with an explicit empty-mask policy (see docs/metrics-and-trust.md)."""

from __future__ import annotations

from synthtrust.metrics.catalogue import METRIC_CATALOGUE, METRICS_BY_NAME, MetricInfo
from synthtrust.metrics.policy import BRATS_POLICY, POLICIES, UNDEFINED_POLICY, EmptyMaskPolicy
from synthtrust.metrics.regions import Evaluation, RegionMetrics, evaluate_labels, evaluate_masks

__all__ = ["BRATS_POLICY", "METRICS_BY_NAME", "METRIC_CATALOGUE", "POLICIES", "UNDEFINED_POLICY",
           "EmptyMaskPolicy", "Evaluation", "MetricInfo", "RegionMetrics", "evaluate_labels", "evaluate_masks"]
