"""Slice views as PNG: image, intended lesion and prediction side by side (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from synthtrust.imaging.image import Image
from synthtrust.imaging.io import atomic_path, from_sitk, to_sitk
from synthtrust.labels.schema import LabelSchema


def _axial_lps(image: Image, is_label: bool) -> np.ndarray:
    # Reorient to LPS so every figure reads the same way: anterior up, patient left on the right
    # (radiological convention), whatever the file's direction matrix.
    oriented = sitk.DICOMOrient(to_sitk(image), "LPS")
    return from_sitk(oriented).array if not is_label else sitk.GetArrayFromImage(oriented)


def _best_slice(mask: np.ndarray) -> int:
    areas = mask.reshape(mask.shape[0], -1).sum(axis=1)
    return int(np.argmax(areas)) if areas.max() > 0 else mask.shape[0] // 2


def _overlay(labels: np.ndarray, schema: LabelSchema, alpha: float = 0.55) -> np.ndarray:
    rgba = np.zeros(labels.shape + (4,), np.float32)
    for value, color in schema.colors.items():
        rgba[labels == value, :3] = color
        rgba[labels == value, 3] = alpha
    return rgba


def _aspect(image: Image) -> float:
    spacing = image.geometry.spacing
    return float(spacing[1] / spacing[0])


def save_slice_views(image: Image, intended: Image, predicted: Image, schema: LabelSchema,
                     path: str | Path, title: str = "") -> Path:
    """One PNG with three panels on the slice where the intended lesion is largest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    voxels = _axial_lps(image, False).astype(np.float32)
    intended_array = _axial_lps(intended, True)
    predicted_array = _axial_lps(predicted, True)
    k = _best_slice(schema.lesion_mask(intended_array))
    low, high = np.percentile(voxels[k], [1, 99.5]) if voxels[k].size else (0, 1)
    figure, axes = plt.subplots(1, 3, figsize=(11, 4.2), dpi=90)
    panels = (("synthetic image", None), ("intended lesion", intended_array), ("prediction", predicted_array))
    for axis, (name, labels) in zip(axes, panels, strict=True):
        axis.imshow(voxels[k], cmap="gray", vmin=low, vmax=high, aspect=_aspect(image), interpolation="nearest")
        if labels is not None:
            axis.imshow(_overlay(labels[k], schema), aspect=_aspect(image), interpolation="nearest")
        axis.set_title(name, fontsize=10)
        axis.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=schema.colors[v]) for v in schema.colors]
    figure.legend(handles, [schema.labels[v] for v in schema.colors], loc="lower center",
                  ncol=len(handles), fontsize=8, frameon=False)
    figure.suptitle(f"{title} (axial slice {k}, radiological view)", fontsize=11)
    figure.tight_layout(rect=(0, 0.06, 1, 0.95))
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    plt.close(figure)
    return path
