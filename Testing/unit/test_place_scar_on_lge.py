"""place-scar on a user's own LGE image without a label map: the myocardium segmented first and saved, the
RV insertion point found from the RV blood pool."""

from __future__ import annotations

import numpy as np
import pytest

from synthtrust.cli.main import main
from synthtrust.editing.cardiac import ventricle_frame
from synthtrust.editing.lge_heart import heart_labels_from_prediction, rv_insertion_from_image
from synthtrust.errors import InputError
from synthtrust.imaging.io import load_image, save_image
from synthtrust.phantoms.cardiac import make_lge_phantom


@pytest.mark.parametrize("seed", [0, 3])
def test_the_rv_insertion_point_is_found_between_anterior_and_septum(seed):
    image, labels = make_lge_phantom(seed=seed)  # the phantom's RV lies toward the patient's right (-x)
    point = rv_insertion_from_image(image, labels)
    assert point is not None
    center = np.asarray(ventricle_frame(labels).parameters["axis_point_lps_mm"])
    relative = point - center
    angle = np.degrees(np.arctan2(-relative[0], -relative[1]))  # 0 = anterior (-y), 90 = septal (-x)
    assert 0.0 < angle < 60.0


def test_no_rv_insertion_point_without_an_rv():
    image, labels = make_lge_phantom(seed=1)
    flat = image.with_array(np.where(labels.array == 1, image.array, 0.05).astype(np.float32))
    assert rv_insertion_from_image(flat, labels) is None


def test_a_prediction_without_myocardium_is_refused_with_the_fix():
    _, labels = make_lge_phantom(seed=0)
    with pytest.raises(InputError, match="give the myocardium yourself with --labels"):
        heart_labels_from_prediction(labels.with_array(np.zeros_like(labels.array)), "x.nii.gz")


def test_place_scar_with_only_an_lge_image_segments_the_heart_and_orients_it(tmp_path, capsys):
    image, _ = make_lge_phantom(seed=4)
    save_image(image, tmp_path / "lge.nii.gz")
    out = tmp_path / "scar.nii.gz"
    code = main(["place-scar", "--image", str(tmp_path / "lge.nii.gz"), "--segments", "7", "--transmurality", "0.5",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    heart = load_image(tmp_path / "scar_heart.nii.gz")
    scar = load_image(out)
    assert (heart.array == 2).sum() > 500 and not np.isin(heart.array, (3, 4)).any()
    assert (scar.array == 3).sum() > 0
    assert np.all(np.isin(heart.array[scar.array == 3], (2,)))  # the scar lies in the segmented wall
    assert "myocardium segmented by cardiac-scar" in printed
    assert "AHA orientation: RV insertion point found from the RV blood pool" in printed
    assert (tmp_path / "scar.provenance.json").is_file()


def test_a_scar_sweep_on_an_lge_image_without_labels_segments_the_heart_first(tmp_path, capsys):
    image, _ = make_lge_phantom(seed=4)
    save_image(image, tmp_path / "lge.nii.gz")
    out = tmp_path / "sweep.csv"
    code = main(["sweep", "--task", "cardiac-scar", "--image", str(tmp_path / "lge.nii.gz"), "--segments", "7",
                 "--transmurality", "0.5", "--out", str(out), "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "no --labels: myocardium segmented from the LGE image" in printed
    assert '"placed": 1' in printed
    assert out.is_file()
