"""Brain tumour placement: necrotic core inside an enhancing rim inside edema, shaped like a glioma.

Two steps, as every edit: :func:`sample_tumor_parameters` turns the request and a seed into explicit
parameters (the lobes, border and rim coefficients, the necrosis shift); :func:`apply_tumor` draws the
label map from those parameters alone, deterministically. Shapes are built in LPS millimetres, so
anisotropic and oblique grids get the requested sizes in mm.

The core is lobulated: a smooth field (a main Gaussian blob plus seeded lobes, stronger with
``irregularity``) thresholded so that the core has the volume of the requested ellipsoid; it need not be
star-shaped. The enhancing rim's thickness varies around the core and is thicker on one seeded side, so
the necrosis sits off-centre. Edema is a shell of irregular thickness around the core. Parameters
recorded before the lobulated core (no ``"shape"``) still replay as the star-shaped tumour they were.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.editing.brain_mask import derive_brain_mask
from synthtrust.editing.edit import Edit
from synthtrust.editing.geometry import (
    box_around,
    evaluate_border_field,
    physical_coordinates,
    sample_border_field,
)
from synthtrust.errors import InputError
from synthtrust.imaging.image import Geometry, Image, require_same_grid
from synthtrust.labels.schema import LabelSchema, brats_schema

# The border may move in or out by at most this fraction of the radius, so the lesion stays star-shaped.
MAX_BORDER_DEVIATION = 0.45
LOBE_SIGMA = 0.5  # of the core blobs, in units of the (lobe's) radius: the field's 1/e^0.5 contour
MAX_LOBES = 6
LOBE_DISTANCE = (0.6, 1.0)  # lobe centres from the tumour centre, in units of the core's radii
LOBE_GAIN = 2.5  # lobes and bumps per unit of irregularity: at the default 0.3 the core's solidity is near
ROUGHNESS = 0.08  # the real gliomas' (about 0.8, docs/performance.md)


def _as_triple(size_mm) -> tuple[float, float, float]:
    values = np.broadcast_to(np.asarray(size_mm, float), (3,))
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InputError(f"tumour size {size_mm} mm must be positive (a diameter, or three diameters x,y,z)")
    return tuple(float(v) for v in values)


def sample_tumor_parameters(center_mm, size_mm, edema_mm: float = 8.0, enhancing_rim_mm: float = 3.0,
                            necrosis: bool = True, irregularity: float = 0.3, seed: int = 0,
                            numbering: int = 2021) -> dict:
    """Explicit, JSON-ready parameters of a tumour (the random border is sampled here, once)."""
    if not 0.0 <= irregularity <= 1.0:
        raise InputError(f"irregularity {irregularity} is outside 0-1 (0 = ellipsoid, 1 = very irregular)")
    if edema_mm < 0 or enhancing_rim_mm <= 0:
        raise InputError(f"edema ({edema_mm} mm) must be >= 0 and the enhancing rim ({enhancing_rim_mm} mm) > 0")
    center = np.asarray(center_mm, float)
    if center.shape != (3,) or not np.all(np.isfinite(center)):
        raise InputError(f"tumour centre {center_mm} must be three finite coordinates in mm")
    rng = np.random.default_rng(seed)
    return {
        "center_lps_mm": [float(v) for v in center],
        "core_radii_mm": [d / 2.0 for d in _as_triple(size_mm)],
        "edema_mm": float(edema_mm),
        "enhancing_rim_mm": float(enhancing_rim_mm),
        "necrosis": bool(necrosis),
        "irregularity": float(irregularity),
        "seed": int(seed),
        "numbering": int(numbering),
        "core_border": sample_border_field(rng),
        "edema_border": sample_border_field(rng),
        "shape": "lobulated",
        "lobes": _sample_lobes(rng),
        "roughness": _sample_roughness(rng),
        "rim_border": sample_border_field(rng),
        "necrosis_shift": [float(v) for v in _unit(rng.standard_normal(3))],
    }


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def _sample_lobes(rng: np.random.Generator) -> list[dict]:
    """Lobes around the main blob: direction, distance and radius in units of the core's radii, weight."""
    return [{"direction": [float(v) for v in _unit(rng.standard_normal(3))],
             "distance": float(rng.uniform(LOBE_DISTANCE[0], LOBE_DISTANCE[1])),
             "radius": float(rng.uniform(0.3, 0.55)), "weight": float(rng.uniform(0.6, 1.0))}
            for _ in range(int(rng.integers(3, MAX_LOBES + 1)))]


def _sample_roughness(rng: np.random.Generator, n_waves: int = 12) -> list[dict]:
    """Plane waves in space (wave vectors in cycles per core radius): the fine bumps of the core border."""
    return [{"wave": [float(v) for v in _unit(rng.standard_normal(3)) * rng.uniform(0.8, 1.6)],
             "phase": float(rng.uniform(0, 2 * np.pi))} for _ in range(n_waves)]


def apply_tumor(geometry: Geometry, parameters: dict, brain_mask: np.ndarray | None) -> np.ndarray:
    """Draw the tumour described by ``parameters`` on ``geometry``; clip to ``brain_mask`` when given."""
    if parameters.get("shape") == "lobulated":
        return _apply_lobulated(geometry, parameters, brain_mask)
    return _apply_star_shaped(geometry, parameters, brain_mask)


def _core_field(normalised: np.ndarray, parameters: dict) -> np.ndarray:
    """The smooth field whose upper level set is the core (coordinates in units of the core's radii)."""
    squared = np.sum(normalised ** 2, axis=-1)
    field = np.exp(-squared / (2 * LOBE_SIGMA ** 2))
    # The bumps fade away from the core, so they shape its border and leave no islands around it.
    envelope = np.exp(-squared / (2 * (1.5 * LOBE_SIGMA) ** 2))
    gain = LOBE_GAIN * parameters["irregularity"]
    for lobe in parameters["lobes"]:
        centre = np.asarray(lobe["direction"]) * lobe["distance"]
        spread = LOBE_SIGMA * lobe["radius"]
        field += gain * lobe["weight"] * np.exp(-np.sum((normalised - centre) ** 2, axis=-1) / (2 * spread ** 2))
    for wave in parameters.get("roughness", []):
        field += gain * ROUGHNESS * envelope * np.cos(2 * np.pi * normalised @ np.asarray(wave["wave"])
                                                      + wave["phase"])
    return field


def _apply_lobulated(geometry: Geometry, parameters: dict, brain_mask: np.ndarray | None) -> np.ndarray:
    schema = brats_schema(parameters["numbering"])
    labels = np.zeros(geometry.shape, np.uint8)
    center = np.asarray(parameters["center_lps_mm"])
    radii = np.asarray(parameters["core_radii_mm"])
    irregularity = parameters["irregularity"]
    edema_reach = parameters["edema_mm"] * (1 + MAX_BORDER_DEVIATION)
    box = box_around(geometry, center, radii.max() * 2.2 + edema_reach + 2)
    if any(s.stop <= s.start for s in box):
        return labels
    spacing = np.asarray(geometry.spacing[::-1], float)
    offset = physical_coordinates(geometry, box) - center
    distance = np.linalg.norm(offset, axis=-1)
    unit = offset / np.maximum(distance, 1e-9)[..., None]
    unit[distance < 1e-9] = (1.0, 0.0, 0.0)
    field = _core_field(offset / radii, parameters)
    # The core keeps the requested ellipsoid's volume: the threshold is the field value at that rank.
    voxels = int(round(4.0 / 3.0 * np.pi * float(np.prod(radii)) / float(np.prod(spacing))))
    values = field.ravel()
    voxels = min(max(voxels, 1), values.size)
    threshold = float(np.partition(values, values.size - voxels)[values.size - voxels])
    core = field >= threshold
    outside = ndimage.distance_transform_edt(~core, sampling=spacing)
    edema_deviation = np.clip(irregularity * evaluate_border_field(parameters["edema_border"], unit),
                              -MAX_BORDER_DEVIATION, MAX_BORDER_DEVIATION)
    # The rim is thicker on the side the necrosis moves away from, and uneven all round.
    rim = parameters["enhancing_rim_mm"] * np.clip(
        1.0 + 0.6 * irregularity * evaluate_border_field(parameters["rim_border"], unit)
        + 1.2 * irregularity * (unit @ np.asarray(parameters["necrosis_shift"])), 0.4, 3.0)
    region = np.zeros(core.shape, np.uint8)
    region[(outside > 0) & (outside <= parameters["edema_mm"] * (1.0 + edema_deviation))] = schema.label_value("ED")
    region[core] = schema.label_value("ET")
    if parameters["necrosis"]:
        depth = ndimage.distance_transform_edt(core, sampling=spacing)
        region[core & (depth > rim)] = schema.label_value("NCR")
    labels[box] = region
    if brain_mask is not None:
        labels[~brain_mask.astype(bool)] = 0
    return labels


def _apply_star_shaped(geometry: Geometry, parameters: dict, brain_mask: np.ndarray | None) -> np.ndarray:
    """The tumour of parameters recorded before the lobulated core: a radial border around an ellipsoid."""
    schema = brats_schema(parameters["numbering"])
    labels = np.zeros(geometry.shape, np.uint8)
    center = np.asarray(parameters["center_lps_mm"])
    radii = np.asarray(parameters["core_radii_mm"])
    irregularity = parameters["irregularity"]
    reach = radii.max() * (1 + MAX_BORDER_DEVIATION) + parameters["edema_mm"] * (1 + MAX_BORDER_DEVIATION) + 2
    box = box_around(geometry, center, reach)
    if any(s.stop <= s.start for s in box):
        return labels
    offset = physical_coordinates(geometry, box) - center
    distance = np.linalg.norm(offset, axis=-1)
    unit = offset / np.maximum(distance, 1e-9)[..., None]
    unit[distance < 1e-9] = (1.0, 0.0, 0.0)  # the centre voxel: any direction will do
    # Radius of the core's ellipsoid along each voxel's direction, then the irregular border on top.
    ellipsoid_radius = 1.0 / np.sqrt(np.sum((unit / radii) ** 2, axis=-1))
    deviation = np.clip(irregularity * evaluate_border_field(parameters["core_border"], unit),
                        -MAX_BORDER_DEVIATION, MAX_BORDER_DEVIATION)
    core_radius = ellipsoid_radius * (1.0 + deviation)
    edema_deviation = np.clip(irregularity * evaluate_border_field(parameters["edema_border"], unit),
                              -MAX_BORDER_DEVIATION, MAX_BORDER_DEVIATION)
    edema_radius = core_radius + parameters["edema_mm"] * (1.0 + edema_deviation)
    region = np.zeros(distance.shape, np.uint8)
    region[distance <= edema_radius] = schema.label_value("ED")
    region[distance <= core_radius] = schema.label_value("ET")
    if parameters["necrosis"]:
        region[distance <= core_radius - parameters["enhancing_rim_mm"]] = schema.label_value("NCR")
    labels[box] = region
    if brain_mask is not None:
        labels[~brain_mask.astype(bool)] = 0
    return labels


def check_tumor_request(image: Image, center_mm, size_mm, edema_mm: float = 8.0, enhancing_rim_mm: float = 3.0,
                        necrosis: bool = True, irregularity: float = 0.3, seed: int = 0,
                        brain_mask: Image | None = None, schema: LabelSchema | None = None) -> tuple[dict, Image]:
    """Everything ``place_tumor`` refuses before drawing (schema, brain mask grid, parameters, a centre outside
    the image or the brain): the one check ``place-tumor``, ``sweep`` and the worker share, run before any work.
    Returns the sampled parameters and the brain mask (derived from the image when not given)."""
    schema = schema or brats_schema(2021)
    numbering = {"brats": 2021, "brats2015": 2015, "brats2023": 2023}.get(schema.name)
    if numbering is None:
        raise InputError(f"tumours are written in a BraTS schema, not {schema.name!r}; use brats, brats2015 or "
                         "brats2023")
    if brain_mask is None:
        brain_mask = derive_brain_mask(image)
    else:
        require_same_grid(image, brain_mask, what="brain mask")
    parameters = sample_tumor_parameters(center_mm, size_mm, edema_mm, enhancing_rim_mm, necrosis, irregularity,
                                         seed, numbering)
    _check_center(image.geometry, np.asarray(parameters["center_lps_mm"]), brain_mask.array.astype(bool))
    return parameters, brain_mask


def place_tumor(image: Image, center_mm, size_mm, edema_mm: float = 8.0, enhancing_rim_mm: float = 3.0,
                necrosis: bool = True, irregularity: float = 0.3, seed: int = 0, brain_mask: Image | None = None,
                schema: LabelSchema | None = None) -> Edit:
    """Place a tumour centred at ``center_mm`` (LPS) with core diameter ``size_mm``; returns the edit."""
    parameters, brain_mask = check_tumor_request(image, center_mm, size_mm, edema_mm, enhancing_rim_mm, necrosis,
                                                 irregularity, seed, brain_mask, schema)
    labels = apply_tumor(image.geometry, parameters, brain_mask.array)
    if not labels.any():
        raise InputError("the tumour is empty after clipping to the brain mask; move the centre into the brain "
                         "or enlarge the tumour")
    return Edit("tumor", image.with_array(labels, name="tumour labels"), parameters)


def _check_center(geometry: Geometry, center: np.ndarray, brain: np.ndarray) -> None:
    index = geometry.physical_to_index(center)
    size = np.asarray(geometry.size)
    if np.any(index < -0.5) or np.any(index > size - 0.5):
        corner = geometry.index_to_physical(size - 1)
        raise InputError(
            f"tumour centre {tuple(round(float(c), 1) for c in center)} (LPS mm) is outside the image, which spans "
            f"{tuple(round(float(o), 1) for o in geometry.origin)} to {tuple(round(float(c), 1) for c in corner)} "
            "(LPS mm); pick a point inside it (the CLI takes RAS by default, as 3D Slicer shows)")
    i, j, k = np.clip(np.round(index).astype(int), 0, size - 1)
    if not brain[k, j, i]:
        raise InputError(f"tumour centre {tuple(round(float(c), 1) for c in center)} (LPS mm) is outside the brain "
                         "mask; pick a point inside the brain or pass a brain mask")
