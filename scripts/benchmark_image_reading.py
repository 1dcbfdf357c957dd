"""What the raw header and voxel checks cost: ``load_image`` against a bare ``sitk.ReadImage`` (best of 3).

    .venv/bin/python scripts/benchmark_image_reading.py [FILE ...]

Without files it times a 240x240x155 float32 .nii.gz of random values (the worst case: every voxel is
scanned raw and random floats do not compress) written to a temporary folder, plus the real images under
../shared/data that the documentation quotes, when present.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "Logic"))

from synthtrust.imaging.io import load_image  # noqa: E402

SHARED = REPOSITORY.parent / "shared" / "data"
QUOTED = (SHARED / "brainles_tcga/TCGA-DU-7294/sri24_skullstripped/TCGA-DU-7294_t1.nii.gz",
          SHARED / "emidec_Case_P100/Case_P100_image.nii.gz", SHARED / "pyradiomics/brain1_image.nrrd")


def best_of_three(read) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        files = list(args.files)
        if not files:
            worst = Path(folder) / "random_float32_240x240x155.nii.gz"
            voxels = (np.random.default_rng(0).random((155, 240, 240)) * 1000).astype(np.float32)
            sitk.WriteImage(sitk.GetImageFromArray(voxels), str(worst), True)
            files = [worst] + [path for path in QUOTED if path.exists()]
        print(f"{'file':<40}{'load_image s':>14}{'ReadImage s':>13}")
        for path in files:
            checked = best_of_three(lambda path=path: load_image(path))
            bare = best_of_three(lambda path=path: sitk.GetArrayFromImage(sitk.ReadImage(str(path))))
            print(f"{path.name:<40}{checked:>14.2f}{bare:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
