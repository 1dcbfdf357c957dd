"""The empty-mask policy: what a metric is worth when one or both masks are empty.

It is explicit and written into every output, because libraries disagree silently (MONAI's default
Dice returns NaN for an empty reference, hiding false positives; its distances return inf/NaN).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The value the BraTS challenges assign to HD95 when exactly one mask is empty (mm).
BRATS_WORST_DISTANCE_MM = 373.13


@dataclass(frozen=True)
class EmptyMaskPolicy:
    name: str
    description: str
    dice_both_empty: float
    dice_one_empty: float
    distance_both_empty: float
    distance_one_empty: float
    surface_dice_both_empty: float
    surface_dice_one_empty: float
    detection_both_empty: float
    detection_one_empty: float

    def to_dict(self) -> dict:
        return asdict(self)


BRATS_POLICY = EmptyMaskPolicy(
    name="brats",
    description=(
        "BraTS convention: both masks empty -> Dice 1, HD95 0 mm, mean surface distance 0 mm, surface Dice 1, "
        "lesion-wise F1 1; exactly one empty -> Dice 0, HD95 and mean surface distance "
        f"{BRATS_WORST_DISTANCE_MM} mm, surface Dice 0, lesion-wise F1 0"
    ),
    dice_both_empty=1.0, dice_one_empty=0.0,
    distance_both_empty=0.0, distance_one_empty=BRATS_WORST_DISTANCE_MM,
    surface_dice_both_empty=1.0, surface_dice_one_empty=0.0,
    detection_both_empty=1.0, detection_one_empty=0.0,
)

NAN = float("nan")
UNDEFINED_POLICY = EmptyMaskPolicy(
    name="undefined",
    description="metrics that are undefined on an empty mask are reported as NaN (excluded from means)",
    dice_both_empty=NAN, dice_one_empty=0.0,
    distance_both_empty=NAN, distance_one_empty=NAN,
    surface_dice_both_empty=NAN, surface_dice_one_empty=0.0,
    detection_both_empty=NAN, detection_one_empty=0.0,
)

POLICIES = {policy.name: policy for policy in (BRATS_POLICY, UNDEFINED_POLICY)}
