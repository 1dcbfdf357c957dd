"""Bad input to place-scar on a user's LGE: exit 2, one line naming the problem and the fix, nothing written."""

from __future__ import annotations

import numpy as np
from refusals import refuse

from synthtrust.imaging.image import Image
from synthtrust.imaging.io import save_image
from synthtrust.phantoms.cardiac import make_lge_phantom


def test_place_scar_without_labels_or_image_is_refused(capfd, tmp_path):
    refuse(capfd, ["place-scar", "--segments", "7", "--out", tmp_path / "scar.nii.gz"], tmp_path,
           "give --labels", "or --image")


def test_place_scar_with_a_missing_image_is_refused(capfd, tmp_path):
    refuse(capfd, ["place-scar", "--image", tmp_path / "absent.nii.gz", "--segments", "7", "--out",
                   tmp_path / "scar.nii.gz"], tmp_path, "absent.nii.gz")


def test_place_scar_on_an_image_of_another_grid_than_its_labels_is_refused(capfd, tmp_path):
    image, labels = make_lge_phantom(seed=0)
    cropped = Image.from_array(image.array[:, :64], image.spacing, image.geometry.origin, name="lge")
    save_image(cropped, tmp_path / "lge.nii.gz")
    save_image(labels, tmp_path / "labels.nii.gz")
    refuse(capfd, ["place-scar", "--image", tmp_path / "lge.nii.gz", "--labels", tmp_path / "labels.nii.gz",
                   "--segments", "7", "--out", tmp_path / "scar.nii.gz"], tmp_path, "grid")


def test_place_scar_with_a_bad_segment_is_refused_before_any_segmentation(capfd, tmp_path):
    image, _ = make_lge_phantom(seed=0)
    save_image(image.with_array(image.array.astype(np.float32)), tmp_path / "lge.nii.gz")
    refuse(capfd, ["place-scar", "--image", tmp_path / "lge.nii.gz", "--segments", "18", "--out",
                   tmp_path / "scar.nii.gz"], tmp_path, "18")
