"""The rules clinicians quantify LGE scar with, inside a given myocardium mask (predicted or drawn).

- ``n-SD``: scar = myocardium brighter than the remote myocardium's mean + n standard deviations (n = 2-6;
  5 SD is the usual choice for acute infarcts). Remote myocardium: the darkest 60-degree sector of the
  wall, per slice (sectors around the wall's centroid), the common semi-automatic stand-in for the
  reader's remote region of interest.
- ``FWHM``: full width at half maximum: scar = myocardium brighter than half the brightest myocardium of
  the slice (Amado et al. 2004), with the brightest value taken as the 99th percentile (one hot pixel must
  not set the threshold).

Both work slice by slice: LGE slices are thick and their intensity scale drifts across the stack.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.errors import InputError

SECTORS = 6
MIN_SECTOR_PIXELS = 5
FWHM_MIN_PEAK_SD = 5.0
MIN_SCAR_PIXELS = 3  # smaller bright specks are noise, not infarct


def remote_statistics(image: np.ndarray, myocardium: np.ndarray) -> tuple[float, float] | None:
    """Mean and SD of the darkest 60-degree sector of one slice's myocardium (``None`` if too small)."""
    ys, xs = np.nonzero(myocardium)
    if len(ys) < SECTORS * MIN_SECTOR_PIXELS:
        return None
    angles = np.arctan2(ys - ys.mean(), xs - xs.mean())
    sector = np.floor((angles + np.pi) / (2 * np.pi) * SECTORS).astype(int) % SECTORS
    values = image[ys, xs]
    best = None
    for k in range(SECTORS):
        chosen = values[sector == k]
        if len(chosen) >= MIN_SECTOR_PIXELS and (best is None or chosen.mean() < best.mean()):
            best = chosen
    if best is None:
        return None
    return float(best.mean()), float(max(best.std(), 1e-6))


def _clean(scar: np.ndarray) -> np.ndarray:
    labelled, count = ndimage.label(scar)
    if count == 0:
        return scar
    sizes = ndimage.sum(scar, labelled, index=np.arange(1, count + 1))
    return np.isin(labelled, 1 + np.flatnonzero(sizes >= MIN_SCAR_PIXELS))


def _check(image: np.ndarray, myocardium: np.ndarray) -> None:
    if image.shape != myocardium.shape:
        raise InputError(f"image {image.shape} and myocardium mask {myocardium.shape} differ in shape; give "
                         "the mask on the image's grid")


def scar_by_sd(image: np.ndarray, myocardium: np.ndarray, n: float = 5.0) -> np.ndarray:
    """Scar mask (z, y, x) by the n-SD rule inside ``myocardium`` (bool, same shape)."""
    _check(image, myocardium)
    if not 1.0 <= n <= 10.0:
        raise InputError(f"n = {n} standard deviations is outside 1-10; clinical practice uses 2-6")
    scar = np.zeros(myocardium.shape, bool)
    for z in range(image.shape[0]):
        statistics = remote_statistics(image[z], myocardium[z])
        if statistics is not None:
            mean, sd = statistics
            scar[z] = _clean(myocardium[z] & (image[z] > mean + n * sd))
    return scar


def scar_by_fwhm(image: np.ndarray, myocardium: np.ndarray) -> np.ndarray:
    """Scar mask (z, y, x) by full width at half maximum inside ``myocardium``."""
    _check(image, myocardium)
    scar = np.zeros(myocardium.shape, bool)
    for z in range(image.shape[0]):
        values = image[z][myocardium[z]]
        statistics = remote_statistics(image[z], myocardium[z])
        if statistics is None:
            continue
        peak = float(np.percentile(values, 99))
        # A wall with no enhancement has a "half maximum" inside its own noise: the peak must stand out from
        # the remote myocardium as an infarct does (5 SD, the usual n-SD threshold).
        if peak <= statistics[0] + FWHM_MIN_PEAK_SD * statistics[1]:
            continue
        scar[z] = _clean(myocardium[z] & (image[z] >= 0.5 * peak))
    return scar
