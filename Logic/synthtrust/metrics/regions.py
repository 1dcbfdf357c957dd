"""Per-region evaluation of a predicted label map against a reference.

All metrics are computed on the crop around the two label maps' foreground (the rest is background in
every region, so overlaps and volumes are unchanged and distance work shrinks to the lesion's size).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from synthtrust.labels.schema import LabelSchema
from synthtrust.metrics.catalogue import METRICS_BY_NAME
from synthtrust.metrics.conventions import DEFAULT_HD95, Hd95Convention, get_hd95_convention
from synthtrust.metrics.lesionwise import (
    Components,
    LesionRules,
    LesionwiseMetrics,
    find_components,
    lesionwise_scores,
)
from synthtrust.metrics.policy import BRATS_POLICY, EmptyMaskPolicy
from synthtrust.metrics.surface import mean_surface_distance, normalized_surface_dice, surface_distances


@dataclass
class RegionMetrics:
    dice: float
    hd95: float
    mean_surface_distance: float
    surface_dice: float
    reference_volume_ml: float
    predicted_volume_ml: float
    volume_difference_ml: float
    relative_volume_difference: float
    detected_tp: int
    detected_fp: int
    detected_fn: int
    lesion_precision: float
    lesion_recall: float
    lesion_f1: float
    empty: str  # "", "both", "reference" or "prediction": which masks were empty

    def to_dict(self) -> dict:
        return {key: (float(value) if isinstance(value, float) else value) for key, value in asdict(self).items()}


@dataclass
class Evaluation:
    schema: str
    tolerance_mm: float
    policy: EmptyMaskPolicy
    regions: dict[str, RegionMetrics] = field(default_factory=dict)
    hd95_convention: Hd95Convention = field(default_factory=lambda: get_hd95_convention(DEFAULT_HD95))
    lesion_rules: LesionRules | None = None  # None: lesion-wise scores were not asked for
    lesionwise: dict[str, LesionwiseMetrics] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {
            "schema": self.schema,
            "surface_dice_tolerance_mm": self.tolerance_mm,
            "empty_policy": self.policy.to_dict(),
            "hd95_convention": self.hd95_convention.to_dict(),
            # JSON has no NaN: written files hold null, and say here which rule made a value undefined.
            "undefined_values": "null (NaN in memory) marks a value that is undefined for that region: "
                                "relative_volume_difference when the reference mask is empty, and whatever the "
                                f"empty_policy '{self.policy.name}' leaves undefined",
            "lesion_connectivity": "26-connected components",
            "units": {name: info.unit for name, info in METRICS_BY_NAME.items()},
            "regions": {name: metrics.to_dict() for name, metrics in self.regions.items()},
        }
        if self.lesion_rules is not None:
            data["lesion_rules"] = self.lesion_rules.to_dict()
            data["lesionwise"] = {name: metrics.to_dict() for name, metrics in self.lesionwise.items()}
        return data


def _lesion_detection(components: Components, reference: np.ndarray,
                      prediction: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fn, fp, predicted components overlapping a reference lesion): overlap counting, not matching."""
    both = prediction & reference
    tp = int(np.count_nonzero(np.unique(components.reference[both])))
    matched = int(np.count_nonzero(np.unique(components.prediction[both])))
    return tp, components.n_reference - tp, components.n_prediction - matched, matched


def evaluate_masks(reference: np.ndarray, prediction: np.ndarray, spacing_zyx, tolerance_mm: float = 1.0,
                   policy: EmptyMaskPolicy = BRATS_POLICY, hd95: str | Hd95Convention = DEFAULT_HD95) -> RegionMetrics:
    """All metrics for one binary reference/prediction pair (numpy-order spacing in mm); ``hd95`` names the
    HD95 convention (:mod:`synthtrust.metrics.conventions`)."""
    return _region_scores(reference, prediction, spacing_zyx, tolerance_mm, policy, get_hd95_convention(hd95))[0]


def _region_scores(reference: np.ndarray, prediction: np.ndarray, spacing_zyx, tolerance_mm: float,
                   policy: EmptyMaskPolicy, convention: Hd95Convention,
                   lesion_rules: LesionRules | None = None) -> tuple[RegionMetrics, LesionwiseMetrics | None]:
    """The region's metrics and, under ``lesion_rules``, its lesion-wise scores: the lesions and the surface
    distances are found once for both."""
    reference = np.asarray(reference, bool)
    prediction = np.asarray(prediction, bool)
    if reference.shape != prediction.shape:
        raise ValueError(f"reference shape {reference.shape} differs from prediction shape {prediction.shape}")
    voxel_ml = float(np.prod(spacing_zyx)) / 1000.0
    n_reference, n_prediction = int(np.count_nonzero(reference)), int(np.count_nonzero(prediction))
    volumes = dict(reference_volume_ml=n_reference * voxel_ml, predicted_volume_ml=n_prediction * voxel_ml,
                   volume_difference_ml=(n_prediction - n_reference) * voxel_ml,
                   relative_volume_difference=((n_prediction - n_reference) / n_reference) if n_reference
                   else float("nan"))
    components = find_components(reference, prediction)
    distances = surface_distances(reference, prediction, spacing_zyx) if n_reference and n_prediction else None
    lesionwise = None if lesion_rules is None else lesionwise_scores(
        reference, prediction, spacing_zyx, tolerance_mm, lesion_rules, policy, convention, components, distances)
    if distances is None:
        both = n_reference == 0 and n_prediction == 0
        detection = policy.detection_both_empty if both else policy.detection_one_empty
        return RegionMetrics(
            dice=policy.dice_both_empty if both else policy.dice_one_empty,
            hd95=policy.distance_both_empty if both else policy.distance_one_empty,
            mean_surface_distance=policy.distance_both_empty if both else policy.distance_one_empty,
            surface_dice=policy.surface_dice_both_empty if both else policy.surface_dice_one_empty,
            detected_tp=0, detected_fp=components.n_prediction, detected_fn=components.n_reference,
            lesion_precision=detection, lesion_recall=detection, lesion_f1=detection,
            empty="both" if both else ("reference" if n_reference == 0 else "prediction"), **volumes), lesionwise
    overlap = int(np.count_nonzero(reference & prediction))
    tp, fn, fp, matched = _lesion_detection(components, reference, prediction)
    precision = matched / (matched + fp)
    recall = tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    disjoint = overlap == 0 and convention.worst_when_disjoint
    return RegionMetrics(
        dice=2.0 * overlap / (n_reference + n_prediction),
        hd95=policy.distance_one_empty if disjoint else convention.hd95(distances),
        mean_surface_distance=mean_surface_distance(distances),
        surface_dice=normalized_surface_dice(distances, tolerance_mm),
        detected_tp=tp, detected_fp=fp, detected_fn=fn, lesion_precision=precision, lesion_recall=recall,
        lesion_f1=f1, empty="", **volumes), lesionwise


def _foreground_box(reference: np.ndarray, prediction: np.ndarray) -> tuple[slice, ...] | None:
    """The bounding box of both maps' foreground; each axis is searched within the box found so far, so
    only the first scan reads the whole volume."""
    box = [slice(0, n) for n in reference.shape]
    for axis in range(reference.ndim):
        other_axes = tuple(a for a in range(reference.ndim) if a != axis)
        window = tuple(box)
        present = np.flatnonzero(reference[window].any(axis=other_axes) | prediction[window].any(axis=other_axes))
        if present.size == 0:
            return None
        start = box[axis].start
        box[axis] = slice(start + int(present[0]), start + int(present[-1]) + 1)
    return tuple(box)


def evaluate_labels(reference: np.ndarray, prediction: np.ndarray, schema: LabelSchema, spacing_zyx,
                    tolerance_mm: float = 1.0, policy: EmptyMaskPolicy = BRATS_POLICY,
                    hd95: str | Hd95Convention = DEFAULT_HD95, lesion_rules: LesionRules | None = None) -> Evaluation:
    """Metrics for every region of ``schema`` (e.g. BraTS NCR, ED, ET, TC, WT), with lesion-wise scores
    under ``lesion_rules`` when given (:mod:`synthtrust.metrics.lesionwise`)."""
    if reference.shape != prediction.shape:
        raise ValueError(f"reference shape {reference.shape} differs from prediction shape {prediction.shape}")
    convention = get_hd95_convention(hd95)
    evaluation = Evaluation(schema.name, float(tolerance_mm), policy, hd95_convention=convention,
                            lesion_rules=lesion_rules)
    box = _foreground_box(reference, prediction)
    if box is not None:
        reference, prediction = reference[box], prediction[box]
    for region in schema.regions:
        reference_mask = schema.region_mask(reference, region)
        prediction_mask = schema.region_mask(prediction, region)
        metrics, lesionwise = _region_scores(reference_mask, prediction_mask, spacing_zyx, tolerance_mm, policy,
                                             convention, lesion_rules)
        evaluation.regions[region.name] = metrics
        if lesionwise is not None:
            evaluation.lesionwise[region.name] = lesionwise
    return evaluation
