"""HD95 conventions: the two definitions in use, named, so every output can say which one made its numbers.

MONAI (and the DeepMind surface-distance package BraTS 2023 used) takes the larger of the two directed
95th percentiles; the official BraTS evaluation package (``brats-evaluation``, built on panoptica) takes
the 95th percentile of both directions' distances pooled, and scores masks that do not overlap at all as
the worst distance (it returns inf; its result parser writes 373 mm). On the same masks the two can differ
by a hundred millimetres (a small far-away false positive). See docs/metrics-and-trust.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthtrust.metrics.surface import SurfaceDistances, percentile_hausdorff, pooled_percentile_hausdorff


@dataclass(frozen=True)
class Hd95Convention:
    name: str
    description: str
    pooled: bool  # percentile of both directions together (BraTS) or max of the directed ones (MONAI)
    worst_when_disjoint: bool  # non-empty masks without a common voxel score the worst distance (BraTS)

    def hd95(self, distances: SurfaceDistances) -> float:
        return pooled_percentile_hausdorff(distances) if self.pooled else percentile_hausdorff(distances)

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description}


BRATS_HD95 = Hd95Convention(
    "brats",
    "official BraTS evaluation (brats-evaluation / panoptica): 95th percentile of the surface distances of "
    "both directions pooled; non-empty masks that share no voxel score the empty policy's worst distance",
    pooled=True, worst_when_disjoint=True)
MONAI_HD95 = Hd95Convention(
    "monai",
    "MONAI HausdorffDistanceMetric(percentile=95): the larger of the two directed 95th percentiles of the "
    "surface distances",
    pooled=False, worst_when_disjoint=False)

HD95_CONVENTIONS = {convention.name: convention for convention in (BRATS_HD95, MONAI_HD95)}
# BraTS users compare with the leaderboards, which the official package computes.
DEFAULT_HD95 = BRATS_HD95.name


def get_hd95_convention(name: str | Hd95Convention) -> Hd95Convention:
    """The convention called ``name`` (brats or monai); a convention passes through."""
    if isinstance(name, Hd95Convention):
        return name
    try:
        return HD95_CONVENTIONS[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown HD95 convention {name!r}; use one of: {', '.join(HD95_CONVENTIONS)}") from None
