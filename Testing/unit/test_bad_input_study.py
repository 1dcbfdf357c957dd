"""The bad-input battery, study part: ``trust-study`` and ``train-segmenter --dataset PATH`` refuse a bad data
set or option with exit 2 and one line, and leave the folder as it was (``refusals.refuse``). Nothing trains."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from dataset_folders import brats_folder, png_slices
from refusals import refuse


def study(real, out, *extra):
    return ["trust-study", "--task", "cardiac-scar", "--real", real, "--out", out, "--iterations", "1", *extra]


def test_a_study_needs_a_synthetic_set_or_an_engine(tmp_path, capfd):
    real = png_slices(tmp_path / "png")
    refuse(capfd, study(real, tmp_path / "out"), tmp_path, "one of the arguments --synthetic --generate")


def test_a_study_refuses_a_data_set_that_does_not_exist(tmp_path, capfd):
    refuse(capfd, study(tmp_path / "nowhere", tmp_path / "out", "--generate", "template"), tmp_path,
           "nowhere does not exist")


def test_a_study_refuses_an_unknown_label_and_writes_nothing(tmp_path, capfd):
    real = png_slices(tmp_path / "png")
    sitk.WriteImage(sitk.GetImageFromArray(np.full((48, 48), 9, np.uint8)),
                    str(real / "trainannot" / "Case_P002_slice001.png"))
    refuse(capfd, study(real, tmp_path / "out", "--generate", "template"), tmp_path, "label(s) [9]",
           "emidec schema")


def test_a_study_refuses_its_data_set_as_the_output_folder(tmp_path, capfd):
    real = png_slices(tmp_path / "png")
    refuse(capfd, study(real, real, "--generate", "template"), tmp_path, "--out", "is the input")


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--alphas", "0,1.5", "--alphas"), ("--seeds", "0", "--seeds"), ("--image-size", "40", "multiple of 16"),
    ("--workers", "0", "--workers"), ("--train-size", "0", "--train-size")])
def test_a_study_refuses_an_option_out_of_range(tmp_path, capfd, option, value, words):
    real = png_slices(tmp_path / "png")
    refuse(capfd, study(real, tmp_path / "out", "--generate", "template", option, value), tmp_path, words)


def test_a_study_refuses_a_ray_address_without_the_ray_executor(tmp_path, capfd):
    real = png_slices(tmp_path / "png")
    refuse(capfd, study(real, tmp_path / "out", "--generate", "template", "--ray-address", "127.0.0.1:6379"),
           tmp_path, "--executor ray")


def test_generating_brain_tumours_is_refused_with_the_alternative(tmp_path, capfd):
    real = brats_folder(tmp_path / "b")
    argv = study(real, tmp_path / "out", "--generate", "template")
    argv[argv.index("--task") + 1] = "brain-tumor"
    refuse(capfd, argv, tmp_path, "pass --synthetic DATASET")


def test_train_segmenter_refuses_a_data_set_case_without_the_channel(tmp_path, capfd):
    real = brats_folder(tmp_path / "b", channels=("flair",))
    argv = ["train-segmenter", "--task", "brain-tumor", "--channels", "flair,t1c", "--dataset", real,
            "--iterations", "1", "--out", tmp_path / "models"]
    refuse(capfd, argv, tmp_path, "has no t1c image", "--channels")
