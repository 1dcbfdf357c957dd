"""Speed and agreement of synthtrust.metrics against MONAI on a 240x240x155 BraTS-like case.

Usage: .venv/bin/python scripts/benchmark_metrics.py [--repeats 5]
Prints seconds per full metric set (three regions: WT, TC, ET) and the largest difference from MONAI.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from scipy import ndimage

from synthtrust.labels.schema import brats_schema

SHAPE = (155, 240, 240)
SPACING = (1.0, 1.0, 1.0)


def brats_like_pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Nested WT/TC/ET blobs (~60 mm tumour) and a perturbed prediction of them."""
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]

    def labels(center, scale, noise_seed):
        noise = ndimage.gaussian_filter(np.random.default_rng(noise_seed).standard_normal((40, 60, 60)), 4)
        noise = ndimage.zoom(noise, (SHAPE[0] / 40, SHAPE[1] / 60, SHAPE[2] / 60), order=1) * 60
        radius = np.sqrt((z - center[0]) ** 2 + (y - center[1]) ** 2 + (x - center[2]) ** 2) + noise
        out = np.zeros(SHAPE, np.uint8)
        out[radius < 30 * scale] = 2
        out[radius < 18 * scale] = 4
        out[radius < 11 * scale] = 1
        return out

    del rng
    return labels((78, 110, 130), 1.0, 1), labels((80, 112, 128), 0.95, 2)


def ours(reference, prediction, schema) -> tuple[float, dict]:
    from synthtrust.metrics import evaluate_labels

    started = time.perf_counter()
    evaluation = evaluate_labels(reference, prediction, schema, SPACING, tolerance_mm=1.0)
    seconds = time.perf_counter() - started
    return seconds, {name: evaluation.regions[name] for name in ("WT", "TC", "ET")}


def monai(reference, prediction, schema) -> tuple[float, dict]:
    from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric, SurfaceDistanceMetric

    regions = ("WT", "TC", "ET")
    started = time.perf_counter()
    y = torch.from_numpy(np.stack([schema.region_mask(reference, r) for r in regions])[None]).float()
    y_pred = torch.from_numpy(np.stack([schema.region_mask(prediction, r) for r in regions])[None]).float()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = {
            "dice": DiceMetric(include_background=True, ignore_empty=False)(y_pred, y)[0],
            "hd95": HausdorffDistanceMetric(include_background=True, percentile=95)(y_pred, y, spacing=SPACING)[0],
            "mean_surface_distance": SurfaceDistanceMetric(include_background=True, symmetric=True)(y_pred, y, spacing=SPACING)[0],
            "surface_dice": SurfaceDiceMetric(class_thresholds=[1.0] * 3, include_background=True)(
                y_pred, y, spacing=SPACING)[0],
        }
    seconds = time.perf_counter() - started
    return seconds, {r: {k: float(v[i]) for k, v in values.items()} for i, r in enumerate(regions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    schema = brats_schema(2021)
    reference, prediction = brats_like_pair()
    ours_times, monai_times = [], []
    for _ in range(args.repeats):
        seconds, our_values = ours(reference, prediction, schema)
        ours_times.append(seconds)
        seconds, monai_values = monai(reference, prediction, schema)
        monai_times.append(seconds)
    ours_median, monai_median = float(np.median(ours_times)), float(np.median(monai_times))
    print(f"case: {SHAPE[2]}x{SHAPE[1]}x{SHAPE[0]}, regions WT/TC/ET, {args.repeats} repeats, torch threads 2")
    print("ours computes Dice, HD95, MSD, NSD, volumes and lesion detection; MONAI computes Dice, HD95, MSD, NSD")
    print(f"{'':<10}{'median s':>10}")
    print(f"{'synthtrust':<10}{ours_median:>10.3f}")
    print(f"{'MONAI':<10}{monai_median:>10.3f}")
    print(f"speed-up: {monai_median / ours_median:.1f}x")
    worst = 0.0
    for region in ("WT", "TC", "ET"):
        for metric, value in monai_values[region].items():
            difference = abs(getattr(our_values[region], metric) - value)
            worst = max(worst, difference)
            print(f"  {region} {metric:<22} ours {getattr(our_values[region], metric):10.6f}  MONAI {value:10.6f}")
    print(f"largest absolute difference from MONAI: {worst:.2e}")


if __name__ == "__main__":
    main()
