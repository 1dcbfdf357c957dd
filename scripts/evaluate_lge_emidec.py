"""Score an LGE scar segmenter, and the clinical scar rules, on the 708 real EMIDEC LGE slices (never
trained on; CC BY-NC-SA 4.0, evaluation only) and on emidec_Case_P100.

    .venv/bin/python scripts/evaluate_lge_emidec.py --model Resources/Models/cardiac-scar-lge-unet.safetensors \
        --data-root ../shared/data --threads 1 --json runs/eval_shipped.json
    .venv/bin/python scripts/evaluate_lge_emidec.py --checkpoint runs/lge2d/checkpoint.pt ...

Each case's slices are stacked into one volume (the PNGs kept no spacing: --spacing, default 1.6 mm
in-plane, 10 mm slices, EMIDEC's typical values) and segmented through the product's Segmenter. Dice is
pooled over all slices (sum of overlaps over sum of sizes, the EMIDEC regions: myocardium = 2+3+4, scar =
3+4, MVO = 4); per case: scar Dice and scar volume error (ml, at the assumed spacing). Scar rules (n-SD,
n = 2-6, and FWHM) run inside the network's myocardium and inside the expert's.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Logic"))

from synthtrust.imaging.image import Image  # noqa: E402
from synthtrust.imaging.io import load_image  # noqa: E402
from synthtrust.provenance import write_json  # noqa: E402
from synthtrust.segmentation import scar_rules  # noqa: E402
from synthtrust.segmentation.loading import load_segmenter  # noqa: E402

REGIONS = {"blood pool": (1,), "myocardium": (2, 3, 4), "scar": (3, 4), "MVO": (4,)}
NAME = re.compile(r"(Case_[NP]\d+)_slice(\d+)\.png$")


def emidec_cases(root: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Case name -> (images, labels), slices stacked in order (z, y, x)."""
    slices = defaultdict(list)
    for split in ("train", "val"):
        for path in sorted((root / "emidec_lge_png" / split).glob("Case_*.png")):
            match = NAME.search(path.name)
            label_path = root / "emidec_lge_png" / f"{split}annot" / path.name
            slices[match.group(1)].append((int(match.group(2)), path, label_path))
    cases = {}
    for case, items in sorted(slices.items()):
        items.sort()
        images = np.stack([np.asarray(PILImage.open(p).convert("L"), np.float32) for _, p, _ in items])
        labels = np.stack([np.asarray(PILImage.open(q), np.uint8) for _, _, q in items])
        cases[case] = (images, labels)
    return cases


class Pooled:
    """Sums of overlaps and sizes per method and region, over every slice scored."""

    def __init__(self) -> None:
        self.sums = defaultdict(lambda: np.zeros(3))

    def add(self, method: str, region: str, truth: np.ndarray, prediction: np.ndarray) -> None:
        self.sums[(method, region)] += [np.logical_and(truth, prediction).sum(), truth.sum(), prediction.sum()]

    def dice(self) -> dict[str, dict[str, float]]:
        out = defaultdict(dict)
        for (method, region), (overlap, a, b) in self.sums.items():
            out[method][region] = float(2 * overlap / (a + b)) if a + b else float("nan")
        return dict(out)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = a.sum() + b.sum()
    return float(2 * np.logical_and(a, b).sum() / total) if total else 1.0


def score_case(segmenter, images, labels, spacing, pooled: Pooled, sd_levels) -> dict:
    volume = Image.from_array(images, spacing, name="lge")
    predicted = segmenter.predict([volume]).labels.array
    voxel_ml = float(np.prod(spacing)) / 1000.0
    for region, values in REGIONS.items():
        pooled.add("network", region, np.isin(labels, values), np.isin(predicted, values))
    truth_scar = np.isin(labels, (3, 4))
    record = {"slices": int(images.shape[0]), "scar_ml_truth": float(truth_scar.sum() * voxel_ml),
              "network": {"scar_dice": dice(truth_scar, np.isin(predicted, (3, 4))),
                          "scar_ml": float(np.isin(predicted, (3, 4)).sum() * voxel_ml)}}
    for source, myocardium in (("network myocardium", np.isin(predicted, (2, 3, 4))),
                               ("expert myocardium", np.isin(labels, (2, 3, 4)))):
        rules = {f"{n} SD": scar_rules.scar_by_sd(images, myocardium, n) for n in sd_levels}
        rules["FWHM"] = scar_rules.scar_by_fwhm(images, myocardium)
        for rule, scar in rules.items():
            method = f"{rule} in {source}"
            pooled.add(method, "scar", truth_scar, scar)
            record[method] = {"scar_dice": dice(truth_scar, scar), "scar_ml": float(scar.sum() * voxel_ml)}
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a segmenter checkpoint (.safetensors with its .json beside it)")
    source.add_argument("--checkpoint", help="a training checkpoint of scripts/train_lge_segmenter.py")
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--spacing", type=float, nargs=3, default=(1.6, 1.6, 10.0), metavar=("X", "Y", "Z"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--every", type=int, default=1, help="score every k-th case only (quick checks)")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(args.data_root)
    model = args.model
    if args.checkpoint:
        from synthtrust.training.lge_segmenter import export_slice_segmenter

        model = str(export_slice_segmenter(Path(args.checkpoint), Path(tempfile.mkdtemp()) / "in-training.safetensors",
                                           "cardiac-scar-lge-unet2d (in training)"))
    segmenter = load_segmenter(model, device="cpu", task="cardiac-scar")
    started = time.time()
    pooled, per_case = Pooled(), {}
    sd_levels = (2, 3, 4, 5, 6)
    cases = emidec_cases(root)
    names = list(cases)[:: args.every]
    for name in names:
        per_case[name] = score_case(segmenter, *cases[name], tuple(args.spacing), pooled, sd_levels)
    slices = sum(per_case[n]["slices"] for n in names)
    infarct = [n for n in names if per_case[n]["scar_ml_truth"] > 0]
    summary = {"model": model, "cases": len(names), "slices": slices, "infarct_cases": len(infarct),
               "assumed_spacing_mm": list(args.spacing), "pooled_dice": pooled.dice(),
               "mean_scar_dice_infarct_cases": {} if not infarct else {
                   method: float(np.mean([per_case[n][method]["scar_dice"] for n in infarct]))
                   for method in per_case[names[0]] if method not in ("slices", "scar_ml_truth")},
               "mean_abs_scar_volume_error_ml": {
                   method: float(np.mean([abs(per_case[n][method]["scar_ml"] - per_case[n]["scar_ml_truth"])
                                          for n in names]))
                   for method in per_case[names[0]] if method not in ("slices", "scar_ml_truth")},
               "seconds": round(time.time() - started, 1)}
    p100 = root / "emidec_Case_P100"
    images = sorted(p100.glob("*[Ii]mage*.nii*")) or sorted(p100.glob("Case_P100.nii*"))
    masks = sorted(p100.glob("*[Cc]ontour*.nii*")) or sorted(p100.glob("*label*.nii*"))
    if images and masks:
        image, mask = load_image(images[0]), load_image(masks[0])
        p100_pooled = Pooled()
        record = score_case(segmenter, image.array.astype(np.float32), mask.array.astype(np.uint8),
                            image.spacing, p100_pooled, sd_levels)
        summary["Case_P100"] = {"dice": p100_pooled.dice()["network"], **record}
    print(f"{len(names)} cases, {slices} slices ({len(infarct)} with infarct), {summary['seconds']} s")
    for method, regions in summary["pooled_dice"].items():
        print(f"  {method:32s} " + "  ".join(f"{r} {v:.3f}" for r, v in regions.items()))
    if "Case_P100" in summary:
        print("  Case_P100 network: " + "  ".join(f"{r} {v:.3f}" for r, v in summary["Case_P100"]["dice"].items()))
    if args.json:
        write_json(summary | {"per_case": per_case}, Path(args.json))


if __name__ == "__main__":
    main()
