"""Domain-randomised LGE training images rendered from label maps (the SynthSeg idea, Billot et al. 2023):
a network that sees random contrasts learns the heart's shape, not one scanner's intensities.

Sample then apply, as every random operation here: :func:`sample_rendering` draws every random choice of
one training slice into a JSON-ready dict, :func:`render_slice` turns an anatomy slice and that dict into
an image and its training labels, deterministically.

Rendering classes beyond the EMIDEC labels (never training targets; they become background 0): the RV blood
pool and wall, epicardial fat, lungs and other tissue, drawn by the rules in :func:`add_surroundings`.
Contrast is either LGE-typical (bright blood, nulled myocardium, scar 2-10 SD above remote myocardium or as
bright as blood, dark MVO, a grey border zone) or fully random per class. Bright subendocardial scar that
touches the cavity is the case networks get wrong (they take it for blood pool and move the endocardial
border outwards), so it is drawn often.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.training.lge_anatomies import Anatomy

# Rendering classes: 0-4 are EMIDEC (background, blood pool, myocardium, scar, MVO); the rest are background.
RV_BLOOD, RV_WALL, FAT, LUNG, TISSUE_A, TISSUE_B, CINE = 5, 6, 7, 8, 9, 10, 11
CLASS_COUNT = 12
PATCH = 128
WORKING_SPACING_MM = 1.5


def _smooth_noise(shape, sigma: float, rng: np.random.Generator) -> np.ndarray:
    factor = max(int(sigma / 2), 1)  # a smooth field is drawn on a coarser grid (same look, far cheaper)
    coarse = [max(int(np.ceil(n / factor)), 1) for n in shape]
    field = ndimage.gaussian_filter(rng.standard_normal(coarse), sigma / factor)
    if factor > 1:
        field = ndimage.zoom(field, [n / c for n, c in zip(shape, coarse, strict=True)], order=1)[:shape[0], :shape[1]]
    return field / max(float(np.abs(field).max()), 1e-9)


def add_surroundings(labels: np.ndarray, spacing_mm: float, rng: np.random.Generator,
                     keep_background: bool = False) -> np.ndarray:
    """Rendering classes for one slice: the EMIDEC labels plus, by rule, an RV crescent against the septum
    (a random side: patches are rotated anyway), its thin wall, patchy epicardial fat, lungs and tissue
    blobs. ``keep_background`` marks the background as :data:`CINE` (the real cine image is shown there)."""
    classes = labels.astype(np.uint8).copy()
    heart = labels > 0
    if keep_background:
        classes[~heart] = CINE
        return classes
    ny, nx = labels.shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    cy, cx = ndimage.center_of_mass(heart)
    radius = np.sqrt(heart.sum() / np.pi)
    # Tissue blobs: a random Voronoi partition into tissue classes and lungs, then clutter: small round bright
    # and dark structures (vessels, bowel, fat), the things a network must learn are not a ventricle.
    seeds = rng.uniform(0, 1, (int(rng.integers(12, 60)), 2)) * [ny, nx]
    kinds = rng.choice([TISSUE_A, TISSUE_B, LUNG, FAT], size=len(seeds), p=[0.4, 0.3, 0.2, 0.1])
    # On a 4x coarser grid (a 60-seed partition of a full slice is otherwise the slowest step of rendering).
    cy4, cx4 = yy[::4, ::4], xx[::4, ::4]
    distance = (cy4[..., None] - seeds[:, 0]) ** 2 + (cx4[..., None] - seeds[:, 1]) ** 2
    coarse = kinds[np.argmin(distance, axis=-1)].astype(np.uint8)
    background = np.repeat(np.repeat(coarse, 4, axis=0), 4, axis=1)[:ny, :nx]
    for _ in range(int(rng.integers(0, 25))):
        by, bx = rng.uniform(0, ny), rng.uniform(0, nx)
        size_y, size_x = rng.uniform(2, 14, 2) / spacing_mm
        blob = ((yy - by) / size_y) ** 2 + ((xx - bx) / size_x) ** 2 <= 1.0
        background[blob] = rng.choice([RV_BLOOD, RV_WALL, FAT, LUNG, TISSUE_A, TISSUE_B])
    classes[~heart] = background[~heart]
    # The RV: an ellipse beside the LV, minus the LV and a 1-pixel gap that becomes its wall.
    angle = rng.uniform(0, 2 * np.pi)
    distance_rv = radius * rng.uniform(1.0, 1.5)
    ry, rx = cy + distance_rv * np.sin(angle), cx + distance_rv * np.cos(angle)
    along, across = radius * rng.uniform(0.9, 1.6), radius * rng.uniform(0.45, 0.9)
    u = (yy - ry) * np.sin(angle) + (xx - rx) * np.cos(angle)
    v = -(yy - ry) * np.cos(angle) + (xx - rx) * np.sin(angle)
    rv = (u / across) ** 2 + (v / along) ** 2 <= 1.0
    lv_zone = ndimage.binary_dilation(heart, iterations=1)
    rv_blood = rv & ~lv_zone
    if rng.random() < 0.85 and rv_blood.any():
        wall_px = max(1, int(round(rng.uniform(2.0, 4.0) / spacing_mm)))
        rv_wall = ndimage.binary_dilation(rv_blood, iterations=wall_px) & ~rv_blood & ~heart
        classes[rv_wall] = RV_WALL
        classes[rv_blood] = RV_BLOOD
    # Epicardial fat: bright in LGE, right against the myocardium, in random sectors.
    if rng.random() < 0.7:
        ring = ndimage.binary_dilation(heart, iterations=int(rng.integers(1, 4))) & ~heart & (classes != RV_BLOOD)
        sector = np.cos(np.arctan2(yy - cy, xx - cx) - rng.uniform(0, 2 * np.pi)) > rng.uniform(-0.5, 0.7)
        classes[ring & sector] = FAT
    return classes


def sample_rendering(rng: np.random.Generator, pool_size: int, has_cine: bool) -> dict:
    """Every random choice of one rendered slice, JSON-ready (the provenance of a training sample)."""
    lge = rng.random() < 0.65
    if lge:
        blood = rng.uniform(0.55, 1.0)
        myocardium = rng.uniform(0.0, 0.15)
        texture = rng.uniform(0.005, 0.05)
        if rng.random() < 0.5:  # bright scar, as bright as the blood pool: the hard case
            scar = blood * rng.uniform(0.85, 1.15)
        else:
            scar = myocardium + rng.uniform(2.0, 10.0) * (texture + 0.02)
        levels = {0: rng.uniform(0.1, 0.5), 1: blood, 2: myocardium, 3: scar,
                  4: myocardium + rng.uniform(0.0, 0.1), RV_BLOOD: blood * rng.uniform(0.7, 1.05),
                  RV_WALL: rng.uniform(0.0, 0.3), FAT: rng.uniform(0.4, 1.0), LUNG: rng.uniform(0.0, 0.08),
                  TISSUE_A: rng.uniform(0.1, 0.6), TISSUE_B: rng.uniform(0.05, 0.7)}
        if rng.random() < 0.4:
            # Compressed LGE, as in the EMIDEC images: myocardium only a little darker than blood, the chest
            # around it at the myocardium's level, scar as bright as blood (a poorly nulled acquisition).
            myocardium = blood - rng.uniform(0.08, 0.3)
            scar = blood * rng.uniform(0.9, 1.15) if rng.random() < 0.7 else myocardium + rng.uniform(0.1, 0.3)
            levels.update({0: myocardium + rng.uniform(-0.15, 0.1), 2: myocardium, 3: scar,
                           4: myocardium + rng.uniform(0.0, 0.15), RV_WALL: myocardium + rng.uniform(-0.1, 0.1),
                           TISSUE_A: myocardium + rng.uniform(-0.2, 0.15),
                           TISSUE_B: myocardium + rng.uniform(-0.2, 0.25)})
            texture = rng.uniform(0.02, 0.07)
    else:
        levels = {k: rng.uniform(0, 1) for k in range(CLASS_COUNT - 1)}
        texture = rng.uniform(0.005, 0.08)
        # The classes the network must tell apart keep some contrast (equal intensities carry no signal).
        for a, b in ((2, 1), (3, 2), (4, 3)):
            if abs(levels[a] - levels[b]) < 0.15:
                levels[a] = (levels[b] + rng.choice([-1, 1]) * rng.uniform(0.15, 0.5)) % 1.0
    return {
        "contrast": "LGE-typical" if lge else "random",
        "anatomy": int(rng.integers(pool_size)),
        "slice_fraction": float(rng.random()),
        "levels": {str(k): float(v) for k, v in levels.items()},
        "texture_sd": float(texture),
        "real_surroundings": bool(has_cine and rng.random() < 0.6),
        "surroundings_lut": [float(v) for v in rng.uniform(0, 1, 6)] if rng.random() < 0.5 else None,
        "zero_border_px": int(rng.integers(0, 30)) if rng.random() < 0.3 else 0,
        "surroundings_seed": int(rng.integers(2**31)),
        "zoom": float(np.exp(rng.uniform(np.log(0.75), np.log(1.35)))),
        "rotation_deg": float(rng.uniform(0, 360)),
        "flip": bool(rng.random() < 0.5),
        "offset_mm": [float(v) for v in rng.uniform(-45, 45, 2)],
        "border_zone_px": float(rng.uniform(0.3, 1.5)),
        "neighbour_weight": float(rng.uniform(0.0, 0.35)) if rng.random() < 0.3 else 0.0,
        "low_resolution": float(rng.uniform(1.0, 1.6)),
        "blur_px": float(rng.uniform(0.0, 0.9)),
        "bias": float(rng.uniform(0.0, 0.4)),
        "noise_sd": float(rng.uniform(0.005, 0.07)),
        "gamma": float(np.exp(rng.normal(0.0, 0.25))),
        "noise_seed": int(rng.integers(2**31)),
    }


def _patch_transform(shape, spacing_mm: float, parameters: dict, center_yx) -> tuple[np.ndarray, np.ndarray]:
    """Matrix and offset mapping patch pixels to source pixels (for ``ndimage.affine_transform``)."""
    theta = np.radians(parameters["rotation_deg"])
    scale = WORKING_SPACING_MM * parameters["zoom"] / spacing_mm
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) * scale
    if parameters["flip"]:
        rotation = rotation @ np.diag([1.0, -1.0])
    offset_px = np.asarray(parameters["offset_mm"]) / spacing_mm
    source_center = np.asarray(center_yx) + offset_px
    patch_center = np.array([(PATCH - 1) / 2.0] * 2)
    return rotation, source_center - rotation @ patch_center


def _intensities(classes: np.ndarray, levels: dict, texture_sd: float, rng: np.random.Generator,
                 cine: np.ndarray | None) -> np.ndarray:
    image = np.zeros(classes.shape, np.float64)
    for value, level in levels.items():
        image[classes == int(value)] = level
    if cine is not None:
        image[classes == CINE] = cine[classes == CINE]
    image += texture_sd * _smooth_noise(classes.shape, rng.uniform(0.7, 3.0), rng)
    return image


def render_slice(anatomy: Anatomy, parameters: dict) -> tuple[np.ndarray, np.ndarray]:
    """One ``PATCH`` x ``PATCH`` training image (float32, about 0-1) at :data:`WORKING_SPACING_MM` and its
    EMIDEC labels (uint8), from an anatomy and :func:`sample_rendering`'s parameters."""
    rng = np.random.default_rng(parameters["noise_seed"])
    slices = [z for z in range(anatomy.labels.shape[0]) if np.isin(anatomy.labels[z], (2, 3, 4)).any()]
    z = slices[min(int(parameters["slice_fraction"] * len(slices)), len(slices) - 1)]
    spacing = anatomy.spacing_yx[0]
    real = parameters["real_surroundings"] and anatomy.cine is not None
    cine = None
    if real:
        source = anatomy.cine[z].astype(np.float64)
        low, high = np.percentile(source, [1, 99.5])
        cine = np.clip((source - low) / max(high - low, 1e-6), 0, 1) ** rng.uniform(0.6, 1.6)
        if parameters.get("surroundings_lut"):  # a random, not necessarily monotone, remapping of real anatomy
            knots = np.asarray(parameters["surroundings_lut"])
            cine = np.interp(cine, np.linspace(0, 1, len(knots)), knots)
    surroundings_rng = np.random.default_rng(parameters["surroundings_seed"])
    classes = add_surroundings(anatomy.labels[z], spacing, surroundings_rng, keep_background=real)
    image = _intensities(classes, parameters["levels"], parameters["texture_sd"], rng, cine)
    # Scar: a heterogeneous core, and a grey border zone where it meets remote myocardium.
    scar = np.isin(classes, (3, 4))
    if scar.any():
        wall = np.isin(classes, (2, 3, 4))
        soft = ndimage.gaussian_filter(scar.astype(float), parameters["border_zone_px"])
        myocardium_level = parameters["levels"]["2"]
        target = np.where(classes == 4, parameters["levels"]["4"], parameters["levels"]["3"])
        core = 1.0 + 0.15 * _smooth_noise(classes.shape, 1.5, rng)
        blended = myocardium_level + (target * core - myocardium_level) * np.where(scar, np.maximum(soft, 0.6), soft)
        image[wall] = blended[wall] + parameters["texture_sd"] * rng.standard_normal(int(wall.sum()))
    neighbour_weight = parameters["neighbour_weight"]
    if neighbour_weight > 0:  # through-plane partial volume of a thick slice
        nz = int(np.clip(z + rng.choice([-1, 1]), 0, anatomy.labels.shape[0] - 1))
        neighbour = add_surroundings(anatomy.labels[nz], spacing, np.random.default_rng(parameters["surroundings_seed"]),
                                     keep_background=real)
        neighbour_cine = None
        if real:
            neighbour_cine = cine
        image = (1 - neighbour_weight) * image + neighbour_weight * _intensities(
            neighbour, parameters["levels"], parameters["texture_sd"], rng, neighbour_cine)
    center = ndimage.center_of_mass(anatomy.labels[z] > 0)
    matrix, offset = _patch_transform(classes.shape, spacing, parameters, center)
    # Reflected surroundings beyond the source's edge: a constant fill would draw a straight border to learn.
    patch = ndimage.affine_transform(image, matrix, offset, output_shape=(PATCH, PATCH), order=1, mode="reflect")
    labels = ndimage.affine_transform(np.where(classes <= 4, classes, 0).astype(np.uint8), matrix, offset,
                                      output_shape=(PATCH, PATCH), order=0, mode="constant", cval=0)
    # Acquisition: lower in-plane resolution, blur, bias field, Rician noise, gamma.
    factor = parameters["low_resolution"]
    if factor > 1.05:
        small = ndimage.zoom(ndimage.gaussian_filter(patch, 0.4 * factor), 1.0 / factor, order=1)
        patch = ndimage.zoom(small, np.array(patch.shape) / np.array(small.shape), order=1)
    if parameters["blur_px"] > 0.05:
        patch = ndimage.gaussian_filter(patch, parameters["blur_px"])
    patch = patch * np.exp(parameters["bias"] * _smooth_noise(patch.shape, 30.0, rng))
    sd = parameters["noise_sd"]
    patch = np.sqrt((patch + rng.normal(0, sd, patch.shape)) ** 2 + rng.normal(0, sd, patch.shape) ** 2)
    patch = np.clip(patch / max(float(np.percentile(patch, 99.5)), 1e-6), 0, 1.5) ** parameters["gamma"]
    border = parameters.get("zero_border_px", 0)
    if border:  # zero padding, as reconstructed images often have (the normalisation ignores zeros)
        side = int(np.random.default_rng(parameters["noise_seed"] + 1).integers(4))
        region = [slice(None), slice(None)]
        region[side % 2] = slice(0, border) if side < 2 else slice(PATCH - border, PATCH)
        patch[tuple(region)] = 0.0
    return patch.astype(np.float32), labels


def render_batch(pool: list[Anatomy], count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list]:
    """``count`` rendered slices (N, PATCH, PATCH), their labels, and each one's sampled parameters."""
    images, labels, records = [], [], []
    for _ in range(count):
        parameters = sample_rendering(rng, len(pool), has_cine=True)
        anatomy = pool[parameters["anatomy"]]
        image, label = render_slice(anatomy, parameters)
        images.append(image)
        labels.append(label)
        records.append(parameters)
    return np.stack(images), np.stack(labels), records
