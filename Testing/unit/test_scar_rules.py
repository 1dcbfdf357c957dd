"""Clinical scar rules (n-SD above remote myocardium, FWHM) inside a given myocardium mask."""

from __future__ import annotations

import numpy as np
import pytest

from synthtrust.errors import InputError
from synthtrust.segmentation.scar_rules import remote_statistics, scar_by_fwhm, scar_by_sd


def ring_with_scar(rng, scar_level: float = 0.8):
    """Two 64x64 slices: a myocardial ring (nulled, 0.1 +- 0.02) with a bright 90-degree sector in slice 0."""
    yy, xx = np.mgrid[0:64, 0:64] - 32.0
    radius, angle = np.hypot(yy, xx), np.degrees(np.arctan2(yy, xx))
    ring = (radius > 12) & (radius < 20)
    myocardium = np.stack([ring, ring])
    image = np.where(radius <= 12, 0.9, 0.3)[None].repeat(2, axis=0) + rng.normal(0, 0.02, (2, 64, 64))
    image[myocardium] = 0.1 + rng.normal(0, 0.02, int(myocardium.sum()))
    truth = np.zeros_like(myocardium)
    truth[0] = ring & (np.abs(angle) < 45)
    image[truth] = scar_level + rng.normal(0, 0.02, int(truth.sum()))
    return image, myocardium, truth


def dice(a, b):
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


@pytest.mark.parametrize("n", [2, 3, 5, 6])
def test_n_sd_finds_a_bright_sector_and_nothing_in_a_clean_wall(rng, n):
    image, myocardium, truth = ring_with_scar(rng)
    scar = scar_by_sd(image, myocardium, n)
    assert dice(truth[0], scar[0]) > 0.9
    assert scar[1].sum() <= 3  # the clean slice: at most a noise speck survives the size filter


def test_remote_myocardium_is_the_darkest_sector(rng):
    image, myocardium, _ = ring_with_scar(rng)
    mean, sd = remote_statistics(image[0], myocardium[0])
    assert abs(mean - 0.1) < 0.02 and sd < 0.04


def test_fwhm_finds_the_sector_and_skips_a_wall_without_enhancement(rng):
    image, myocardium, truth = ring_with_scar(rng)
    scar = scar_by_fwhm(image, myocardium)
    assert dice(truth[0], scar[0]) > 0.9
    assert not scar[1].any()


def test_a_faint_scar_is_missed_by_a_strict_threshold_but_found_by_a_lenient_one(rng):
    image, myocardium, truth = ring_with_scar(rng, scar_level=0.19)  # 4.5 SD above remote
    assert dice(truth[0], scar_by_sd(image, myocardium, 2)[0]) > 0.8
    assert scar_by_sd(image, myocardium, 6)[0].sum() < 0.2 * truth[0].sum()


def test_bad_input_is_refused_with_the_fix(rng):
    image, myocardium, _ = ring_with_scar(rng)
    with pytest.raises(InputError, match="differ in shape"):
        scar_by_sd(image, myocardium[:1], 5)
    with pytest.raises(InputError, match="clinical practice uses 2-6"):
        scar_by_sd(image, myocardium, 12)
