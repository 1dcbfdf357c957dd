"""What each metric is: name, title, unit, description and direction, as Slicer's SegmentStatistics
plugins describe their measurements (for table headers, tooltips and the report)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    name: str
    title: str
    unit: str
    description: str
    higher_is_better: bool | None


METRIC_CATALOGUE = (
    MetricInfo("dice", "Dice", "", "2|R∩P| / (|R|+|P|): voxel overlap of reference R and prediction P", True),
    MetricInfo("hd95", "HD95", "mm", "95th percentile Hausdorff distance: max over both directions of the 95th "
               "percentile of surface-to-surface distances", False),
    MetricInfo("mean_surface_distance", "Mean surface distance", "mm",
               "mean distance from each surface voxel to the other surface, both directions together", False),
    MetricInfo("surface_dice", "Surface Dice", "", "normalised surface Dice: share of both surfaces within the "
               "tolerance of the other surface", True),
    MetricInfo("reference_volume_ml", "Reference volume", "mL", "volume of the reference region", None),
    MetricInfo("predicted_volume_ml", "Predicted volume", "mL", "volume of the predicted region", None),
    MetricInfo("volume_difference_ml", "Volume difference", "mL", "predicted minus reference volume", None),
    MetricInfo("relative_volume_difference", "Relative volume difference", "",
               "(predicted - reference) / reference volume; NaN when the reference is empty", None),
    MetricInfo("detected_tp", "Detected lesions", "count",
               "reference lesions (connected components) overlapped by the prediction", True),
    MetricInfo("detected_fn", "Missed lesions", "count", "reference lesions not overlapped by the prediction", False),
    MetricInfo("detected_fp", "False lesions", "count",
               "predicted components that overlap no reference lesion", False),
    MetricInfo("lesion_f1", "Lesion-wise F1", "", "harmonic mean of lesion-wise precision and recall", True),
)

METRICS_BY_NAME = {metric.name: metric for metric in METRIC_CATALOGUE}
