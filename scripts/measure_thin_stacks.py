"""How the shipped cardiac segmenter does on thin stacks: myocardium and blood-pool Dice on LGE-like
phantoms (seed 1) of different slice counts, slice gaps and fields of view (figures quoted in
docs/segmenters.md, "Thin stacks").

    .venv/bin/python scripts/measure_thin_stacks.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Logic"))

from synthtrust.phantoms.cardiac import make_lge_phantom  # noqa: E402
from synthtrust.segmentation.loading import load_default_segmenter  # noqa: E402

# (slices, rows, columns), (x, y, z) mm: the training geometry, thin stacks, and a real LGE field of view.
CASES = [((10, 128, 128), (1.5, 1.5, 8.0)), ((5, 128, 128), (1.5, 1.5, 15.0)), ((3, 128, 128), (1.5, 1.5, 15.0)),
         ((10, 480, 480), (0.73, 0.73, 8.0)), ((5, 480, 480), (0.73, 0.73, 15.0)),
         ((3, 480, 480), (0.73, 0.73, 15.0))]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * (a & b).sum() / max(a.sum() + b.sum(), 1))


def main() -> None:
    segmenter = load_default_segmenter("cardiac-scar", ["lge"], "cpu")
    print("| slices x rows x columns | spacing (mm) | field of view (mm) | myocardium Dice | blood pool Dice |")
    print("|---|---|---|---|---|")
    for shape, spacing in CASES:
        image, labels = make_lge_phantom(seed=1, shape=shape, spacing=spacing)
        predicted = segmenter.predict([image]).labels.array
        print(f"| {' x '.join(map(str, shape))} | {spacing} | {shape[2] * spacing[0]:.0f} | "
              f"{dice(predicted == 2, labels.array == 2):.2f} | {dice(predicted == 1, labels.array == 1):.2f} |")


if __name__ == "__main__":
    main()
