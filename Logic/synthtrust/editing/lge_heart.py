"""A user's own LGE heart, without a label map: the myocardium from a segmenter, the RV insertion point from
the image.

(No cine-versus-LGE warning yet: the myocardium-to-blood brightness ratio, the obvious test, does not
separate them: 25-47 % on the four Sunnybrook cines, 44 % on the real LGE EMIDEC Case_P100, whose intensities
start near 2000.)

RV insertion (anterior), why from the image: the segmenter labels the LV only, but the RV blood pool is
bright in LGE as in cine. Per slice, voxels brighter than half-way between myocardium and blood pool, outside
the LV and within :data:`RV_SEARCH_MM` of its epicardium, form candidate components; the largest is the RV.
Where it lies against the LV wall spans an arc; the arc's end nearer the patient's anterior direction is the
anterior insertion point (the AHA frame puts it at 30 degrees, the anterior / anteroseptal border).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from synthtrust.editing.cardiac import ANTERIOR_LPS, BLOOD_POOL_LABEL, MYOCARDIUM_LABELS
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image

RV_SEARCH_MM = 25.0
CONTACT_MM = 6.0
MIN_RV_AREA_MM2 = 150.0


def heart_labels_from_prediction(prediction: Image, source: str) -> Image:
    """The blood pool (1) and whole myocardium (2) of a segmenter's EMIDEC prediction: the label map a scar
    is placed in (scar the segmenter found becomes myocardium: the edit draws its own)."""
    array = prediction.array
    if not np.isin(array, MYOCARDIUM_LABELS).any():
        raise InputError(f"the segmenter found no myocardium in {source}; check it is a short-axis LGE stack, "
                         "or give the myocardium yourself with --labels")
    labels = np.where(np.isin(array, MYOCARDIUM_LABELS), 2, np.where(array == BLOOD_POOL_LABEL, 1, 0))
    return prediction.with_array(labels.astype(np.uint8), name="heart labels")


def _slice_rv_contact(image2d: np.ndarray, labels2d: np.ndarray, spacing_yx) -> np.ndarray | None:
    """Pixels of the LV epicardial band that touch the RV blood pool in one slice (None without an RV)."""
    cavity, wall = labels2d == BLOOD_POOL_LABEL, np.isin(labels2d, MYOCARDIUM_LABELS)
    if cavity.sum() < 5 or wall.sum() < 5:
        return None
    threshold = 0.5 * (np.median(image2d[cavity]) + np.median(image2d[wall]))
    heart = cavity | wall
    distance = ndimage.distance_transform_edt(~heart, sampling=spacing_yx)
    candidates = (image2d > threshold) & (distance > 1.0) & (distance <= RV_SEARCH_MM)
    components, count = ndimage.label(candidates)
    if count == 0:
        return None
    near = distance <= CONTACT_MM
    sizes = ndimage.sum(candidates, components, index=np.arange(1, count + 1)) * spacing_yx[0] * spacing_yx[1]
    touching = ndimage.sum(near & candidates, components, index=np.arange(1, count + 1)) > 0
    eligible = np.flatnonzero(touching & (sizes >= MIN_RV_AREA_MM2))
    if eligible.size == 0:
        return None
    rv = components == 1 + eligible[np.argmax(sizes[eligible])]
    grown = ndimage.distance_transform_edt(~rv, sampling=spacing_yx) <= CONTACT_MM
    contact = wall & grown & (ndimage.binary_dilation(heart) & ~ndimage.binary_erosion(heart, iterations=1))
    return contact if contact.sum() >= 3 else None


def rv_insertion_from_image(image: Image, labels: Image) -> np.ndarray | None:
    """The anterior RV insertion point (LPS mm) found from the RV blood pool, or None when no RV is seen."""
    matrix = labels.geometry.ijk_to_lps()
    spacing_yx = labels.spacing_zyx[1:]
    points, angles_all, center_all = [], [], []
    for z in range(labels.array.shape[0]):
        contact = _slice_rv_contact(image.array[z].astype(np.float64), labels.array[z], spacing_yx)
        if contact is None:
            continue
        cj, ci = ndimage.center_of_mass(labels.array[z] == BLOOD_POOL_LABEL)
        center = matrix[:3, :3] @ np.array([ci, cj, z]) + matrix[:3, 3]
        j, i = np.nonzero(contact)
        physical = np.stack([i, j, np.full(len(i), z)], axis=1) @ matrix[:3, :3].T + matrix[:3, 3]
        points.append(physical)
        center_all.append(np.repeat(center[None], len(i), axis=0))
    if not points:
        return None
    points, centers = np.concatenate(points), np.concatenate(center_all)
    # Angles around the LV in the slice plane, measured from the patient's anterior direction.
    normal = labels.geometry.direction_matrix()[:, 2].astype(float)
    anterior = ANTERIOR_LPS - (ANTERIOR_LPS @ normal) * normal
    if np.linalg.norm(anterior) < 0.2:
        anterior = np.array([0.0, 0.0, 1.0]) - normal[2] * normal
    anterior /= np.linalg.norm(anterior)
    side = np.cross(normal, anterior)
    relative = points - centers
    angles_all = np.degrees(np.arctan2(relative @ side, relative @ anterior))
    # The contact arc's two ends: rotate so the arc does not wrap, then take the extremes.
    middle = np.degrees(np.angle(np.mean(np.exp(1j * np.radians(angles_all)))))
    offsets = (angles_all - middle + 180.0) % 360.0 - 180.0
    ends = [int(np.argmin(offsets)), int(np.argmax(offsets))]
    # The anterior insertion: the arc end angularly closer to anterior (0 degrees).
    closer = min(ends, key=lambda k: abs((angles_all[k] + 180.0) % 360.0 - 180.0))
    return points[closer]
