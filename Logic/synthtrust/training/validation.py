"""How well a trained segmenter does: Dice per schema region on a case, and on the real EMIDEC case."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthtrust.imaging.io import load_image
from synthtrust.metrics import evaluate_labels
from synthtrust.segmentation.segmenter import Segmenter
from synthtrust.training.datasets import Case, data_root


def region_dice(case: Case, segmenter: Segmenter) -> dict[str, float]:
    """Dice per region of the task schema (BraTS empty-mask convention), on the case's own grid."""
    prediction = segmenter.predict(case.channels)
    evaluation = evaluate_labels(case.labels.array, prediction.labels.array, segmenter.config.label_schema(),
                                 case.labels.spacing_zyx)
    return {region: float(metrics.dice) for region, metrics in evaluation.regions.items()}


def external_evaluation(segmenter: Segmenter, root: Path | None = None) -> dict:
    """Cardiac models: Dice on the real EMIDEC LGE case, when present. EMIDEC is CC BY-NC-SA 4.0: it is
    used here only to *evaluate*, never to train."""
    if segmenter.config.task != "cardiac-scar":
        return {}
    folder = data_root(root) / "emidec_Case_P100"
    if not (folder / "Case_P100_image.nii.gz").is_file():
        return {}
    image = load_image(folder / "Case_P100_image.nii.gz", "lge")
    labels = load_image(folder / "Case_P100_label.nii.gz", "labels")
    case = Case("EMIDEC Case_P100", [image.with_array(image.array.astype(np.float32))],
                labels.with_array(labels.array.astype(np.uint8)), "EMIDEC")
    return {"case": "EMIDEC Case_P100 (real LGE; CC BY-NC-SA 4.0, evaluation only)",
            "dice": {k: round(v, 4) for k, v in region_dice(case, segmenter).items()}}
