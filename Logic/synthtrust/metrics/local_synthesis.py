"""Healthy-tissue inpainting quality as the BraTS 2023 "local synthesis" challenge scores it.

The challenge's evaluation (Kofler et al., arXiv 2305.08992, and its metrics package) works only inside
the inpainted mask: prediction and target are first zeroed outside the mask, then both are clipped to
the 0.5 / 99.5 percentiles of the *voided* input (the image the model saw, with the mask zeroed; the
lower bound floored at 0) and scaled to [0, 1]. On those images:

- SSIM: the Gaussian-window SSIM map (window 11, sigma 1.5, data range 1, K1 0.01, K2 0.03), averaged over
  the mask voxels. The challenge feeds (1, x, y, z) tensors to a 2D SSIM, so its windows lie in the
  sagittal (y, z) planes; we do the same, so our numbers compare with the published ones.
- MSE over the mask voxels, and PSNR = 10 log10(1 / MSE) (data range 1).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

WINDOW_SIGMA = 1.5
WINDOW_RADIUS = 5  # 11 taps
K1, K2 = 0.01, 0.03


def normalise_like_the_challenge(image: np.ndarray, voided: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` zeroed outside ``mask``, clipped to the voided input's 0.5/99.5 percentiles, scaled to [0, 1]."""
    low, high = np.percentile(voided, [0.5, 99.5])
    low = max(float(low), 0.0)
    if high <= low:
        raise ValueError(f"the voided image has no intensity range (percentiles {low} .. {high}); is it empty?")
    kept = np.where(mask, image.astype(np.float64), 0.0)
    return (np.clip(kept, low, high) - low) / (high - low)


def _sagittal_ssim_map(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """SSIM map with Gaussian windows in the (z, y) planes of (z, y, x) arrays (one plane per x)."""
    sigma = (WINDOW_SIGMA, WINDOW_SIGMA, 0.0)

    def blur(values: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(values, sigma, mode="reflect", truncate=WINDOW_RADIUS / WINDOW_SIGMA)

    c1, c2 = K1**2, K2**2
    mean_p, mean_t = blur(prediction), blur(target)
    var_p = blur(prediction * prediction) - mean_p**2
    var_t = blur(target * target) - mean_t**2
    covariance = blur(prediction * target) - mean_p * mean_t
    return ((2 * mean_p * mean_t + c1) * (2 * covariance + c2)) / ((mean_p**2 + mean_t**2 + c1) * (var_p + var_t + c2))


def local_synthesis_scores(prediction: np.ndarray, target: np.ndarray, voided: np.ndarray,
                           mask: np.ndarray) -> dict:
    """SSIM, PSNR (dB) and MSE of ``prediction`` against ``target`` inside ``mask`` (arrays z, y, x)."""
    mask = np.asarray(mask, bool)
    if prediction.shape != target.shape or target.shape != mask.shape or voided.shape != mask.shape:
        raise ValueError(f"shapes differ: prediction {prediction.shape}, target {target.shape}, voided "
                         f"{voided.shape}, mask {mask.shape}")
    if not mask.any():
        raise ValueError("the inpainting mask is empty; nothing to score")
    normalised_prediction = normalise_like_the_challenge(prediction, voided, mask)
    normalised_target = normalise_like_the_challenge(target, voided, mask)
    ssim = float(_sagittal_ssim_map(normalised_prediction, normalised_target)[mask].mean())
    mse = float(np.mean((normalised_prediction[mask] - normalised_target[mask]) ** 2))
    psnr = math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)
    return {"ssim": ssim, "psnr_db": psnr, "mse": mse, "voxels": int(mask.sum()),
            "definition": "BraTS 2023 local synthesis: inside the mask, after 0.5/99.5-percentile normalisation "
                          "of prediction and target by the voided input"}
