"""AHA 17 segments and scar placement on an analytic left ventricle (short-axis stack, thick slices)."""

from __future__ import annotations

import numpy as np
import pytest

from synthtrust.editing.cardiac import aha_segments, ventricle_frame
from synthtrust.editing.scar import apply_scar, place_scar
from synthtrust.errors import InputError
from synthtrust.phantoms.cardiac import make_lge_phantom


@pytest.fixture(scope="module")
def ventricle():
    return make_lge_phantom(seed=11)[1]


def test_all_seventeen_segments_cover_the_myocardium(ventricle):
    segments = aha_segments(ventricle).array
    myocardium = ventricle.array == 2
    assert set(np.unique(segments[myocardium])) == set(range(1, 18))
    assert np.all(segments[~myocardium] == 0)


def test_segments_go_around_each_ring_in_aha_order(ventricle):
    frame = ventricle_frame(ventricle)
    segments = aha_segments(ventricle).array
    for ring in (range(1, 7), range(7, 13), range(13, 17)):
        angles = [np.nanmedian(np.where(segments == s, frame.angle_deg, np.nan)) for s in ring]
        assert np.all(np.diff(angles) > 0), angles


def test_the_septum_faces_the_right_ventricle_by_default(ventricle):
    frame = ventricle_frame(ventricle)
    assert frame.parameters["septal_lps"][0] < -0.9  # toward the patient's right (-x in LPS)


def test_transmurality_keeps_scar_on_the_endocardial_side(ventricle):
    edit = place_scar(ventricle, [8, 9], transmurality=0.3, extent=1.0, irregularity=0.0)
    frame = ventricle_frame(ventricle)
    scar = np.isin(edit.labels.array, (3, 4))
    assert scar.any()
    assert np.nanpercentile(frame.depth[scar], 95) <= 0.45
    transmural = place_scar(ventricle, [8, 9], transmurality=1.0, extent=1.0, irregularity=0.0)
    assert np.isin(transmural.labels.array, (3, 4)).sum() > 2 * scar.sum()


def test_scar_never_leaves_the_myocardium_and_mvo_sits_inside_scar(ventricle):
    edit = place_scar(ventricle, [1, 7, 13], transmurality=0.8, extent=0.9, mvo=0.5, seed=4)
    labels = edit.labels.array
    assert np.all(ventricle.array[np.isin(labels, (3, 4))] == 2)
    assert (labels == 4).any()
    assert np.array_equal(labels == 1, ventricle.array == 1)


def test_a_scar_replays_exactly_from_its_parameters(ventricle):
    edit = place_scar(ventricle, [4, 10], transmurality=0.6, extent=0.7, irregularity=0.5, seed=9)
    assert np.array_equal(apply_scar(ventricle, edit.parameters), edit.labels.array)


def test_an_rv_insertion_point_rotates_the_segments(ventricle):
    frame = ventricle_frame(ventricle)
    centre = np.asarray(frame.parameters["axis_point_lps_mm"])
    septal = np.asarray(frame.parameters["septal_lps"])
    rotated = aha_segments(ventricle, rv_insertion_mm=centre + 30 * septal).array  # RV point at 90 deg
    default = aha_segments(ventricle).array
    assert not np.array_equal(rotated, default)


def test_bad_scar_requests_are_refused_with_the_fix(ventricle):
    with pytest.raises(InputError, match="1-17"):
        place_scar(ventricle, [18], 0.5)
    with pytest.raises(InputError, match="transmurality"):
        place_scar(ventricle, [1], 1.5)
    with pytest.raises(InputError, match="myocardium"):
        place_scar(ventricle.with_array(np.zeros_like(ventricle.array)), [1], 0.5)
