"""Lesion-wise scores as the BraTS challenges rank them (2023 onwards): lesions, not voxels, are the unit.

Two rule sets, learned from the official code (never copied; see docs/metrics-and-trust.md):

- ``brats`` (the official ``brats-evaluation`` package, BraTS 2024/2025, built on panoptica): lesions are
  26-connected components; reference and predicted lesions are matched one to one by the assignment that
  maximises the summed Dice over pairs with Dice >= 1e-6 (Hungarian algorithm); lesion-wise Dice, HD95 and
  NSD are means over the matched pairs; missed and false lesions count in precision, recall, F1 (panoptica's
  "recognition quality") and in the panoptic quality PQ = mean matched Dice x F1.
- ``brats2023`` (the BraTS 2023 lesion-wise script): reference lesions closer than the dilation (3 voxels,
  18-connected steps) are one lesion; every predicted component touching a dilated reference lesion belongs
  to it; reference lesions of at most 50 mm^3 are left out; missed and false lesions score Dice 0, NSD 0 and
  HD95 374 mm in the means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from synthtrust.metrics.conventions import Hd95Convention
from synthtrust.metrics.policy import EmptyMaskPolicy
from synthtrust.metrics.surface import SurfaceDistances, mean_directed_surface_dice, surface_distances

# 26-connectivity, as cc3d's default that the official package uses.
LESION_CONNECTIVITY = np.ones((3, 3, 3), bool)
# panoptica's matching threshold for the brats rules: any overlap at all.
MATCHING_DICE_THRESHOLD = 1e-6
NAN = float("nan")


@dataclass(frozen=True)
class LesionRules:
    name: str
    description: str
    dilation_voxels: int  # reference lesions are dilated this far (18-connected steps) to merge and to match
    min_lesion_mm3: float  # reference lesions of at most this volume are left out (0: none)
    penalise_unmatched: bool  # missed and false lesions enter the means with the scores below
    unmatched_distance_mm: float  # the HD95 a missed or false lesion scores when penalised

    def to_dict(self) -> dict:
        return asdict(self)


BRATS_LESION_RULES = LesionRules(
    "brats", "official BraTS evaluation (brats-evaluation 0.0.10 / panoptica 2.1.7): 26-connected lesions, one-to-one "
    "matching maximising Dice (any overlap), lesion-wise means over matched lesions, PQ = mean Dice x F1",
    dilation_voxels=0, min_lesion_mm3=0.0, penalise_unmatched=False, unmatched_distance_mm=NAN)
BRATS2023_LESION_RULES = LesionRules(
    "brats2023", "BraTS 2023 lesion-wise rules (glioma): reference lesions dilated by 3 voxels to merge and to match, "
    "lesions <= 50 mm^3 left out, missed and false lesions score Dice 0, NSD 0, HD95 374 mm",
    dilation_voxels=3, min_lesion_mm3=50.0, penalise_unmatched=True, unmatched_distance_mm=374.0)
LESION_RULES = {rules.name: rules for rules in (BRATS_LESION_RULES, BRATS2023_LESION_RULES)}


def get_lesion_rules(name: str | LesionRules) -> LesionRules:
    if isinstance(name, LesionRules):
        return name
    try:
        return LESION_RULES[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown lesion-wise rules {name!r}; use one of: {', '.join(LESION_RULES)}") from None


@dataclass
class LesionScore:
    """One reference lesion: its volume and, when a prediction matched it, the pair's scores."""

    reference_lesion: int
    volume_mm3: float
    matched: bool
    counted: bool  # False when the rules leave the lesion out (too small)
    dice: float
    hd95: float
    nsd: float


@dataclass
class LesionwiseMetrics:
    reference_lesions: int
    predicted_lesions: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    lesion_dice: float
    lesion_dice_std: float
    lesion_hd95: float
    lesion_hd95_std: float
    lesion_nsd: float
    lesion_nsd_std: float
    panoptic_quality: float
    lesions: list[LesionScore] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["lesions"] = [asdict(lesion) for lesion in self.lesions]
        return data


@dataclass
class Components:
    """The lesions (connected components) of a reference and a prediction mask, labelled 1..n."""

    reference: np.ndarray
    n_reference: int
    prediction: np.ndarray
    n_prediction: int


def _components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    if not mask.any():
        return np.zeros(mask.shape, np.int32), 0
    labels, count = ndimage.label(mask, LESION_CONNECTIVITY)
    return labels, int(count)


def find_components(reference: np.ndarray, prediction: np.ndarray) -> Components:
    return Components(*_components(reference), *_components(prediction))


def _pair_scores(reference: np.ndarray, prediction: np.ndarray, spacing_zyx, tolerance_mm: float,
                 convention: Hd95Convention, distances: SurfaceDistances | None = None) -> tuple[float, float, float]:
    """Dice, HD95 and NSD of one reference lesion and its prediction, on the crop around the pair
    (``distances``: the pair's surface distances when already known)."""
    if distances is None:
        box = ndimage.find_objects((reference | prediction).astype(np.uint8))[0]
        reference, prediction = reference[box], prediction[box]
        distances = surface_distances(reference, prediction, spacing_zyx)
    overlap = int(np.count_nonzero(reference & prediction))
    dice = 2.0 * overlap / (int(np.count_nonzero(reference)) + int(np.count_nonzero(prediction)))
    return dice, convention.hd95(distances), mean_directed_surface_dice(distances, tolerance_mm)


def _mean_std(values: list[float]) -> tuple[float, float]:
    return (float(np.mean(values)), float(np.std(values))) if values else (NAN, NAN)


def _counts_only(n_reference: int, n_prediction: int, policy: EmptyMaskPolicy) -> LesionwiseMetrics:
    """No matched lesion: the empty-mask policy's values (panoptica: 0 / worst distance, NaN if both empty)."""
    both = n_reference == 0 and n_prediction == 0
    dice = policy.dice_both_empty if both else policy.dice_one_empty
    distance = policy.distance_both_empty if both else policy.distance_one_empty
    surface_dice = policy.surface_dice_both_empty if both else policy.surface_dice_one_empty
    detection = policy.detection_both_empty if both else policy.detection_one_empty
    return LesionwiseMetrics(
        n_reference, n_prediction, 0, n_prediction, n_reference,
        precision=detection if n_prediction == 0 else 0.0, recall=detection if n_reference == 0 else 0.0,
        f1=detection, lesion_dice=dice, lesion_dice_std=NAN, lesion_hd95=distance, lesion_hd95_std=NAN,
        lesion_nsd=surface_dice, lesion_nsd_std=NAN, panoptic_quality=detection if both else 0.0)


def _detection(tp: int, fp: int, fn: int, policy: EmptyMaskPolicy) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else policy.detection_one_empty
    recall = tp / (tp + fn) if tp + fn else policy.detection_one_empty
    f1 = tp / (tp + 0.5 * fp + 0.5 * fn) if tp else 0.0
    return precision, recall, f1


def _one_to_one(reference_labels: np.ndarray, n_reference: int, prediction_labels: np.ndarray,
                n_prediction: int) -> dict[int, int]:
    """reference lesion -> predicted lesion, maximising the summed Dice over overlapping pairs."""
    both = (reference_labels > 0) & (prediction_labels > 0)
    codes = reference_labels[both].astype(np.int64) * (n_prediction + 1) + prediction_labels[both]
    pairs, overlaps = np.unique(codes, return_counts=True)
    reference_sizes = np.bincount(reference_labels.ravel(), minlength=n_reference + 1)
    prediction_sizes = np.bincount(prediction_labels.ravel(), minlength=n_prediction + 1)
    # Unmatched cost just above 1, as panoptica sets it, so that ties resolve the same way.
    cost = np.full((n_reference, n_prediction), 1.0 + 1e-6)
    for code, overlap in zip(pairs.tolist(), overlaps.tolist(), strict=True):
        reference_lesion, predicted_lesion = divmod(code, n_prediction + 1)
        dice = 2.0 * overlap / (reference_sizes[reference_lesion] + prediction_sizes[predicted_lesion])
        if dice >= MATCHING_DICE_THRESHOLD:
            cost[reference_lesion - 1, predicted_lesion - 1] = 1.0 - dice
    rows, columns = linear_sum_assignment(cost)
    return {int(r) + 1: int(c) + 1 for r, c in zip(rows, columns, strict=True) if cost[r, c] < 1.0}


def _brats_rules(components: Components, spacing_zyx, tolerance_mm: float, policy: EmptyMaskPolicy,
                 convention: Hd95Convention, whole: SurfaceDistances | None) -> LesionwiseMetrics:
    reference_labels, n_reference = components.reference, components.n_reference
    prediction_labels, n_prediction = components.prediction, components.n_prediction
    if n_reference == 0 or n_prediction == 0:
        return _counts_only(n_reference, n_prediction, policy)
    voxel_mm3 = float(np.prod(spacing_zyx))
    matches = _one_to_one(reference_labels, n_reference, prediction_labels, n_prediction)
    reference_boxes = ndimage.find_objects(reference_labels)
    prediction_boxes = ndimage.find_objects(prediction_labels)
    lesions = []
    for lesion in range(1, n_reference + 1):
        volume = float(np.count_nonzero(reference_labels[reference_boxes[lesion - 1]] == lesion)) * voxel_mm3
        if lesion not in matches:
            lesions.append(LesionScore(lesion, volume, False, True, NAN, NAN, NAN))
            continue
        predicted = matches[lesion]
        box = _union_box(reference_boxes[lesion - 1], prediction_boxes[predicted - 1])
        # One lesion on each side: the pair is the whole region, whose distances are known.
        known = whole if n_reference == 1 and n_prediction == 1 else None
        dice, hd95, nsd = _pair_scores(reference_labels[box] == lesion, prediction_labels[box] == predicted,
                                       spacing_zyx, tolerance_mm, convention, known)
        lesions.append(LesionScore(lesion, volume, True, True, dice, hd95, nsd))
    tp = len(matches)
    matched = [lesion for lesion in lesions if lesion.matched]
    precision, recall, f1 = _detection(tp, n_prediction - tp, n_reference - tp, policy)
    (dice, dice_std), (hd95, hd95_std), (nsd, nsd_std) = (
        _mean_std([getattr(lesion, name) for lesion in matched]) for name in ("dice", "hd95", "nsd"))
    if tp == 0:  # lesions on both sides, none overlapping: panoptica's zero-TP values
        dice, hd95, nsd = policy.dice_one_empty, policy.distance_one_empty, policy.surface_dice_one_empty
    return LesionwiseMetrics(n_reference, n_prediction, tp, n_prediction - tp, n_reference - tp, precision, recall,
                             f1, dice, dice_std, hd95, hd95_std, nsd, nsd_std,
                             panoptic_quality=dice * f1 if tp else 0.0, lesions=lesions)


def _union_box(first: tuple[slice, ...], second: tuple[slice, ...]) -> tuple[slice, ...]:
    return tuple(slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(first, second, strict=True))


def _brats2023_rules(reference: np.ndarray, prediction: np.ndarray, spacing_zyx, tolerance_mm: float,
                     rules: LesionRules, convention: Hd95Convention) -> LesionwiseMetrics:
    # Pad by the dilation so that lesions near the crop's edge merge and match as on the whole image.
    pad = rules.dilation_voxels
    reference, prediction = np.pad(reference, pad), np.pad(prediction, pad)
    step = ndimage.generate_binary_structure(3, 2)

    def dilate(mask: np.ndarray) -> np.ndarray:
        return ndimage.binary_dilation(mask, step, iterations=pad) if pad else mask

    # Reference lesions whose dilations touch are one lesion.
    merged, _ = _components(dilate(reference))
    reference_labels = np.where(reference, merged, 0)
    reference_boxes = ndimage.find_objects(reference_labels)
    lesion_ids = [index + 1 for index, box in enumerate(reference_boxes) if box is not None]
    prediction_labels, n_prediction = _components(prediction)
    prediction_boxes = ndimage.find_objects(prediction_labels)
    voxel_mm3 = float(np.prod(spacing_zyx))
    lesions, touched, worst = [], set(), rules.unmatched_distance_mm
    for number, lesion in enumerate(lesion_ids, start=1):
        # Work in the lesion's box grown by the dilation (inside the padded array): the same result as on
        # the whole image, at the cost of the lesion's size.
        box = reference_boxes[lesion - 1]
        grown = tuple(slice(b.start - pad, b.stop + pad) for b in box)
        lesion_mask = reference_labels[grown] == lesion
        hits = sorted({int(v) for v in np.unique(prediction_labels[grown][dilate(lesion_mask)]) if v})
        touched.update(hits)
        volume = float(np.count_nonzero(lesion_mask)) * voxel_mm3
        counted = volume > rules.min_lesion_mm3
        if not hits:
            lesions.append(LesionScore(number, volume, False, counted, 0.0, worst, 0.0))
            continue
        pair = box
        for hit in hits:
            pair = _union_box(pair, prediction_boxes[hit - 1])
        dice, hd95, nsd = _pair_scores(reference_labels[pair] == lesion, np.isin(prediction_labels[pair], hits),
                                       spacing_zyx, tolerance_mm, convention)
        lesions.append(LesionScore(number, volume, True, counted, dice, hd95, nsd))
    counted = [lesion for lesion in lesions if lesion.counted]
    tp = sum(lesion.matched for lesion in counted)
    fn = len(counted) - tp
    fp = n_prediction - len(touched)
    denominator = len(counted) + fp
    if denominator:
        dice = sum(lesion.dice for lesion in counted) / denominator
        hd95 = (sum(lesion.hd95 for lesion in counted) + fp * worst) / denominator
        nsd = sum(lesion.nsd for lesion in counted) / denominator
    else:  # nothing to score on either side: the 2023 script's perfect values
        dice, hd95, nsd = 1.0, 0.0, 1.0
    scores = {name: [getattr(lesion, name) for lesion in counted] + [0.0 if name != "hd95" else worst] * fp
              for name in ("dice", "hd95", "nsd")}
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = tp / (tp + 0.5 * fp + 0.5 * fn) if tp else (1.0 if not fp + fn else 0.0)
    matched_dice = [lesion.dice for lesion in counted if lesion.matched]
    return LesionwiseMetrics(len(lesion_ids), n_prediction, tp, fp, fn, precision, recall, f1,
                             dice, _mean_std(scores["dice"])[1], hd95, _mean_std(scores["hd95"])[1],
                             nsd, _mean_std(scores["nsd"])[1],
                             panoptic_quality=float(np.mean(matched_dice)) * f1 if matched_dice else 0.0,
                             lesions=lesions)


def lesionwise_scores(reference: np.ndarray, prediction: np.ndarray, spacing_zyx, tolerance_mm: float,
                      rules: LesionRules, policy: EmptyMaskPolicy, convention: Hd95Convention,
                      components: Components | None = None,
                      distances: SurfaceDistances | None = None) -> LesionwiseMetrics:
    """Lesion-wise detection and segmentation scores of one region (binary masks, numpy-order spacing).
    ``components`` and ``distances`` (the whole masks' surface distances) save finding them again."""
    reference = np.asarray(reference, bool)
    prediction = np.asarray(prediction, bool)
    if reference.shape != prediction.shape:
        raise ValueError(f"reference shape {reference.shape} differs from prediction shape {prediction.shape}")
    if rules.dilation_voxels or rules.min_lesion_mm3 or rules.penalise_unmatched:
        return _brats2023_rules(reference, prediction, spacing_zyx, tolerance_mm, rules, convention)
    if components is None:
        components = find_components(reference, prediction)
    return _brats_rules(components, spacing_zyx, tolerance_mm, policy, convention, distances)
