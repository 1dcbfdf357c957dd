"""What each measured value is: name, title, unit, description and direction, as Slicer's SegmentStatistics
plugins describe their measurements. Every table header, tooltip and report column is made from these
entries (:mod:`synthtrust.results.table`): no other code spells a column title."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    name: str
    title: str
    unit: str
    description: str
    higher_is_better: bool | None

    @property
    def header(self) -> str:
        """The column header: the title with its unit ("HD95 (mm)"); counts and ratios show none."""
        return f"{self.title} ({self.unit})" if self.unit and self.unit != "count" else self.title


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

# Lesion-wise scores (synthtrust.metrics.lesionwise), as BraTS ranks them: one-to-one matched lesions.
LESIONWISE_CATALOGUE = (
    MetricInfo("matched_lesion_f1", "Matched-lesion F1", "", "F1 of one-to-one matched lesions (panoptica's "
               "recognition quality): TP / (TP + (FP + FN) / 2)", True),
    MetricInfo("lesion_dice", "Lesion-wise Dice", "", "mean Dice of matched lesion pairs (brats rules); missed and "
               "false lesions count 0 under the brats2023 rules", True),
    MetricInfo("lesion_hd95", "Lesion-wise HD95", "mm", "mean HD95 of matched lesion pairs (brats rules); missed and "
               "false lesions count 374 mm under the brats2023 rules", False),
    MetricInfo("lesion_nsd", "Lesion-wise NSD", "", "mean normalised surface Dice of matched lesion pairs (mean of "
               "the two directed shares within the tolerance)", True),
    MetricInfo("panoptic_quality", "Panoptic quality", "", "PQ = mean matched-lesion Dice x matched-lesion F1", True),
)

# Per-edit audits and timings (synthtrust.trust.audits), as the results tables show them.
AUDIT_CATALOGUE = (
    MetricInfo("fidelity_passed", "Fidelity", "",
               "conditioning fidelity audit: Dice(intended lesion, predicted lesion) >= threshold", True),
    MetricInfo("fidelity_dice", "Fidelity Dice", "", "Dice between the intended lesion and the segmenter's lesion",
               True),
    MetricInfo("hallucinated_ml", "Hallucinated", "mL",
               "predicted lesion volume more than the margin (2 mm) away from the intended lesion", False),
    MetricInfo("off_target_voxels", "Off-target voxels", "count",
               "voxels outside the edit region whose value differs from the input (should be 0)", False),
    MetricInfo("lesion_ml", "Lesion volume", "mL", "volume of the placed (intended) lesion", None),
    MetricInfo("realism_score", "Realism", "", "realism audit of a brain tumour: mean over its features (contrast to "
               "white matter, heterogeneity, texture, border sharpness, core shape) of exp(-z^2/8), z against real "
               "gliomas; 1 = at the real mean, 0.61 = every feature 2 SD off", True),
    MetricInfo("realism_worst", "Least real feature", "", "the lesion feature farthest from real tumours, with its "
               "z-score", None),
    MetricInfo("synthesis_seconds", "Synthesis time", "s", "seconds to synthesize the variant", False),
    MetricInfo("segmentation_seconds", "Segmentation time", "s", "seconds to segment the variant", False),
    MetricInfo("evaluation_seconds", "Evaluation time", "s", "seconds to evaluate and audit the variant", False),
    MetricInfo("total_seconds", "Total time", "s", "seconds for the whole edit: place, synthesize, segment, "
               "evaluate", False),
)

# What identifies a row (which case, edit, segmenter, region): not measurements, but named here too
# (lower-case titles, as the tables have always shown them).
FIELD_CATALOGUE = (
    MetricInfo("case", "case", "", "synthetic variant (v1, v2, ...) or the real input image (scored against the "
               "reference)", None),
    MetricInfo("seed", "seed", "", "the variant's random seed", None),
    MetricInfo("segmenter", "segmenter", "", "the segmentation model (manifest id or file)", None),
    MetricInfo("region", "region", "", "the evaluated region of the label schema (e.g. BraTS WT, EMIDEC scar)",
               None),
    MetricInfo("variant", "variant", "", "the synthetic variant's number", None),
    MetricInfo("segment", "AHA segment", "", "AHA 17-segment model: 1-6 basal, 7-12 mid, 13-16 apical, 17 apex",
               None),
    MetricInfo("transmurality", "transmurality", "", "share of the wall thickness the scar spans", None),
    MetricInfo("extent", "extent", "", "share of each segment's circumference the scar covers", None),
    MetricInfo("position", "position", "", "index of the tumour centre in the sweep's list", None),
    MetricInfo("center_lps", "centre", "mm", "tumour centre, LPS", None),
    MetricInfo("size_mm", "size", "mm", "tumour diameter", None),
    MetricInfo("status", "status", "", "ok, or why the edit gave no result (not placed, not synthesized)", None),
)

ENTRIES_BY_NAME = {entry.name: entry for entry in (*METRIC_CATALOGUE, *LESIONWISE_CATALOGUE, *AUDIT_CATALOGUE,
                                                   *FIELD_CATALOGUE)}
