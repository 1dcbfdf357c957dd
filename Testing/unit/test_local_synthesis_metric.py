"""The BraTS 2023 local-synthesis scores: values, what they ignore, and the challenge's normalisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthtrust.metrics.local_synthesis import K1, local_synthesis_scores, normalise_like_the_challenge


def brain(seed: int = 0, shape=(20, 24, 22)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 + 40.0 * rng.random(shape)


def mask_of(shape) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[6:14, 8:16, 7:15] = True
    return mask


def test_a_perfect_fill_scores_ssim_one_mse_zero_and_infinite_psnr():
    target = brain()
    mask = mask_of(target.shape)
    voided = np.where(mask, 0.0, target)
    scores = local_synthesis_scores(target.copy(), target, voided, mask)
    assert scores["ssim"] == pytest.approx(1.0) and scores["mse"] == 0.0 and math.isinf(scores["psnr_db"])


def test_noise_lowers_ssim_and_psnr_is_ten_log_of_one_over_mse():
    target = brain()
    mask = mask_of(target.shape)
    voided = np.where(mask, 0.0, target)
    noise = np.random.default_rng(1).normal(0, 1, target.shape)
    slightly = local_synthesis_scores(target + 5 * noise, target, voided, mask)
    scores = local_synthesis_scores(target + 30 * noise, target, voided, mask)
    assert 0.0 < scores["ssim"] < slightly["ssim"] < 1.0
    assert scores["psnr_db"] == pytest.approx(10 * math.log10(1 / scores["mse"]))


def test_voxels_outside_the_mask_do_not_count():
    target = brain()
    mask = mask_of(target.shape)
    voided = np.where(mask, 0.0, target)
    prediction = brain(2)
    changed_outside = np.where(mask, prediction, -500.0)
    assert local_synthesis_scores(prediction, target, voided, mask) == local_synthesis_scores(
        changed_outside, target, voided, mask)


def test_intensities_are_clipped_to_the_voided_inputs_percentiles_and_scaled_to_zero_one():
    target = brain()
    mask = mask_of(target.shape)
    voided = np.where(mask, 0.0, target)
    normalised = normalise_like_the_challenge(target * 3.0, voided, mask)
    assert normalised.min() >= 0.0 and normalised.max() == 1.0 and np.all(normalised[~mask] == 0.0)


def test_ssim_windows_lie_in_sagittal_planes_as_in_the_challenge():
    # Constant in every (z, y) plane: each plane's SSIM is the luminance term of its two constants.
    shape = (16, 16, 4)
    target = np.broadcast_to(np.array([50.0, 80.0, 110.0, 140.0]), shape).copy()
    prediction = np.broadcast_to(np.array([60.0, 80.0, 100.0, 140.0]), shape).copy()
    mask = np.ones(shape, bool)
    voided = np.broadcast_to(np.array([0.0, 0.0, 200.0, 200.0]), shape).copy()
    scores = local_synthesis_scores(prediction, target, voided, mask)
    a = normalise_like_the_challenge(target, voided, mask)[0, 0]
    b = normalise_like_the_challenge(prediction, voided, mask)[0, 0]
    c1 = K1**2
    expected = np.mean((2 * a * b + c1) / (a**2 + b**2 + c1))
    assert scores["ssim"] == pytest.approx(expected, rel=1e-6)


def test_mismatched_shapes_and_an_empty_mask_are_refused():
    target = brain()
    with pytest.raises(ValueError, match="shapes differ"):
        local_synthesis_scores(target[:-1], target, target, mask_of(target.shape))
    with pytest.raises(ValueError, match="empty"):
        local_synthesis_scores(target, target, target, np.zeros(target.shape, bool))
