"""CPU cost of the model-free healthy fills for a 64^3-voxel region: a ball 64 voxels across, in a 1 mm
brain (TCGA-FG-6692 T1, SRI24 240 x 240 x 155) and in a 2 mm IXI test brain. Best of ``--repeats``,
process CPU time (all threads) and wall time; the mirror fill's registration is reported on its own.

    .venv/bin/python scripts/benchmark_healthy_fill.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import SimpleITK as sitk

from synthtrust.imaging.io import load_image
from synthtrust.synthesis.healthy_fill import fill_region
from synthtrust.training.datasets import data_root


def ball_region(image, centre_zyx, diameter: int = 64) -> np.ndarray:
    z, y, x = np.indices(image.array.shape)
    r = diameter / 2
    return (z - centre_zyx[0]) ** 2 + (y - centre_zyx[1]) ** 2 + (x - centre_zyx[2]) ** 2 < r**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="ITK threads (default 1)")
    args = parser.parse_args()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(args.threads)
    root = data_root(None)
    cases = {
        "TCGA-FG-6692 T1, 1 mm, 240x240x155": (root / "brainles_tcga" / "TCGA-FG-6692" / "sri24_skullstripped"
                                               / "TCGA-FG-6692_t1.nii.gz", None),
        "IXI015-HH-1258 T1, 2 mm, 120x120x90": (root / "ixi_t1_2mm" / "IXI015-HH-1258_T1.nii.gz", None),
    }
    results = {}
    for name, (path, _) in cases.items():
        image = load_image(path, "T1")
        centre = [n // 2 for n in image.array.shape]
        region = ball_region(image, centre)
        voided = image.with_array(np.where(region, 0, image.array).astype(image.array.dtype))
        mask = image.with_array(region.astype(np.uint8))
        for method in ("mirror", "smooth", "mean"):
            best = None
            for _ in range(args.repeats):
                wall, cpu = time.perf_counter(), time.process_time()
                result = fill_region([voided], mask, method)
                timing = {"cpu_s": round(time.process_time() - cpu, 2), "wall_s": round(time.perf_counter() - wall, 2)}
                if method == "mirror":
                    timing["registration_wall_s"] = result.provenance["registration_seconds"]
                best = timing if best is None or timing["cpu_s"] < best["cpu_s"] else best
            results[f"{name}: {method}"] = {**best, "region_voxels": int(region.sum())}
            print(f"{name}: {method} {best}", flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
