"""The heart a scar is placed in when the user has only an LGE image: its segmentation and AHA orientation,
shared by ``place-scar`` (and the sweep over a user's LGE)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthtrust.cli.common import point_to_lps
from synthtrust.editing.lge_heart import heart_labels_from_prediction, rv_insertion_from_image
from synthtrust.imaging.image import Image

IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")


@dataclass
class SegmentedHeart:
    labels: Image
    model_id: str
    provenance: dict


@dataclass
class Orientation:
    point: tuple[float, float, float] | None
    source: str


def heart_labels_path(out: Path) -> Path:
    """``scar.nii.gz`` -> ``scar_heart.nii.gz``: where the segmented heart is saved beside the scar."""
    name = out.name
    suffix = next((s for s in IMAGE_SUFFIXES if name.endswith(s)), out.suffix)
    return out.with_name(f"{name[: len(name) - len(suffix)]}_heart{suffix}")


def segment_heart(image: Image, model: Path | None) -> SegmentedHeart:
    """Blood pool and myocardium of an LGE image by the given or the shipped cardiac segmenter."""
    # torch and MONAI load here, only when a heart is segmented (place-scar with --labels stays light).
    from synthtrust.segmentation.loading import load_default_segmenter, load_segmenter

    if model is not None:
        segmenter = load_segmenter(model, "auto", "cardiac-scar")
    else:
        segmenter = load_default_segmenter("cardiac-scar", ["lge"], "auto")
    result = segmenter.predict([image], channel_names=list(segmenter.config.channels))
    labels = heart_labels_from_prediction(result.labels, "the LGE image")
    return SegmentedHeart(labels, segmenter.model_id, result.provenance)


def orientation_for_scar(args: argparse.Namespace, labels: Image, image: Image | None) -> Orientation:
    """The anterior RV insertion point: given (--rv-insertion), found in the image, or none (the default)."""
    if args.rv_insertion is not None:
        point = point_to_lps(args.rv_insertion, args.coordinates, labels)
        return Orientation(tuple(float(v) for v in point), "RV insertion point given by --rv-insertion")
    if image is not None:
        point = rv_insertion_from_image(image, labels)
        if point is not None:
            shown = ", ".join(f"{v:.1f}" for v in np.asarray(point))
            return Orientation(tuple(float(v) for v in point),
                               f"RV insertion point found from the RV blood pool at LPS ({shown}) mm")
    return Orientation(None, "default (no RV insertion point: anterior = the patient's anterior, septum = the "
                             "patient's right; give --rv-insertion to set it)")
