"""Speed and agreement of synthtrust.metrics against MONAI and the official BraTS package on a 240x240x155 case.

Usage: .venv/bin/python scripts/benchmark_metrics.py [--repeats 5]
Prints seconds per full metric set (three regions: WT, TC, ET) and the largest differences: from MONAI with
``hd95="monai"``, and from the official BraTS evaluation (brats-evaluation / panoptica, a test-only AGPL
dependency; skipped when absent) with ``hd95="brats"`` and lesion-wise scores. All in one process.
"""

from __future__ import annotations

import argparse
import dataclasses
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


REGIONS = ("WT", "TC", "ET")
# our region -> the official glioma configuration's group; its labels are the 2023 numbering (ET = 3)
OFFICIAL_GROUPS = {"WT": "wt", "TC": "tc", "ET": "et"}
LESION_FIELDS = {"tp": "tp", "fp": "fp", "fn": "fn", "f1": "rq", "lesion_dice": "sq_dsc", "lesion_hd95": "sq_hd95",
                 "lesion_nsd": "sq_nsd", "panoptic_quality": "pq_dsc"}


def ours(reference, prediction, schema, hd95: str = "monai", lesionwise: bool = False):
    from synthtrust.metrics import BRATS_LESION_RULES, evaluate_labels

    started = time.perf_counter()
    evaluation = evaluate_labels(reference, prediction, schema, SPACING, tolerance_mm=1.0, hd95=hd95,
                                 lesion_rules=BRATS_LESION_RULES if lesionwise else None)
    seconds = time.perf_counter() - started
    return seconds, evaluation


def official(reference, prediction):
    """The official BraTS evaluation, in process, on the three ranked regions; None when not installed."""
    try:
        from importlib.resources import files

        from panoptica import Panoptica_Evaluator
        from panoptica.utils.citation_reminder import disable_citation_reminder
    except ImportError:
        return None
    disable_citation_reminder()
    evaluator = Panoptica_Evaluator.load_from_config(str(files("brats_evaluation").joinpath("configs",
                                                                                              "config_gli.yaml")))
    to_2023 = np.array([0, 1, 2, 3, 3], np.uint8)  # 2021 numbering (ET = 4) -> 2023 (ET = 3)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = evaluator.evaluate(to_2023[prediction], to_2023[reference], voxelspacing=SPACING,
                                     skip_groups=["netc", "snfh", "rc"], verbose=False)
    seconds = time.perf_counter() - started
    return seconds, {region: results[group].to_dict() for region, group in OFFICIAL_GROUPS.items()}


def monai(reference, prediction, schema) -> tuple[float, dict]:
    from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric, SurfaceDistanceMetric

    regions = REGIONS
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
    # The three ranked regions, as MONAI and the official package get them.
    ranked = dataclasses.replace(schema, regions=tuple(r for r in schema.regions if r.name in REGIONS))
    reference, prediction = brats_like_pair()
    times: dict[str, list[float]] = {"ours monai": [], "MONAI": [], "ours brats": [], "official": []}
    for _ in range(args.repeats):
        seconds, our_monai = ours(reference, prediction, ranked, hd95="monai")
        times["ours monai"].append(seconds)
        seconds, monai_values = monai(reference, prediction, schema)
        times["MONAI"].append(seconds)
        seconds, our_brats = ours(reference, prediction, ranked, hd95="brats", lesionwise=True)
        times["ours brats"].append(seconds)
        measured = official(reference, prediction)
        if measured is not None:
            times["official"].append(measured[0])
            official_values = measured[1]
    median = {name: float(np.median(values)) for name, values in times.items() if values}
    print(f"case: {SHAPE[2]}x{SHAPE[1]}x{SHAPE[0]}, regions WT/TC/ET, {args.repeats} repeats, torch threads 2")
    print("for WT, TC, ET: ours computes Dice, HD95, MSD, NSD, volumes and lesion detection (with hd95 brats "
          "also the lesion-wise scores); MONAI Dice, HD95, MSD, NSD; the official package its glioma set "
          "(global Dice, NSD, HD95; lesion matching; lesion-wise Dice, NSD, HD95)")
    print(f"{'':<34}{'median s':>10}")
    print(f"{'synthtrust, hd95 monai':<34}{median['ours monai']:>10.3f}")
    print(f"{'MONAI 1.6.1':<34}{median['MONAI']:>10.3f}")
    print(f"{'synthtrust, hd95 brats + lesions':<34}{median['ours brats']:>10.3f}")
    if "official" in median:
        print(f"{'official BraTS (panoptica)':<34}{median['official']:>10.3f}")
    print(f"speed-up over MONAI: {median['MONAI'] / median['ours monai']:.1f}x")
    if "official" in median:
        print(f"speed-up over the official BraTS package: {median['official'] / median['ours brats']:.1f}x")
    worst = 0.0
    for region in REGIONS:
        for metric, value in monai_values[region].items():
            ours_value = getattr(our_monai.regions[region], metric)
            worst = max(worst, abs(ours_value - value))
            print(f"  {region} {metric:<22} ours {ours_value:10.6f}  MONAI {value:10.6f}")
    print(f"largest absolute difference from MONAI: {worst:.2e}")
    if "official" not in median:
        print("official BraTS package not installed (pip install --no-deps -r requirements-test.lock): skipped")
        return
    worst = 0.0
    for region in REGIONS:
        theirs = official_values[region]
        pairs = [("dice", our_brats.regions[region].dice, theirs["global_bin_dsc"]),
                 ("hd95", our_brats.regions[region].hd95, theirs["global_bin_hd95"])]
        pairs += [(name, getattr(our_brats.lesionwise[region], name), theirs[key]) for name, key in LESION_FIELDS.items()]
        for metric, ours_value, value in pairs:
            worst = max(worst, abs(float(ours_value) - float(value)))
            print(f"  {region} {metric:<22} ours {float(ours_value):10.6f}  official {float(value):10.6f}")
    print(f"largest absolute difference from the official BraTS package: {worst:.2e}")


if __name__ == "__main__":
    main()
