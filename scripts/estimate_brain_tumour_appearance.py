"""Estimate the appearance and shape statistics of real gliomas and write them as the shipped reference
(`Resources/Appearance/brain_tumour_reference.json`): the template engine paints with the means, the
realism audit scores synthetic lesions against mean and SD.

Sources (CC BY 3.0, TCIA TCGA-LGG): the two skull-stripped SRI24 cases in `../shared/data/brainles_tcga`,
each with the outputs of five BraTS-2020 algorithms and their fusion. These are ALGORITHM segmentations,
not expert truth: every feature is measured once per (case, segmentation), so the spread mixes the two
tumours with the algorithms' disagreement. Two tumours are a thin reference: each SD is floored (FLOORS)
so a z-score never claims more certainty than that.

    .venv/bin/python scripts/estimate_brain_tumour_appearance.py [--data ../shared/data] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Logic"))

from synthtrust.labels.schema import brats_schema  # noqa: E402
from synthtrust.provenance import write_json  # noqa: E402
from synthtrust.trust.lesion_features import lesion_features  # noqa: E402

CASES = ("TCGA-FG-6692", "TCGA-DU-7294")
MODALITIES = {"flair": "fla", "t1": "t1", "t1c": "t1c", "t2": "t2"}
SEGMENTATIONS = ("fusion_simple", "hnfnetv1-20", "isen-20", "sanet0-20", "scan-20", "yixinmpl-20")
# Smallest SD a feature may have, by kind: what two tumours cannot resolve (brain-SD units, ratios, 1/mm).
FLOORS = {"contrast": 0.3, "heterogeneity": 0.1, "texture": 0.15, "border_sharpness": 0.05, "sphericity": 0.08,
          "solidity": 0.08, "surface_per_volume": 0.05, "edema_core_ratio": 0.5}
MIN_RELATIVE_SD = 0.2  # and at least this share of the mean's size


def read(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    image = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(image), tuple(float(s) for s in reversed(image.GetSpacing()))


def crop_box(mask: np.ndarray, margin: int) -> tuple[slice, ...]:
    where = np.argwhere(mask)
    low = np.maximum(where.min(axis=0) - margin, 0)
    high = np.minimum(where.max(axis=0) + margin + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))


def case_features(data: Path, case: str) -> list[dict]:
    folder = data / "brainles_tcga" / case
    channels, spacing = [], None
    for suffix in MODALITIES.values():
        array, spacing = read(folder / "sri24_skullstripped" / f"{case}_{suffix}.nii.gz")
        channels.append(array.astype(np.float32))
    brain = channels[0] != 0
    samples = []
    for name in SEGMENTATIONS:
        labels, _ = read(folder / "algorithm_segmentations" / f"{name}.nii.gz")
        box = crop_box(labels > 0, 40)
        features = lesion_features([c[box] for c in channels], list(MODALITIES), labels[box].astype(np.uint8),
                                   brats_schema(2021), spacing, brain[box])
        samples.append({"case": case, "segmentation": name, "features": features})
        print(case, name, len(features), "features", flush=True)
    return samples


def kind(feature: str) -> str:
    return feature.rsplit(".", 1)[-1].removeprefix("core_")


def summarise(samples: list[dict]) -> dict:
    names = sorted({k for s in samples for k in s["features"]})
    statistics = {}
    for name in names:
        values = np.array([s["features"][name] for s in samples if name in s["features"]])
        cases = sorted({s["case"] for s in samples if name in s["features"]})
        sd = max(float(values.std(ddof=1)) if len(values) > 1 else 0.0, FLOORS[kind(name)],
                 MIN_RELATIVE_SD * abs(float(values.mean())))
        statistics[name] = {"mean": round(float(values.mean()), 4), "sd": round(sd, 4),
                            "measured_sd": round(float(values.std(ddof=1)), 4) if len(values) > 1 else None,
                            "samples": int(len(values)), "cases": cases}
    return statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "Resources" /
                        "Appearance" / "brain_tumour_reference.json")
    arguments = parser.parse_args()
    samples = [s for case in CASES for s in case_features(arguments.data, case)]
    write_json({
        "description": "Features of real gliomas (synthtrust.trust.lesion_features): mean and SD per feature; the "
                       "template engine paints with the means, the realism audit scores z = (x - mean) / sd",
        "sources": [f"{c} (TCIA TCGA-LGG, CC BY 3.0; BraTS-2020 algorithm segmentations, not expert truth)"
                    for c in CASES],
        "segmentations": list(SEGMENTATIONS),
        "sd_floors": FLOORS, "min_relative_sd": MIN_RELATIVE_SD,
        "command": "python scripts/estimate_brain_tumour_appearance.py",
        "features": summarise(samples),
    }, arguments.out)
    print("wrote", arguments.out)


if __name__ == "__main__":
    main()
