"""Healthy-tissue fills on real IXI T1 brains, scored by the BraTS 2023 local-synthesis protocol.

Tumour-shaped masks (a core of 15-30 mm plus 8 mm of edema, as `place_tumor` draws them, clipped to the
brain) are placed in healthy brains of ``../shared/data/ixi_t1_2mm``, voided, filled by each method and
scored inside the mask (`synthtrust.metrics.local_synthesis`). The brains are split by a fixed rule
(sorted names, every fourth one is a test brain): ``--split test`` scores brains that no tuning or
training of this project ever used, ``--split train`` the ones tuning may use.

    .venv/bin/python scripts/evaluate_healthy_fill.py --split test --brains 40 --masks 2 --out fills.json

``--tcga`` instead scores the masks of `scripts/evaluate_generators.py --only healthy --healthy-masks 4` (the
same seeds) in TCGA-FG-6692 and TCGA-DU-7294, FLAIR and T1c, so the figures compare with that table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from synthtrust.editing.brain_mask import derive_brain_mask
from synthtrust.editing.tumor import place_tumor
from synthtrust.errors import InputError
from synthtrust.imaging.io import load_image
from synthtrust.metrics.local_synthesis import local_synthesis_scores
from synthtrust.synthesis.fill_network import load_refiner, refine
from synthtrust.synthesis.healthy_fill import fill_region
from synthtrust.training.datasets import data_root


def ixi_split(root: Path, split: str) -> list[Path]:
    """Every fourth IXI brain (sorted by name) is a test brain; the rest may be used for tuning/training."""
    files = sorted((root / "ixi_t1_2mm").glob("IXI*_T1.nii.gz"))
    return [f for i, f in enumerate(files) if (i % 4 == 3) == (split == "test")]


def tumour_masks(image, count: int, seed: int) -> list[tuple[np.ndarray, dict]]:
    brain = derive_brain_mask(image)
    from scipy import ndimage

    depth = ndimage.distance_transform_edt(brain.array > 0, sampling=image.spacing_zyx)
    pool = np.argwhere(depth > 12.0)
    rng, masks = np.random.default_rng(seed), []
    while len(masks) < count:
        z, y, x = pool[rng.integers(len(pool))]
        size = float(rng.uniform(15.0, 30.0))
        try:
            edit = place_tumor(image, image.geometry.index_to_physical((x, y, z)), size,
                               seed=int(rng.integers(1000)), brain_mask=brain)
        except InputError:
            continue
        masks.append((edit.labels.array > 0, {"size_mm": round(size, 1), "center_zyx": [int(z), int(y), int(x)]}))
    return masks


def tcga_rows(masks: int) -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import evaluate_generators as generators

    rows = []
    for index, case in enumerate(generators.TCGA_CASES):
        flair, t1c, real = generators.brain_case(data_root(None), case)
        for k, (edit, parameters) in enumerate(generators.tumour_edits(flair, real, masks, seed=100 + index)):
            mask = edit.labels.array > 0
            voided = [c.with_array(np.where(mask, 0, c.array).astype(c.array.dtype)) for c in (flair, t1c)]
            region = flair.with_array(mask.astype(np.uint8))
            row = {"case": case, "mask": k, **parameters, "mask_ml": round(float(mask.sum()) / 1000.0, 1),
                   "scores": {}}
            for method in ("mean", "smooth", "mirror"):
                result = fill_region(voided, region, method)
                for name, original, empty, filled in zip(("flair", "t1c"), (flair, t1c), voided, result.channels,
                                                         strict=True):
                    scores = local_synthesis_scores(filled.array, original.array, empty.array, mask)
                    row["scores"][f"{method} {name}"] = {key: round(scores[key], 4) for key in ("ssim", "psnr_db",
                                                                                              "mse")}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--brains", type=int, default=40, help="how many brains of the split (default 40)")
    parser.add_argument("--masks", type=int, default=2, help="masks per brain (default 2)")
    parser.add_argument("--mirror-weights", default="1.0", help="comma-separated mirror weights to score")
    parser.add_argument("--refiner", type=Path, help="also score the mirror fill refined by these weights "
                        "(scripts/train_healthy_fill.py)")
    parser.add_argument("--tcga", action="store_true", help="score the TCGA masks of evaluate_generators instead")
    parser.add_argument("--out", type=Path, help="write every row and the means as JSON here")
    args = parser.parse_args()
    if args.tcga:
        rows = tcga_rows(args.masks)
        means = {name: {key: round(float(np.mean([r["scores"][name][key] for r in rows])), 4)
                        for key in ("ssim", "psnr_db", "mse")} for name in rows[0]["scores"]}
        print(json.dumps({"masks": len(rows), "means": means}, indent=1))
        return
    weights = [float(w) for w in args.mirror_weights.split(",")]
    methods = ["mean", "smooth"] + [f"mirror {w:g}" for w in weights]
    refiner = load_refiner(args.refiner) if args.refiner else None
    if refiner is not None:
        methods.append("mirror 1 + refiner")
    rows = []
    for index, path in enumerate(ixi_split(data_root(None), args.split)[:args.brains]):
        image = load_image(path, "T1")
        for k, (mask, parameters) in enumerate(tumour_masks(image, args.masks, seed=1000 + index)):
            voided = image.with_array(np.where(mask, 0, image.array).astype(image.array.dtype))
            region = image.with_array(mask.astype(np.uint8))
            row = {"brain": path.name.split("_")[0], "mask": k, **parameters,
                   "mask_ml": round(float(mask.sum()) * image.geometry.voxel_volume_ml, 1), "scores": {},
                   "seconds": {}}
            fills = {}
            for name in methods:
                method, _, weight = name.partition(" ")
                started = time.perf_counter()
                if name.endswith("refiner"):
                    filled = refine(refiner, voided.array, mask, fills["mirror 1"], fills["smooth"])
                else:
                    result = fill_region([voided], region, method, mirror_weight=float(weight or 1.0))
                    filled = result.channels[0].array
                    if method == "mirror":
                        row["mirror_correlation"] = result.provenance["mirror_correlation"]
                row["seconds"][name] = round(time.perf_counter() - started, 3)
                fills[name] = filled
                scores = local_synthesis_scores(filled, image.array, voided.array, mask)
                row["scores"][name] = {key: round(scores[key], 4) for key in ("ssim", "psnr_db", "mse")}
            rows.append(row)
            print(json.dumps(row), flush=True)
    means = {name: {key: round(float(np.mean([r["scores"][name][key] for r in rows])), 4)
                    for key in ("ssim", "psnr_db", "mse")} for name in methods}
    for name in methods:
        means[name]["median_seconds"] = float(np.median([r["seconds"][name] for r in rows]))
    print(json.dumps({"split": args.split, "brains": len({r["brain"] for r in rows}), "masks": len(rows),
                      "means": means}, indent=1))
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "means": means}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
