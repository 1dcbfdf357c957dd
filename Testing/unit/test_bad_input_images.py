"""The bad-input battery, image cases: every broken image a command can be given is refused through the
real CLI with exit 2 and one line naming the file, the bad value and the fix; nothing is written, no input
changes, and ITK's own console output never reaches the terminal (``refuse`` reads the C-level stderr).

The broken files are written byte by byte (``bad_images``) because SimpleITK refuses to write them or
repairs them on the way out.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from bad_images import (
    nifti1_bytes,
    nifti2_bytes,
    set_dicom_pixel_spacing,
    write_dicom_series,
    write_metaimage,
    write_nifti,
    write_nrrd,
)
from refusals import refuse

from synthtrust.cli.main import main

SHAPE = (8, 10, 12)  # numpy (z, y, x)


def brain(rng) -> np.ndarray:
    return (rng.random(SHAPE) * 100).astype(np.float32)


def with_nan(array: np.ndarray) -> np.ndarray:
    broken = array.copy()
    broken[1, 2, 3:5] = np.nan
    broken[4, 4, 4] = np.inf
    return broken


def write_good(path: Path, array: np.ndarray) -> Path:
    """A valid file written by SimpleITK (spacing 1 mm, identity direction), for the other inputs."""
    sitk.WriteImage(sitk.GetImageFromArray(array), str(path))
    return path


def lesion() -> np.ndarray:
    labels = np.zeros(SHAPE, np.uint8)
    labels[3:6, 4:7, 4:8] = 2
    labels[4, 5, 5:7] = 4
    return labels


def segment(image: Path, folder: Path) -> list:
    return ["segment", "--image", image, "--channels", "t1", "--task", "brain-tumor", "--out",
            folder / "prediction.nii.gz"]


def evaluate(reference: Path, prediction: Path, folder: Path) -> list:
    return ["evaluate", "--reference", reference, "--prediction", prediction, "--schema", "brats", "--json",
            folder / "metrics.json"]


def place_tumor(image: Path, folder: Path) -> list:
    return ["place-tumor", "--image", image, "--center=0,0,0", "--size", "10", "--coordinates", "voxel",
            "--out", folder / "tumour.nii.gz"]


def synthesize(image: Path, labels: Path, folder: Path) -> list:
    return ["synthesize", "--engine", "template", "--image", image, "--modalities", "t1", "--lesion", labels,
            "--schema", "brats", "--out", folder / "synthetic"]


# --- non-finite voxels --------------------------------------------------------------------------------


def test_segment_refuses_nan_voxels_in_a_float32_nifti_that_itk_would_read_as_zero(tmp_path, capfd, rng):
    image = write_nifti(tmp_path / "t1.nii", nifti1_bytes(with_nan(brain(rng))))
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.nii", "3 NaN or infinite voxels", "replace them")


def test_segment_refuses_infinite_voxels_in_a_compressed_float64_nifti(tmp_path, capfd, rng):
    data = with_nan(brain(rng)).astype(np.float64)
    image = write_nifti(tmp_path / "t1.nii.gz", nifti1_bytes(data))
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.nii.gz", "3 NaN or infinite voxels")


def test_place_tumor_refuses_nan_voxels_in_an_nrrd(tmp_path, capfd, rng):
    image = write_nrrd(tmp_path / "t1.nrrd", with_nan(brain(rng)))
    refuse(capfd, place_tumor(image, tmp_path), tmp_path, "t1.nrrd", "3 NaN or infinite voxels")


def test_synthesize_refuses_nan_voxels_behind_a_detached_nrrd_header(tmp_path, capfd, rng):
    image = write_nrrd(tmp_path / "t1.nhdr", with_nan(brain(rng)))
    labels = write_good(tmp_path / "lesion.nrrd", lesion())
    refuse(capfd, synthesize(image, labels, tmp_path), tmp_path, "t1.nhdr", "NaN or infinite voxels")


def test_evaluate_refuses_a_float_label_map_holding_nan(tmp_path, capfd):
    reference = write_nifti(tmp_path / "reference.nii", nifti1_bytes(with_nan(lesion().astype(np.float32))))
    prediction = write_good(tmp_path / "prediction.nii.gz", lesion())
    refuse(capfd, evaluate(reference, prediction, tmp_path), tmp_path, "reference.nii", "NaN or infinite")


def test_synthesize_refuses_a_lesion_label_map_with_nan(tmp_path, capfd, rng):
    image = write_good(tmp_path / "t1.nii.gz", brain(rng))
    labels = write_nifti(tmp_path / "lesion.nii.gz", nifti1_bytes(with_nan(lesion().astype(np.float32))))
    refuse(capfd, synthesize(image, labels, tmp_path), tmp_path, "lesion.nii.gz", "NaN or infinite voxels")


def test_evaluate_refuses_nan_voxels_in_a_nifti2_file(tmp_path, capfd):
    reference = write_good(tmp_path / "reference.nii.gz", lesion())
    prediction = write_nifti(tmp_path / "prediction.nii", nifti2_bytes(with_nan(lesion().astype(np.float64))))
    refuse(capfd, evaluate(reference, prediction, tmp_path), tmp_path, "prediction.nii", "NaN or infinite")


def test_place_tumor_refuses_an_infinite_intensity_scale(tmp_path, capfd, rng):
    image = write_nifti(tmp_path / "t1.nii", nifti1_bytes(brain(rng), scl_slope=float("inf"), scl_inter=0.0))
    refuse(capfd, place_tumor(image, tmp_path), tmp_path, "t1.nii", "scl_slope inf", "set scl_slope to 0")


# --- spacing -----------------------------------------------------------------------------------------


def test_place_tumor_refuses_a_zero_pixdim_that_itk_would_read_as_one_millimetre(tmp_path, capfd, rng):
    image = write_nifti(tmp_path / "t1.nii.gz", nifti1_bytes(brain(rng), (1.0, 0.0, 1.0)))
    refuse(capfd, place_tumor(image, tmp_path), tmp_path, "t1.nii.gz", "pixdim", "axis 2 is 0", "voxel size")


def test_segment_refuses_a_negative_pixdim(tmp_path, capfd, rng):
    image = write_nifti(tmp_path / "t1.nii.gz", nifti1_bytes(brain(rng), (1.0, 1.0, -1.0)))
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.nii.gz", "axis 3 is -1", "finite and > 0")


def test_evaluate_refuses_a_nan_pixdim(tmp_path, capfd):
    reference = write_good(tmp_path / "reference.nii.gz", lesion())
    prediction = write_nifti(tmp_path / "prediction.nii.gz", nifti1_bytes(lesion(), (float("nan"), 1.0, 1.0)))
    refuse(capfd, evaluate(reference, prediction, tmp_path), tmp_path, "prediction.nii.gz", "axis 1 is nan")


def test_synthesize_refuses_zero_nrrd_spacings(tmp_path, capfd, rng):
    image = write_nrrd(tmp_path / "t1.nrrd", brain(rng), spacings="1 0 1")
    labels = write_good(tmp_path / "lesion.nrrd", lesion())
    refuse(capfd, synthesize(image, labels, tmp_path), tmp_path, "t1.nrrd", "NRRD spacing 0 on axis 1")


def test_evaluate_refuses_a_zero_length_nrrd_space_direction(tmp_path, capfd):
    reference = write_nrrd(tmp_path / "reference.nrrd", lesion(), directions="(1,0,0) (0,0,0) (0,0,1)")
    prediction = write_good(tmp_path / "prediction.nrrd", lesion())
    refuse(capfd, evaluate(reference, prediction, tmp_path), tmp_path, "reference.nrrd",
           "zero-length NRRD space direction on axis 1")


def test_segment_refuses_a_metaimage_with_zero_spacing(tmp_path, capfd, rng):
    image = write_metaimage(tmp_path / "t1.mha", brain(rng), spacing="1 0 1")
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.mha", "ElementSpacing (1, 0, 1)")


def test_segment_refuses_a_dicom_series_whose_zero_pixel_spacing_gdcm_would_read_as_one_millimetre(tmp_path, capfd):
    series = tmp_path / "series"
    series.mkdir()
    files = write_dicom_series(series, np.arange(4 * 6 * 5).reshape(4, 6, 5))
    set_dicom_pixel_spacing(files[0], "0\\.7")
    refuse(capfd, segment(series, tmp_path), tmp_path, "slice0.dcm", 'Pixel Spacing "0\\.7"', "> 0")


# --- origin and orientation ----------------------------------------------------------------------------


def test_synthesize_refuses_a_nan_sform_without_printing_itk_output(tmp_path, capfd, rng):
    srow = [float("nan")] + [0.0] * 11
    image = write_nifti(tmp_path / "t1.nii.gz", nifti1_bytes(brain(rng), srow=srow))
    labels = write_good(tmp_path / "lesion.nii.gz", lesion())
    refuse(capfd, synthesize(image, labels, tmp_path), tmp_path, "t1.nii.gz", "non-finite sform", "orientation")


def test_place_tumor_refuses_a_nan_qform(tmp_path, capfd, rng):
    data = nifti1_bytes(brain(rng), qform_code=1, sform_code=0, quatern=(0.0, 0.0, 0.0, float("nan"), 0.0, 0.0))
    image = write_nifti(tmp_path / "t1.nii", data)
    refuse(capfd, place_tumor(image, tmp_path), tmp_path, "t1.nii", "non-finite qform")


def test_segment_refuses_a_nan_nrrd_origin_that_itk_would_read_as_zero(tmp_path, capfd, rng):
    image = write_nrrd(tmp_path / "t1.nrrd", brain(rng), origin="(nan,0,0)")
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.nrrd", "non-finite NRRD space origin (nan, 0, 0)")


def test_evaluate_refuses_a_metaimage_with_a_nan_offset_that_itk_would_read_as_zero(tmp_path, capfd):
    reference = write_good(tmp_path / "reference.mha", lesion())
    prediction = write_metaimage(tmp_path / "prediction.mha", lesion(), offset="nan 0 0")
    refuse(capfd, evaluate(reference, prediction, tmp_path), tmp_path, "prediction.mha", "Offset (nan, 0, 0)")


def test_place_tumor_refuses_skewed_nrrd_axes_naming_the_file(tmp_path, capfd, rng):
    image = write_nrrd(tmp_path / "t1.nrrd", brain(rng), directions="(1,0,0) (1,1,0) (0,0,1)")
    refuse(capfd, place_tumor(image, tmp_path), tmp_path, "t1.nrrd", "is not a rotation")


def test_segment_refuses_a_singular_sform_in_one_line(tmp_path, capfd, rng):
    image = write_nifti(tmp_path / "t1.nii", nifti1_bytes(brain(rng), srow=[0.0] * 12))
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.nii", "cannot read image file", "direction cosines")


# --- files that are not (whole) images -----------------------------------------------------------------


def test_segment_refuses_a_truncated_compressed_nifti(tmp_path, capfd, rng):
    whole = gzip.compress(nifti1_bytes((rng.random((30, 40, 40)) * 100).astype(np.float32)))
    image = tmp_path / "t1.nii.gz"
    image.write_bytes(whole[: len(whole) // 2])
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.nii.gz", "truncated or corrupt")


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_place_tumor_refuses_an_uncompressed_nifti_cut_short_that_itk_would_fill_with_zeros(tmp_path, capfd, rng,
                                                                                         dtype):
    image = tmp_path / "t1.nii"
    image.write_bytes(nifti1_bytes(brain(rng).astype(dtype))[:-100])
    refuse(capfd, place_tumor(image, tmp_path), tmp_path, "t1.nii", "is truncated", "bytes of voxels", "(12x10x8)")


def test_synthesize_refuses_an_nrrd_cut_short_with_itks_reason_in_one_line(tmp_path, capfd, rng):
    image = write_nrrd(tmp_path / "t1.nrrd", brain(rng))
    image.write_bytes(image.read_bytes()[:-100])
    labels = write_good(tmp_path / "lesion.nrrd", lesion())
    refuse(capfd, synthesize(image, labels, tmp_path), tmp_path, "cannot read voxels of", "t1.nrrd", "fread got only")


def test_evaluate_refuses_a_metaimage_cut_short_saying_what_itk_printed_not_its_errno(tmp_path, capfd):
    reference = write_good(tmp_path / "reference.nii.gz", lesion())
    prediction = write_metaimage(tmp_path / "prediction.mha", lesion())
    prediction.write_bytes(prediction.read_bytes()[:-40])
    message = refuse(capfd, evaluate(reference, prediction, tmp_path), tmp_path, "prediction.mha",
                     "data not read completely")
    assert "No such file or directory" not in message


def test_evaluate_refuses_an_empty_file(tmp_path, capfd):
    reference = write_good(tmp_path / "reference.nii.gz", lesion())
    prediction = tmp_path / "prediction.nii.gz"
    prediction.write_bytes(b"")
    refuse(capfd, evaluate(reference, prediction, tmp_path), tmp_path, "prediction.nii.gz", "empty (0 bytes)")


def test_place_tumor_refuses_a_file_that_is_not_an_image(tmp_path, capfd):
    image = tmp_path / "t1.nii.gz"
    image.write_bytes(gzip.compress(b"these are my notes, not a brain"))
    refuse(capfd, place_tumor(image, tmp_path), tmp_path, "t1.nii.gz", "cannot read image file")


def test_segment_refuses_a_four_dimensional_file(tmp_path, capfd):
    image = tmp_path / "t1.nii.gz"
    sitk.WriteImage(sitk.Image([6, 6, 6, 2], sitk.sitkFloat32), str(image))
    refuse(capfd, segment(image, tmp_path), tmp_path, "t1.nii.gz", "4 dimensions", "one 3D file per channel")


def test_synthesize_refuses_vector_pixels(tmp_path, capfd):
    image = tmp_path / "t1.nrrd"
    sitk.WriteImage(sitk.Image([6, 6, 6], sitk.sitkVectorFloat32, 3), str(image))
    labels = write_good(tmp_path / "lesion.nrrd", np.zeros((6, 6, 6), np.uint8))
    refuse(capfd, synthesize(image, labels, tmp_path), tmp_path, "t1.nrrd", "3 components per voxel")


def test_synthesize_refuses_a_nifti2_file_that_itk_cannot_read_with_the_conversion_to_make(tmp_path, capfd, rng):
    image = write_nifti(tmp_path / "t1.nii", nifti2_bytes(brain(rng)))
    labels = write_good(tmp_path / "lesion.nii.gz", lesion())
    refuse(capfd, synthesize(image, labels, tmp_path), tmp_path, "t1.nii", "NIfTI-2", "convert it to NIfTI-1")


# --- what a valid run writes is strict JSON ------------------------------------------------------------


def _refuse_constant(name: str):
    raise AssertionError(f"{name} is not JSON")


def test_evaluate_json_with_an_empty_region_is_strict_json_naming_its_policy(tmp_path, capfd):
    labels = np.zeros(SHAPE, np.uint8)
    labels[3:6, 4:7, 4:8] = 2  # edema only: NCR, ET and TC are empty in both maps
    reference = write_good(tmp_path / "reference.nii.gz", labels)
    prediction = write_good(tmp_path / "prediction.nii.gz", labels)
    assert main([str(a) for a in evaluate(reference, prediction, tmp_path)]) == 0
    result = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    et = result["regions"]["ET"]
    assert et["empty"] == "both" and et["dice"] == 1.0
    assert et["relative_volume_difference"] is None  # undefined with an empty reference: null, not NaN
    assert "relative_volume_difference when the reference mask is empty" in result["undefined_values"]
    assert result["empty_policy"]["name"] == "brats" and "both masks empty" in result["empty_policy"]["description"]


@pytest.mark.parametrize("name", ["t1.nii.gz", "t1.nrrd"])
def test_a_valid_file_beside_the_broken_ones_still_runs(tmp_path, capfd, rng, name):
    """The checks refuse broken headers, not ordinary ones (SimpleITK-written, nibabel-style NaN slope)."""
    image = write_good(tmp_path / name, brain(rng))
    labels = write_good(tmp_path / "lesion.nii.gz", lesion())
    assert main([str(a) for a in synthesize(image, labels, tmp_path)]) == 0
    assert (tmp_path / "synthetic").is_dir()
