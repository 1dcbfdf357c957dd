"""Random fields for painted lesions: a coarse heterogeneity field, and fine texture with the power spectrum
of the image's own healthy tissue (so a smooth template gets no visible noise and a noisy scan gets its own
kind of noise, not white salt-and-pepper)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.imaging.tissue import in_plane_high_pass


def _unit_sd(field: np.ndarray, inside: np.ndarray) -> np.ndarray:
    values = field[inside]
    sd = float(values.std()) if values.size else 0.0
    return (field - (float(values.mean()) if values.size else 0.0)) / (sd if sd > 1e-12 else 1.0)


def coarse_field(shape: tuple[int, ...], inside: np.ndarray, scale_mm: float, spacing_zyx,
                 rng: np.random.Generator) -> np.ndarray:
    """Smoothed Gaussian noise with SD 1 inside: blotches about ``scale_mm`` across."""
    sigma = scale_mm / np.asarray(spacing_zyx, float)
    return _unit_sd(ndimage.gaussian_filter(rng.standard_normal(shape), sigma), inside)


def spectrum_matched_texture(image: np.ndarray, tissue: np.ndarray, inside: np.ndarray, spacing_zyx,
                             rng: np.random.Generator) -> np.ndarray:
    """Fine texture (SD 1 inside) whose power spectrum is that of the in-plane high-pass of ``image`` in
    ``tissue``: white noise filtered by the tissue residual's smoothed amplitude spectrum. The residual is
    already high-passed, so the texture adds fine grain only (the coarse field carries the rest)."""
    residual = in_plane_high_pass(image.astype(np.float64), spacing_zyx)
    residual = np.where(tissue, residual - (float(residual[tissue].mean()) if tissue.any() else 0.0), 0.0)
    # A raw periodogram is itself noisy: smoothing it keeps the shape of the spectrum, not its accidents.
    amplitude = ndimage.uniform_filter(np.abs(np.fft.rfftn(residual)), 3)
    noise = np.fft.irfftn(np.fft.rfftn(rng.standard_normal(image.shape)) * amplitude, s=image.shape, axes=(0, 1, 2))
    return _unit_sd(noise, inside)
