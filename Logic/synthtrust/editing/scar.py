"""Myocardial scar placement by AHA segment, transmurality and extent, with an optional MVO core.

Sample then apply, as every edit: :func:`sample_scar_parameters` records the request and the sampled
irregular-border coefficients; :func:`apply_scar` draws the scar from them deterministically. Scar
grows from the endocardium outwards (infarcts are subendocardial first), never leaves the myocardium,
and MVO sits at the scar's endocardial side, in its centre.
"""

from __future__ import annotations

import numpy as np

from synthtrust.editing.cardiac import MYOCARDIUM_LABELS, segment_center_deg, ventricle_frame
from synthtrust.editing.edit import Edit
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image, require_same_grid
from synthtrust.labels.schema import EMIDEC

SCAR_LABEL = EMIDEC.label_value("scar")
MVO_LABEL = EMIDEC.label_value("MVO")


def _check_fraction(value: float, name: str) -> None:
    if not (0.0 <= value <= 1.0):
        raise InputError(f"{name} {value} is outside 0-1; give a fraction (e.g. 0.5 = half)")


def check_scar_parameters(segments, transmurality: float, extent: float = 1.0, irregularity: float = 0.3,
                          mvo: float = 0.0) -> list[int]:
    """Refuse scar parameters no scar can be drawn from; returns the sorted segments."""
    segments = sorted({int(s) for s in segments})
    if not segments:
        raise InputError("no AHA segment was given; pass at least one of 1-17, e.g. 7,8,13 for the LAD territory")
    bad = [s for s in segments if not 1 <= s <= 17]
    if bad:
        raise InputError(f"AHA segments {bad} do not exist; segments are numbered 1-17")
    for value, name in ((transmurality, "transmurality"), (extent, "extent"), (irregularity, "irregularity"),
                        (mvo, "mvo")):
        _check_fraction(value, name)
    if transmurality == 0 or extent == 0:
        raise InputError("transmurality and extent must be > 0 for a scar to exist")
    return segments


def check_scar_labels(labels: Image, name: str = "cardiac label map", image: Image | None = None) -> None:
    """Refuse a label map a scar cannot be placed in: labels outside EMIDEC, no myocardium, or (``image``
    given) another grid than the image the scar is synthesized into."""
    EMIDEC.validate(labels.array, name)
    if image is not None:
        require_same_grid(image, labels, what=name)
    if not np.isin(labels.array, MYOCARDIUM_LABELS).any():
        raise InputError(f"{name} has no myocardium (EMIDEC label 2); a scar needs a myocardium mask")


def check_scar_request(labels: Image, segments, transmurality, extent: float = 1.0, irregularity: float = 0.3,
                       mvo: float = 0.0, image: Image | None = None, name: str = "cardiac label map") -> None:
    """Everything ``place_scar`` refuses before drawing, for one or several transmurality levels: the one
    check ``place-scar``, ``sweep`` and the worker share, run before any work."""
    levels = transmurality if isinstance(transmurality, (list, tuple)) else [transmurality]
    for level in levels:
        check_scar_parameters(segments, level, extent, irregularity, mvo)
    check_scar_labels(labels, name, image)


def sample_scar_parameters(segments, transmurality: float, extent: float = 1.0, irregularity: float = 0.3,
                           mvo: float = 0.0, seed: int = 0, rv_insertion_mm=None) -> dict:
    """Explicit, JSON-ready scar parameters, with the random border sampled once."""
    segments = check_scar_parameters(segments, transmurality, extent, irregularity, mvo)
    rng = np.random.default_rng(seed)
    waves = lambda: [{"frequency": int(rng.integers(1, 5)), "phase": float(rng.uniform(0, 2 * np.pi)),  # noqa: E731
                      "amplitude": float(rng.normal(0, 0.5))} for _ in range(4)]
    return {"segments": segments, "transmurality": float(transmurality), "extent": float(extent),
            "irregularity": float(irregularity), "mvo": float(mvo), "seed": int(seed),
            "rv_insertion_lps_mm": None if rv_insertion_mm is None else [float(v) for v in rv_insertion_mm],
            "depth_border": waves(), "side_border": waves(), "longitudinal_border": waves()}


def _border(waves: list[dict], angle_deg: np.ndarray, longitudinal: np.ndarray) -> np.ndarray:
    """A smooth random field of angle and longitudinal position (about -1..1)."""
    theta = np.radians(np.nan_to_num(angle_deg))
    t = np.nan_to_num(longitudinal)
    field = np.zeros(theta.shape)
    for wave in waves:
        field += wave["amplitude"] * np.cos(wave["frequency"] * theta + 2.0 * np.pi * t + wave["phase"])
    return field


def apply_scar(labels: Image, parameters: dict) -> np.ndarray:
    """Write scar (3) and MVO (4) into a copy of ``labels`` from ``parameters``."""
    rv = parameters.get("rv_insertion_lps_mm")
    frame = ventricle_frame(labels, None if rv is None else np.asarray(rv))
    from synthtrust.editing.cardiac import aha_segment_of

    segment_map = aha_segment_of(frame.longitudinal, frame.angle_deg, frame.cavity_end)
    irregularity = parameters["irregularity"]
    depth_limit = parameters["transmurality"] * (1.0 + 0.35 * irregularity * _border(
        parameters["depth_border"], frame.angle_deg, frame.longitudinal))
    side = 1.0 + 0.3 * irregularity * _border(parameters["side_border"], frame.angle_deg, frame.longitudinal)
    scar = np.zeros(frame.myocardium.shape, bool)
    core = np.zeros_like(scar)
    for segment in parameters["segments"]:
        center, half_width = segment_center_deg(segment)
        in_segment = segment_map == segment
        if segment == 17:
            angular = np.zeros(scar.shape)
        else:
            # Neighbouring segments' sectors are allowed so an irregular border may cross a boundary a little.
            angular = np.abs((np.nan_to_num(frame.angle_deg) - center + 180.0) % 360.0 - 180.0)
        covered = angular <= parameters["extent"] * half_width * side
        ring = np.isin(segment_map, _same_ring(segment))
        chosen = (in_segment | (ring & covered)) & covered
        within_depth = np.nan_to_num(frame.depth, nan=2.0) <= np.maximum(depth_limit, 0.05)
        scar |= chosen & within_depth & frame.myocardium
        core |= (chosen & (angular <= 0.6 * parameters["extent"] * half_width)
                 & (np.nan_to_num(frame.depth, nan=2.0) <= parameters["mvo"] * np.maximum(depth_limit, 0.05)))
    result = labels.array.copy()
    lesion_free = np.isin(result, (SCAR_LABEL, MVO_LABEL))
    result[lesion_free] = EMIDEC.label_value("myocardium")
    result[scar] = SCAR_LABEL
    if parameters["mvo"] > 0:
        result[scar & core] = MVO_LABEL
    return result


def _same_ring(segment: int) -> list[int]:
    if segment <= 6:
        return list(range(1, 7))
    if segment <= 12:
        return list(range(7, 13))
    if segment <= 16:
        return list(range(13, 17))
    return [17]


def place_scar(labels: Image, segments, transmurality: float, extent: float = 1.0, irregularity: float = 0.3,
               mvo: float = 0.0, seed: int = 0, rv_insertion_mm=None) -> Edit:
    """Place a scar in the given AHA segments of an EMIDEC label map; returns the edit."""
    check_scar_labels(labels)
    parameters = sample_scar_parameters(segments, transmurality, extent, irregularity, mvo, seed, rv_insertion_mm)
    result = apply_scar(labels, parameters)
    if not EMIDEC.lesion_mask(result).any():
        raise InputError(f"no scar voxel fell in AHA segments {parameters['segments']}: the myocardium may not "
                         "cover them (check the slice range) or transmurality/extent are too small")
    return Edit("scar", labels.with_array(result, name="scar labels"), parameters)
