"""Intensity models estimated from the image itself: healthy-tissue statistics and, from them, the
appearance each lesion label takes in each modality.

Tumours in FLAIR, T1, T1c and T2 take the appearance learned from real gliomas (:func:`learned_appearance`,
the shipped reference of ``scripts/estimate_brain_tumour_appearance.py``). Other modalities fall back to
targets written in the image's own units as positions relative to healthy-tissue quantiles (q10, q50, q90,
q99), so the same model works on raw scanner values, z-scored images and templates.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.labels.schema import LabelSchema
from synthtrust.trust.lesion_features import APPEARANCE_REGIONS
from synthtrust.trust.realism import tumour_reference

# Fallback appearance of tumour sub-regions per modality, as (anchor quantile, step, step size quantile pair):
# target = anchor + step * (upper - lower). Chosen from the radiology of gliomas: edema is bright on
# FLAIR/T2 and mildly dark on T1; enhancing tumour is bright on T1c; necrosis is dark on T1/T1c, bright on T2.
TUMOUR_APPEARANCE = {
    "flair": {"ED": ("q99", 0.35), "ET": ("q90", 0.25), "NCR": ("q50", 0.1), "NET": ("q90", 0.0)},
    "t1": {"ED": ("q50", -0.45), "ET": ("q50", -0.3), "NCR": ("q10", -0.4), "NET": ("q50", -0.5)},
    "t1c": {"ED": ("q50", -0.4), "ET": ("q99", 0.6), "NCR": ("q10", -0.3), "NET": ("q50", -0.4)},
    "t2": {"ED": ("q99", 0.3), "ET": ("q90", 0.1), "NCR": ("q99", 0.6), "NET": ("q99", 0.2)},
    "other": {"ED": ("q50", -0.45), "ET": ("q50", -0.3), "NCR": ("q10", -0.4), "NET": ("q50", -0.5)},
}


def healthy_statistics(values: np.ndarray, rng: np.random.Generator, max_samples: int = 200_000) -> dict:
    """Robust quantiles of healthy tissue (a random subsample keeps this fast on large images)."""
    if values.size > max_samples:
        values = rng.choice(values, max_samples, replace=False)
    q10, q50, q90, q99 = np.percentile(values, [10, 50, 90, 99])
    spread = max(float(q99 - q10), 1e-6)
    return {"q10": float(q10), "q50": float(q50), "q90": float(q90), "q99": float(q99), "spread": spread}


def noise_level(array: np.ndarray, tissue: np.ndarray, rng: np.random.Generator) -> float:
    """Noise SD from the high-frequency residual in tissue (1.4826 x median absolute deviation)."""
    residual = array - ndimage.uniform_filter(array, 3)
    values = residual[tissue]
    if values.size > 100_000:
        values = rng.choice(values, 100_000, replace=False)
    if values.size == 0:
        return 0.0
    # A 3x3x3 box residual keeps 26/27 of the noise variance: scale back to the noise SD.
    return float(1.4826 * np.median(np.abs(values - np.median(values))) / np.sqrt(26.0 / 27.0))


def tumour_targets(schema: LabelSchema, modality: str, stats: dict) -> dict[int, float]:
    appearance = TUMOUR_APPEARANCE[modality if modality in TUMOUR_APPEARANCE else "other"]
    targets = {}
    for value, name in schema.labels.items():
        anchor, step = appearance.get(name, ("q50", 0.0))
        targets[value] = stats[anchor] + step * stats["spread"]
    return targets


def lge_targets(array: np.ndarray, anatomy: np.ndarray, rng: np.random.Generator) -> tuple[dict[int, float], dict]:
    """Scar near the blood pool's brightness and at least remote + 3 SD (real LGE scar sits about 3 SD above
    remote myocardium in low-contrast scans, e.g. EMIDEC P100); MVO as dark as remote myocardium."""
    remote = array[anatomy == 2]
    blood = array[anatomy == 1]
    if remote.size == 0:
        remote = array[anatomy > 0] if (anatomy > 0).any() else array.ravel()
    remote_median = float(np.median(remote))
    remote_sd = float(1.4826 * np.median(np.abs(remote - remote_median))) or float(np.std(remote)) or 1e-3
    blood_median = float(np.median(blood)) if blood.size else remote_median + 8 * remote_sd
    scar = max(0.9 * blood_median, remote_median + 3.0 * remote_sd)
    mvo = remote_median - 0.5 * remote_sd
    return {3: scar, 4: mvo}, {"remote_median": remote_median, "remote_sd": remote_sd,
                               "blood_pool_median": blood_median}


def learned_appearance(modality: str, reference: dict[str, dict] | None = None) -> dict[str, dict[str, float]]:
    """The real-tumour means of contrast (brain SDs above normal white matter), heterogeneity (brain SDs) and
    fine texture (x normal white matter's) for each region of ``modality``; empty for a modality the
    shipped reference has no data for (the quantile rules above then apply)."""
    reference = tumour_reference() if reference is None else reference
    appearance = {}
    for region in APPEARANCE_REGIONS:
        keys = {name: f"{modality}.{region}.{name}" for name in ("contrast", "heterogeneity", "texture")}
        if all(key in reference for key in keys.values()):
            appearance[region] = {name: float(reference[key]["mean"]) for name, key in keys.items()}
    return appearance
