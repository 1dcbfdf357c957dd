"""LGE-like cardiac short-axis images the project generates: the demo heart and training data.

Late gadolinium enhancement contrast: blood pool bright, healthy myocardium nulled (dark), surrounding
tissue grey, lungs dark. Geometry: a short-axis stack (slices along z, thick: 8 mm by default), the LV a
truncated ellipsoidal shell that closes toward the apex (last slices), the RV a crescent on the septal
side. Orientation (identity direction, LPS): +x is patient left, +y posterior, so the RV lies toward -x
(patient right) and slightly -y (anterior), as in a standard short-axis view.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.imaging.image import Image

BLOOD = 0.85
MYOCARDIUM = 0.08
TISSUE = 0.32
LUNG = 0.04


def _rician(clean: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    real = clean + rng.normal(0.0, sd, clean.shape)
    imaginary = rng.normal(0.0, sd, clean.shape)
    return np.sqrt(real**2 + imaginary**2)


def _smooth_field(shape, sigma_voxels, rng: np.random.Generator) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_voxels)
    return field / max(float(np.abs(field).max()), 1e-9)


def make_lge_phantom(seed: int = 0, shape: tuple[int, int, int] = (10, 128, 128),
                     spacing: tuple[float, float, float] = (1.5, 1.5, 8.0)) -> tuple[Image, Image]:
    """An LGE-like image (float32) and its EMIDEC labels (1 blood pool, 2 myocardium; no scar yet)."""
    rng = np.random.default_rng(seed)
    nz, ny, nx = shape
    sx, sy, sz = spacing
    z = (np.arange(nz) * sz)[:, None, None]
    y = ((np.arange(ny) - ny / 2) * sy)[None, :, None]
    x = ((np.arange(nx) - nx / 2) * sx)[None, None, :]
    center_x, center_y = rng.normal(6.0, 3.0), rng.normal(4.0, 3.0)
    epicardial_radius = rng.uniform(26.0, 33.0)
    wall = rng.uniform(7.5, 11.0)
    # Long semi-axis: the apex lies just beyond the last slice so the cavity closes in the stack.
    base = 0.0
    long_axis = (nz - 1) * sz * rng.uniform(1.0, 1.12)
    t = np.clip((z - base) / long_axis, 0.0, 1.0)
    taper = np.sqrt(np.clip(1.0 - t**2, 0.0, 1.0))
    outer = epicardial_radius * taper
    inner = np.maximum(outer - wall * (1.0 - 0.25 * t), 0.0)
    radius = np.sqrt((x - center_x) ** 2 + ((y - center_y) / rng.uniform(0.92, 1.08)) ** 2)
    angle = np.arctan2(y - center_y, x - center_x)
    wobble = 1.0 + 0.04 * np.sin(3 * angle + rng.uniform(0, 6.3)) + 0.03 * np.cos(5 * angle + rng.uniform(0, 6.3))
    radius = radius / wobble
    myocardium = (radius <= outer) & (radius > inner)
    blood_pool = radius <= inner
    labels = np.zeros(shape, np.uint8)
    labels[myocardium] = 2
    labels[blood_pool] = 1

    # Surroundings: chest (an ellipse of tissue), lungs on both sides, the RV crescent on the septal side.
    chest = np.broadcast_to(((x / 90.0) ** 2 + ((y + 5.0) / 70.0) ** 2) <= 1.0, shape)
    lungs = (((np.abs(x) - 48.0) / 28.0) ** 2 + ((y + 5.0) / 45.0) ** 2 <= 1.0) & (radius > outer + 6.0)
    rv_center_x = center_x - epicardial_radius * 0.95
    rv_center_y = center_y - epicardial_radius * 0.25
    rv_radius = np.sqrt((x - rv_center_x) ** 2 + ((y - rv_center_y) / 1.3) ** 2)
    rv_cavity = (rv_radius <= epicardial_radius * 0.75 * np.sqrt(np.clip(1 - (t / 0.85) ** 2, 0, 1))) & (radius > outer + 2.0)
    rv_wall = (ndimage.binary_dilation(rv_cavity, iterations=2) & ~rv_cavity) & (radius > outer)

    image = np.full(shape, 0.02, np.float64)
    image[chest] = TISSUE
    image[lungs & chest] = LUNG
    image[rv_wall] = MYOCARDIUM * 1.5
    image[rv_cavity] = BLOOD * 0.95
    image[myocardium] = MYOCARDIUM
    image[blood_pool] = BLOOD
    image += 0.06 * _smooth_field(shape, (0.5, 8, 8), rng) * (image > 0.05)
    image = ndimage.gaussian_filter(image, (0.3, 0.6, 0.6))
    bias = 1.0 + 0.15 * _smooth_field(shape, (2, 30, 30), rng)
    image = _rician(image * bias, 0.025, rng).astype(np.float32)
    origin = (-(nx / 2) * sx, -(ny / 2) * sy, 0.0)
    return (Image.from_array(image, spacing, origin, name="LGE phantom"),
            Image.from_array(labels, spacing, origin, name="LGE phantom labels"))


def lge_like_from_labels(labels: Image, seed: int = 0, image: Image | None = None) -> Image:
    """Render LGE contrast from real blood-pool (1) and myocardium (2) labels, e.g. Sunnybrook cine
    contours; when the cine image is given its surroundings are kept (rescaled) as real anatomy."""
    rng = np.random.default_rng(seed)
    array = labels.array
    if image is not None:
        source = image.array.astype(np.float64)
        low, high = np.percentile(source, [1, 99])
        background = 0.05 + 0.45 * np.clip((source - low) / max(high - low, 1e-6), 0, 1)
    else:
        background = TISSUE + 0.06 * _smooth_field(array.shape, (0.5, 8, 8), rng)
    rendered = background.copy()
    blood_level = rng.uniform(0.75, 0.9)
    myocardium_level = rng.uniform(0.05, 0.12)
    rendered[array == 1] = blood_level
    rendered[np.isin(array, (2, 3, 4))] = myocardium_level
    rendered = ndimage.gaussian_filter(rendered, (0.3, 0.6, 0.6))
    rendered *= 1.0 + 0.12 * _smooth_field(array.shape, (2, 30, 30), rng)
    rendered = _rician(rendered, 0.025, rng).astype(np.float32)
    return labels.with_array(rendered, name="LGE-like")
