"""Healthy-tissue fills without a model: the exact harmonic solve, the registered mirror and the mirror fill,
on a seeded left-right symmetric head phantom placed off-centre and tilted in its field of view (2 mm
voxels, as IXI's: the mirror is registered on a 4 mm grid)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from synthtrust.errors import InputError
from synthtrust.imaging.image import Geometry, Image
from synthtrust.metrics.local_synthesis import local_synthesis_scores
from synthtrust.synthesis.harmonic import harmonic_fill
from synthtrust.synthesis.healthy_fill import fill_region
from synthtrust.synthesis.symmetry import left_right_axis, reflect

SHAPE = (40, 44, 48)  # z, y, x; x runs left-right


def symmetric_head(seed: int = 0, tilt_deg: float = 4.0, shift_x: float = 3.5) -> np.ndarray:
    """A head symmetric about its own mid-plane (x = 24): ellipsoid brain with a bright rim, two ventricles
    and a sulcal pattern that varies front to back; then tilted and shifted off the array's centre."""
    z, y, x = np.indices(SHAPE, dtype=np.float64)
    u, v, w = (z - 20) / 16, (y - 22) / 18, (np.abs(x - 24)) / 20
    radius = np.sqrt(u**2 + v**2 + w**2)
    head = np.where(radius < 1.0, 300.0, 0.0)
    head += np.where((radius > 0.8) & (radius < 1.0), 150.0, 0.0)
    head += 60.0 * np.sin(y / 2.2) * np.cos(w * 7.0) * (radius < 0.8)
    ventricle = ((z - 20) / 6) ** 2 + ((y - 24) / 9) ** 2 + ((np.abs(x - 24) - 5) / 2.5) ** 2 < 1
    head[ventricle] = 60.0
    angle = np.deg2rad(tilt_deg)
    rotation = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
    centre = np.array(SHAPE) / 2
    placed = ndimage.affine_transform(head, rotation, offset=centre - rotation @ centre - [0, 0, shift_x], order=1)
    return placed + np.random.default_rng(seed).normal(0, 4.0, SHAPE) * (placed > 0)


def region_at(centre_zyx, radius: float = 6.0) -> np.ndarray:
    z, y, x = np.indices(SHAPE)
    return (z - centre_zyx[0]) ** 2 + (y - centre_zyx[1]) ** 2 + (x - centre_zyx[2]) ** 2 <= radius**2


def test_the_harmonic_fill_reproduces_a_linear_field_and_keeps_every_voxel_outside():
    z, y, x = np.indices((14, 15, 16), dtype=np.float64)
    field = 3.0 * z - 2.0 * y + 0.5 * x + 10.0
    region = np.zeros(field.shape, bool)
    region[3:11, 4:12, 5:13] = True
    filled = harmonic_fill(np.where(region, -999.0, field), region, spacing_zyx=(1.0, 1.0, 1.0), tolerance=1e-10)
    assert np.allclose(filled[region], field[region], atol=1e-5)
    assert np.array_equal(filled[~region], field[~region])


def test_the_harmonic_fill_weights_anisotropic_spacing_and_refuses_a_region_without_border():
    z, y, x = np.indices((10, 12, 12), dtype=np.float64)
    field = 2.0 * z * 3.0 + y  # linear in millimetres at spacing 3 x 1 x 1 mm
    region = np.zeros(field.shape, bool)
    region[2:8, 3:9, 3:9] = True
    filled = harmonic_fill(np.where(region, 0.0, field), region, spacing_zyx=(3.0, 1.0, 1.0), tolerance=1e-10)
    assert np.allclose(filled[region], field[region], atol=1e-5)
    with pytest.raises(ValueError, match="whole array"):
        harmonic_fill(field, np.ones(field.shape, bool))


def test_the_left_right_axis_follows_the_image_direction():
    assert left_right_axis(Geometry((48, 44, 40), (1, 1, 1), (0, 0, 0))) == 2
    # IXI's sagittal arrays: the k axis (array axis 0) runs right-left.
    assert left_right_axis(Geometry((120, 120, 90), (2, 2, 2), (0, 0, 0), (0, 0, -1, 1, 0, 0, 0, 1, 0))) == 0


def test_the_registered_mirror_finds_the_tilted_off_centre_mid_plane():
    head = symmetric_head()
    region = region_at((20, 20, 33))
    reflection = reflect(np.where(region, 0.0, head), (2.0, 2.0, 2.0), 2, region)
    mirrored, known = reflection.mirror(head), reflection.twin_known(region)
    # The plain flip about the array's centre misses the shifted, tilted mid-plane; the registration does not.
    plain = np.flip(head, 2)
    brain = (head > 100) & ~ndimage.binary_dilation(region | np.flip(region, 2), iterations=3)
    registered_error = np.abs(mirrored - head)[brain & known].mean()
    assert registered_error < 0.5 * np.abs(plain - head)[brain].mean()
    assert reflection.correlation > 0.9
    assert reflect(np.where(region, 0.0, head), (2.0, 2.0, 2.0), 2, region).parameters == reflection.parameters
    # The mid-plane sits at x = 27.5: the region's twin (around x = 22) mirrors hidden voxels, so it is not
    # known, while the region itself mirrors known tissue; a box gives the same values as the whole grid.
    assert not known[20, 20, 22] and known[20, 20, 33]
    box = (slice(10, 30), slice(12, 30), slice(20, 40))
    assert np.allclose(reflection.mirror(head, box), mirrored[box], atol=1e-3)


def test_the_mirror_fill_recovers_structure_the_smooth_fill_cannot():
    head = symmetric_head()
    head[:, :, :24] += 25.0  # a bias between the hemispheres: the border blend must take it out
    region = region_at((20, 24, 32))  # over the right ventricle
    image = Image.from_array(np.where(region, 0.0, head).astype(np.float32), spacing=(2.0, 2.0, 2.0))
    voided = image.array.astype(np.float64)
    mask = image.with_array(region.astype(np.uint8))
    scores = {}
    for method in ("mirror", "smooth", "mean"):
        filled = fill_region([image], mask, method).channels[0].array
        scores[method] = local_synthesis_scores(filled, head, voided, region)
    assert scores["mirror"]["ssim"] > scores["smooth"]["ssim"] + 0.15
    assert scores["mirror"]["mse"] < 0.5 * scores["smooth"]["mse"]
    assert scores["smooth"]["ssim"] > scores["mean"]["ssim"]


def test_every_fill_keeps_the_voxels_outside_bit_identical_and_the_input_type():
    head = symmetric_head().astype(np.int16)
    region = region_at((20, 22, 24))  # across the mid-plane: part of the region's twin is hidden too
    image = Image.from_array(np.where(region, 0, head).astype(np.int16), spacing=(2.0, 2.0, 2.0))
    for method in ("mirror", "smooth", "mean"):
        result = fill_region([image, image.copy()], image.with_array(region.astype(np.uint8)), method)
        for channel in result.channels:
            assert channel.array.dtype == np.int16
            assert np.array_equal(channel.array[~region], image.array[~region])
            assert channel.array[region].min() > 0, method
        assert result.provenance["engine"] == f"{method} fill" and result.provenance["region_voxels"] == region.sum()


def test_a_fill_refuses_an_empty_region_a_whole_image_region_nan_and_an_unknown_method():
    image = Image.from_array(symmetric_head().astype(np.float32))
    with pytest.raises(InputError, match="empty"):
        fill_region([image], image.with_array(np.zeros(SHAPE, np.uint8)))
    with pytest.raises(InputError, match="whole image"):
        fill_region([image], image.with_array(np.ones(SHAPE, np.uint8)))
    with pytest.raises(InputError, match="unknown fill method"):
        fill_region([image], image.with_array(region_at((20, 20, 30)).astype(np.uint8)), "blur")
    broken = image.array.copy()
    broken[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        fill_region([image.with_array(broken)], image.with_array(region_at((20, 20, 30)).astype(np.uint8)))
