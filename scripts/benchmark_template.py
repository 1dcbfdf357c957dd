"""Speed of the template engine on a 240x240x155 brain with a ~40 mm tumour.

Usage: .venv/bin/python scripts/benchmark_template.py [--repeats 7]
Uses the real TCGA-FG-6692 T1 from ../shared/data when present, else a seeded synthetic head.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from synthtrust.editing.tumor import place_tumor
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import brats_schema
from synthtrust.synthesis.template import TemplateSynthesizer

REAL_T1 = Path(__file__).resolve().parents[1].parent / "shared/data/brainles_tcga/TCGA-FG-6692/sri24_skullstripped/TCGA-FG-6692_t1.nii.gz"


def brain() -> tuple[Image, str]:
    if REAL_T1.exists():
        return load_image(REAL_T1), "TCGA-FG-6692 T1 (real, int16)"
    rng = np.random.default_rng(0)
    z, y, x = np.ogrid[:155, :240, :240]
    head = ((x - 120) / 90.0) ** 2 + ((y - 120) / 105.0) ** 2 + ((z - 77) / 70.0) ** 2 <= 1
    array = np.where(head, 300 + rng.normal(0, 20, head.shape), 0).astype(np.float32)
    return Image.from_array(array), "synthetic head (float32)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    image, source = brain()
    # The tumour sits in the hemisphere opposite TCGA-FG-6692's real tumour.
    centre = image.geometry.index_to_physical((160, 90, 85))
    edit = place_tumor(image, centre, 30.0, edema_mm=6.0, seed=0)
    engine = TemplateSynthesizer()
    times = []
    for repeat in range(args.repeats):
        started = time.perf_counter()
        engine.synthesize([image], edit.labels, brats_schema(), ["t1"], seed=repeat)
        times.append(time.perf_counter() - started)
    lesion_ml = np.count_nonzero(edit.labels.array) * image.geometry.voxel_volume_ml
    print(f"image: {source}, {image.geometry.describe()}; tumour {lesion_ml:.1f} mL")
    print(f"template synthesis, one channel: median {np.median(times):.3f} s, min {min(times):.3f} s "
          f"over {args.repeats} runs")


if __name__ == "__main__":
    main()
