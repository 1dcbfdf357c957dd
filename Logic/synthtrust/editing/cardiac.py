"""Left-ventricle geometry from a label map: long axis, wall depth and the AHA 17-segment map.

Long axis: the line through the blood pool's centroids slice by slice (short-axis stacks), falling back
to the principal axis of myocardium + blood pool; it points from base to apex (the apex is the end where
the cavity closes). Wall depth (transmural position): 0 at the endocardium, 1 at the epicardium, from
in-plane distances to the cavity and to the outside, measured perpendicular to the long axis.

Circumferential angle, without an RV insertion point (the documented default): 0 deg = the patient's
anterior direction projected onto the short-axis plane, 90 deg = the septum, taken as the patient's
right (where the RV lies in standard anatomy), 180 deg inferior, 270 deg lateral. With the anterior RV
insertion point, the frame is rotated so that the point lies at 30 deg, the anterior/anteroseptal border.
Segments (AHA, Cerqueira et al. 2002): basal 1-6 and mid 7-12 are 60 deg sectors centred at 0, 60, 120,
180, 240, 300 deg (anterior, anteroseptal, inferoseptal, inferior, inferolateral, anterolateral);
apical 13-16 are 90 deg sectors centred at 0, 90, 180, 270 deg (anterior, septal, inferior, lateral);
17 is the apical cap beyond the end of the cavity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image

MYOCARDIUM_LABELS = (2, 3, 4)
BLOOD_POOL_LABEL = 1
ANTERIOR_LPS = np.array([0.0, -1.0, 0.0])
PATIENT_RIGHT_LPS = np.array([-1.0, 0.0, 0.0])


@dataclass
class VentricleFrame:
    """Per-voxel coordinates of the myocardium in the LV's own frame (arrays on the image grid)."""

    myocardium: np.ndarray  # bool
    longitudinal: np.ndarray  # 0 at the base .. 1 at the apex, NaN outside the myocardium
    cavity_end: float  # longitudinal position where the cavity closes (the apical cap starts)
    angle_deg: np.ndarray  # 0..360 circumferential angle, NaN outside
    depth: np.ndarray  # 0 endocardium .. 1 epicardium, NaN outside
    parameters: dict


def _axis_from_centroids(points_per_slice: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    centroids = np.array([p.mean(axis=0) for p in points_per_slice if len(p)])
    if len(centroids) < 3:
        return None
    center = centroids.mean(axis=0)
    _, _, vectors = np.linalg.svd(centroids - center)
    return center, vectors[0]


def _principal_axis(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    center = points.mean(axis=0)
    _, _, vectors = np.linalg.svd(points - center, full_matrices=False)
    return center, vectors[0]


def _in_plane_frame(axis: np.ndarray, rv_insertion: np.ndarray | None, center: np.ndarray):
    """Orthonormal (anterior, septal) vectors in the short-axis plane and the angle offset (deg)."""
    anterior = ANTERIOR_LPS - (ANTERIOR_LPS @ axis) * axis
    if np.linalg.norm(anterior) < 0.2:  # long axis nearly antero-posterior: fall back to superior
        anterior = np.array([0.0, 0.0, 1.0]) - axis[2] * axis
    anterior /= np.linalg.norm(anterior)
    septal = PATIENT_RIGHT_LPS - (PATIENT_RIGHT_LPS @ axis) * axis - (PATIENT_RIGHT_LPS @ anterior) * anterior
    if np.linalg.norm(septal) < 1e-6:
        septal = np.cross(axis, anterior)
    septal /= np.linalg.norm(septal)
    offset = 0.0
    if rv_insertion is not None:
        relative = np.asarray(rv_insertion, float) - center
        offset = float(np.degrees(np.arctan2(relative @ septal, relative @ anterior))) - 30.0
    return anterior, septal, offset


def ventricle_frame(labels: Image, rv_insertion_mm=None) -> VentricleFrame:
    """Long axis, longitudinal position, angle and wall depth of every myocardium voxel."""
    array = labels.array
    myocardium = np.isin(array, MYOCARDIUM_LABELS)
    if not myocardium.any():
        raise InputError("the label map has no myocardium (EMIDEC labels 2, 3 or 4); segment the LV wall first")
    cavity = array == BLOOD_POOL_LABEL
    matrix = labels.geometry.ijk_to_lps()
    k, j, i = np.nonzero(myocardium | cavity)
    points = np.stack([i, j, k], axis=1) @ matrix[:3, :3].T + matrix[:3, 3]
    axis_source = "principal axis of myocardium and blood pool"
    fitted = None
    if cavity.any():
        ck, cj, ci = np.nonzero(cavity)
        cavity_points = np.stack([ci, cj, ck], axis=1) @ matrix[:3, :3].T + matrix[:3, 3]
        fitted = _axis_from_centroids([cavity_points[ck == z] for z in np.unique(ck)])
    thin = len(np.unique(k)) < 3
    if fitted is not None:
        center, axis = fitted
        axis_source = "line through the blood pool's slice centroids"
    elif thin:
        # One or two slices: a point cloud that flat has its principal axis in-plane, so the long axis is
        # taken as the slice normal (short-axis stacks are acquired perpendicular to it).
        center, axis = points.mean(axis=0), labels.geometry.direction_matrix()[:, 2].astype(float)
        axis_source = "slice normal (fewer than 3 slices)"
    else:
        center, axis = _principal_axis(points)
    # Orient base -> apex: the apex is the end where the cavity is narrower (or absent).
    projection = (points - center) @ axis
    is_cavity = cavity[k, j, i]
    low, high = projection.min(), projection.max()
    if thin:
        # Each slice stands for the slab it was acquired from: a single slice lies mid-way along the axis
        # (mid-ventricular segments 7-12), two slices at a quarter and three quarters of it.
        half_slab = 0.5 * labels.geometry.spacing[2]
        low, high = low - half_slab, high + half_slab
    cavity_projection = projection[is_cavity] if is_cavity.any() else projection
    if np.mean(cavity_projection) - (low + high) / 2 > 0:  # cavity sits toward +axis: +axis is basal
        axis, projection = -axis, -projection
        low, high = -high, -low
    length = max(high - low, 1e-6)
    cavity_end = 1.0
    if is_cavity.any():
        cavity_top = float(np.max(projection[is_cavity])) + (half_slab if thin else 0.0)
        cavity_end = min((cavity_top - low) / length, 1.0)
    anterior, septal, offset = _in_plane_frame(axis, rv_insertion_mm, center)

    mk, mj, mi = np.nonzero(myocardium)
    myo_points = np.stack([mi, mj, mk], axis=1) @ matrix[:3, :3].T + matrix[:3, 3]
    relative = myo_points - center
    angle = (np.degrees(np.arctan2(relative @ septal, relative @ anterior)) - offset) % 360.0
    longitudinal = ((relative @ axis) - low) / length

    def field(values):
        out = np.full(array.shape, np.nan)
        out[mk, mj, mi] = values
        return out

    depth = _wall_depth(labels, myocardium, cavity)
    parameters = {"axis_lps": [float(v) for v in axis], "axis_point_lps_mm": [float(v) for v in center],
                  "axis_source": axis_source, "anterior_lps": [float(v) for v in anterior],
                  "septal_lps": [float(v) for v in septal], "angle_offset_deg": offset,
                  "orientation": "RV insertion point" if rv_insertion_mm is not None else "default (see docs)",
                  "cavity_end": cavity_end}
    return VentricleFrame(myocardium, field(longitudinal), cavity_end, field(angle), depth, parameters)


def _wall_depth(labels: Image, myocardium: np.ndarray, cavity: np.ndarray) -> np.ndarray:
    """0 at the endocardium .. 1 at the epicardium, from in-slice distance transforms (the wall is
    measured across, not along, the stack; thick LGE slices make through-plane distances meaningless)."""
    depth = np.full(myocardium.shape, np.nan)
    in_plane = labels.spacing_zyx[1:]
    for z in range(myocardium.shape[0]):
        wall = myocardium[z]
        if not wall.any():
            continue
        inside = cavity[z]
        if not inside.any():  # apical slice without cavity: the centre of the wall stands in for it
            inside = np.zeros_like(wall)
            cy, cx = np.round(ndimage.center_of_mass(wall)).astype(int)
            inside[cy, cx] = True
        to_endocardium = ndimage.distance_transform_edt(~inside, sampling=in_plane)
        outside = ~(wall | inside | ndimage.binary_fill_holes(wall | inside))
        to_epicardium = ndimage.distance_transform_edt(~outside, sampling=in_plane) if outside.any() else None
        if to_epicardium is None:
            depth[z][wall] = 0.5
            continue
        total = to_endocardium + to_epicardium
        depth[z][wall] = np.clip((to_endocardium[wall] - 0.5 * in_plane[0]) / np.maximum(total[wall] - in_plane[0], 1e-6), 0, 1)
    return depth


def aha_segment_of(longitudinal: np.ndarray, angle_deg: np.ndarray, cavity_end: float) -> np.ndarray:
    """AHA segment numbers (1-17; 0 where undefined) from longitudinal position and angle."""
    segments = np.zeros(longitudinal.shape, np.uint8)
    valid = np.isfinite(longitudinal)
    third = cavity_end / 3.0
    basal = valid & (longitudinal < third)
    mid = valid & (longitudinal >= third) & (longitudinal < 2 * third)
    apical = valid & (longitudinal >= 2 * third) & (longitudinal <= cavity_end)
    apex = valid & (longitudinal > cavity_end)
    sector6 = (np.floor(((np.nan_to_num(angle_deg) + 30.0) % 360.0) / 60.0)).astype(int)
    sector4 = (np.floor(((np.nan_to_num(angle_deg) + 45.0) % 360.0) / 90.0)).astype(int)
    segments[basal] = 1 + sector6[basal]
    segments[mid] = 7 + sector6[mid]
    segments[apical] = 13 + sector4[apical]
    segments[apex] = 17
    return segments


def segment_center_deg(segment: int) -> tuple[float, float]:
    """(centre angle, half width) of an AHA segment's sector, in degrees (17: the whole circle)."""
    if 1 <= segment <= 12:
        return ((segment - 1) % 6) * 60.0, 30.0
    if 13 <= segment <= 16:
        return (segment - 13) * 90.0, 45.0
    if segment == 17:
        return 0.0, 180.0
    raise InputError(f"AHA segment {segment} does not exist; segments are numbered 1-17")


def aha_segments(labels: Image, rv_insertion_mm=None) -> Image:
    """The AHA 17-segment map (values 1-17 on the myocardium, 0 elsewhere); the frame is in metadata."""
    frame = ventricle_frame(labels, rv_insertion_mm)
    segments = aha_segment_of(frame.longitudinal, frame.angle_deg, frame.cavity_end)
    result = labels.with_array(segments, name="AHA segments")
    result.metadata["aha_frame"] = frame.parameters
    return result
