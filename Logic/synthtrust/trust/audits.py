"""Per-edit audits: did the synthetic image carry the intended lesion, did a segmenter see lesion
where none was asked for, and did anything change outside the edit?"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(a & b)) / total


def without_existing_lesions(prediction: np.ndarray, existing: np.ndarray | None, intended: np.ndarray,
                             spacing_zyx, margin_mm: float = 2.0) -> np.ndarray:
    """The prediction (a label map) with what it found in lesions already in the image set to 0.

    A real tumour next to the edit is not a hallucination nor a false positive of the edit: the segmenter
    is right to find it. ``existing`` (e.g. the reference segmentation's lesion) grown by ``margin_mm`` is
    taken out, except where it overlaps the intended lesion.
    """
    if existing is None or not np.any(existing):
        return prediction
    distance = ndimage.distance_transform_edt(~np.asarray(existing, bool),
                                              sampling=tuple(float(s) for s in spacing_zyx))
    excluded = (distance <= margin_mm) & ~np.asarray(intended, bool)
    return np.where(excluded, 0, prediction).astype(prediction.dtype)


def conditioning_fidelity(intended: np.ndarray, predicted: np.ndarray, threshold: float = 0.6) -> dict:
    """Dice between the intended lesion and the segmenter's lesion; passes at ``threshold``."""
    dice = _dice(np.asarray(intended, bool), np.asarray(predicted, bool))
    return {"dice": dice, "threshold": float(threshold), "passed": bool(dice >= threshold),
            "definition": "Dice(intended lesion, predicted lesion) >= threshold"}


def hallucination(intended: np.ndarray, predicted: np.ndarray, spacing_zyx, margin_mm: float = 2.0) -> dict:
    """Predicted lesion volume farther than ``margin_mm`` from the intended lesion (mL)."""
    intended = np.asarray(intended, bool)
    predicted = np.asarray(predicted, bool)
    if intended.any():
        distance = ndimage.distance_transform_edt(~intended, sampling=tuple(float(s) for s in spacing_zyx))
        outside = predicted & (distance > margin_mm)
    else:
        outside = predicted
    voxels = int(np.count_nonzero(outside))
    return {"volume_ml": voxels * float(np.prod(spacing_zyx)) / 1000.0, "voxels": voxels,
            "margin_mm": float(margin_mm),
            "definition": "volume of predicted lesion more than margin_mm away from the intended lesion"}


def off_target_change(original: np.ndarray, synthetic: np.ndarray, edit_region: np.ndarray) -> dict:
    """Voxels outside the edit region whose value changed (bit comparison; arrays may be (C, z, y, x))."""
    original = np.asarray(original)
    synthetic = np.asarray(synthetic)
    if original.shape != synthetic.shape:
        raise ValueError(f"original shape {original.shape} differs from synthetic shape {synthetic.shape}")
    outside = ~np.asarray(edit_region, bool)
    if original.ndim == outside.ndim + 1:
        outside = np.broadcast_to(outside, original.shape)
    changed = (original != synthetic) & outside
    count = int(np.count_nonzero(changed))
    largest = float(np.max(np.abs(original[changed].astype(float) - synthetic[changed].astype(float)))) if count else 0.0
    return {"voxels_changed": count, "max_abs_change": largest,
            "definition": "voxels outside the edit region whose value differs from the input"}
