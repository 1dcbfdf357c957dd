"""Image container, geometry (LPS/RAS) and validated, atomic file IO."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from bad_images import nifti1_bytes, nifti2_bytes, write_metaimage, write_nifti, write_nrrd

from conftest import shared_file
from synthtrust import provenance
from synthtrust.errors import InputError
from synthtrust.imaging import headers, io, itk_console
from synthtrust.imaging.image import Geometry, Image, require_same_grid, stack_channels

OBLIQUE = (0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0)


def make_image(rng, shape=(6, 7, 8), spacing=(0.8, 0.9, 2.5), direction=OBLIQUE, dtype=np.float32) -> Image:
    return Image.from_array((rng.random(shape) * 100).astype(dtype), spacing, (10.0, -5.0, 3.0), direction, "t")


def test_geometry_maps_voxels_to_lps_and_ras_consistently(rng):
    image = make_image(rng)
    point = image.geometry.index_to_physical((1, 2, 3))
    assert np.allclose(image.geometry.physical_to_index(point), (1, 2, 3))
    ras = image.geometry.ijk_to_ras() @ np.array([1, 2, 3, 1.0])
    assert np.allclose(ras[:3], [-point[0], -point[1], point[2]])
    back = Geometry.from_ijk_to_ras(image.geometry.ijk_to_ras(), image.geometry.size)
    assert back.matches(image.geometry)


def test_geometry_refuses_zero_or_non_finite_spacing():
    with pytest.raises(InputError, match="spacing"):
        Geometry((4, 4, 4), (1.0, 0.0, 1.0))
    with pytest.raises(InputError, match="spacing"):
        Geometry((4, 4, 4), (1.0, float("nan"), 1.0))


def test_image_refuses_arrays_that_are_not_three_dimensional():
    with pytest.raises(InputError, match="3D"):
        Image.from_array(np.zeros((4, 4)))


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".nii"])
def test_saved_images_load_back_with_identical_voxels_and_geometry(tmp_path, rng, suffix):
    image = make_image(rng)
    path = io.save_image(image, tmp_path / f"image{suffix}")
    loaded = io.load_image(path)
    assert np.array_equal(loaded.array, image.array)
    assert loaded.geometry.matches(image.geometry)


def test_a_dicom_series_folder_loads_as_one_volume(tmp_path, rng):
    image = make_image(rng, shape=(4, 6, 5), spacing=(0.7, 0.7, 3.0), direction=None, dtype=np.int16)
    volume = io.to_sitk(image)
    for k in range(volume.GetSize()[2]):
        slice_image = volume[:, :, k]
        origin = volume.TransformIndexToPhysicalPoint((0, 0, k))
        for tag, value in {"0008|0060": "MR", "0020|000d": "1.2.3", "0020|000e": "1.2.3.4",
                           "0020|0013": str(k + 1), "0020|0032": "\\".join(map(str, origin)),
                           "0020|0037": "1\\0\\0\\0\\1\\0", "0028|0030": "0.7\\0.7",
                           "0018|0050": "3.0"}.items():
            slice_image.SetMetaData(tag, value)
        writer = sitk.ImageFileWriter()
        writer.KeepOriginalImageUIDOn()
        writer.SetFileName(str(tmp_path / f"slice{k}.dcm"))
        writer.Execute(slice_image)
    loaded = io.load_image(tmp_path)
    assert loaded.array.shape == image.array.shape
    assert np.array_equal(loaded.array, image.array)
    assert np.allclose(loaded.spacing, (0.7, 0.7, 3.0), atol=1e-3)


def test_nan_voxels_are_refused_with_the_count_and_the_fix(tmp_path, rng):
    image = make_image(rng)
    image.array[0, 0, :3] = np.nan
    path = tmp_path / "nan.nrrd"  # NRRD keeps NaN (NIfTI via SimpleITK would turn it into 0)
    sitk.WriteImage(io.to_sitk(image), str(path))
    with pytest.raises(InputError, match="3 NaN or infinite voxels"):
        io.load_image(path)


@pytest.mark.parametrize("dtype", [np.float32, np.int16])  # float voxels are scanned raw, integers are not
def test_a_truncated_compressed_file_is_refused_rather_than_read_as_garbage(tmp_path, rng, dtype):
    path = io.save_image(make_image(rng, shape=(20, 30, 30), dtype=dtype), tmp_path / "whole.nii.gz")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.nii.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        io.load_image(truncated)


def test_a_corrupt_voxel_offset_is_refused_as_truncated_without_a_huge_read(tmp_path):
    data = bytearray(nifti1_bytes(np.zeros((4, 4, 4), np.float32)))
    data[108:112] = np.float32(1e15).tobytes()  # vox_offset far past the end of the file
    path = tmp_path / "t1.nii"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="holds 0 of the 256 bytes of voxels"):
        io.load_image(path)


def test_a_file_that_is_not_an_image_is_refused_with_its_name(tmp_path):
    path = tmp_path / "notes.nii.gz"
    path.write_bytes(gzip.compress(b"this is not an image"))
    with pytest.raises(InputError, match="notes.nii.gz"):
        io.load_image(path)
    with pytest.raises(InputError, match="does not exist"):
        io.load_image(tmp_path / "missing.nrrd")


def test_four_dimensional_files_are_refused_with_the_fix(tmp_path):
    path = tmp_path / "four_d.nii.gz"
    sitk.WriteImage(sitk.Image([4, 4, 4, 2], sitk.sitkFloat32), str(path))
    with pytest.raises(InputError, match="one 3D file per channel"):
        io.load_image(path)


def test_an_image_too_large_for_memory_is_refused_before_loading(tmp_path, rng, monkeypatch):
    path = io.save_image(make_image(rng), tmp_path / "image.nrrd")
    monkeypatch.setattr(io, "available_memory_bytes", lambda: 100)
    with pytest.raises(InputError, match="needs about .* GiB of memory"):
        io.load_image(path)


def test_channels_on_different_grids_are_refused_naming_both_geometries(tmp_path, rng):
    first = io.save_image(make_image(rng), tmp_path / "a.nii.gz")
    second = io.save_image(make_image(rng, spacing=(1.0, 1.0, 1.0)), tmp_path / "b.nii.gz")
    with pytest.raises(InputError) as error:
        io.load_channels([first, second])
    assert "spacing 1x1x1 mm" in str(error.value) and "spacing 0.8x0.9x2.5 mm" in str(error.value)


def test_stacking_channels_gives_channel_first_float32(rng):
    image = make_image(rng)
    stacked = stack_channels([image, image.copy()])
    assert stacked.shape == (2,) + image.array.shape and stacked.dtype == np.float32
    require_same_grid(image, image.copy())


def test_a_failed_write_leaves_no_partial_file(tmp_path, rng, monkeypatch):
    def failing_write(*args, **kwargs):
        with open(args[1], "wb") as handle:
            handle.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(sitk, "WriteImage", failing_write)
    with pytest.raises(RuntimeError):
        io.save_image(make_image(rng), tmp_path / "out.nii.gz")
    assert os.listdir(tmp_path) == []


def test_written_files_get_ordinary_permissions_not_private_ones(tmp_path, rng):
    umask = os.umask(0o022)
    try:
        path = io.save_image(make_image(rng), tmp_path / "image.nii.gz")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


# --- images are read as they are or refused (raw headers checked before ITK repairs them) ------------


def test_the_test_files_written_byte_by_byte_are_what_nibabel_reads(tmp_path, rng):
    """The bad-file builders are honest: a valid file from them reads the same in nibabel and in ITK."""
    nibabel = pytest.importorskip("nibabel")
    array = (rng.random((4, 5, 6)) * 100).astype(np.float32)
    path = write_nifti(tmp_path / "ok.nii.gz", nifti1_bytes(array, (0.5, 0.7, 2.0)))
    loaded = nibabel.load(path)
    assert np.array_equal(np.asarray(loaded.dataobj).T, array)
    assert np.allclose(loaded.header.get_zooms(), (0.5, 0.7, 2.0))
    assert np.array_equal(io.load_image(path).array, array)
    assert nibabel.load(write_nifti(tmp_path / "two.nii", nifti2_bytes(array))).header["sizeof_hdr"] == 540


def test_the_raw_header_reader_agrees_with_nibabel_on_a_big_endian_file(tmp_path, rng):
    nibabel = pytest.importorskip("nibabel")
    array = (rng.random((4, 5, 6)) * 100).astype(">f4")
    array[0, 0, 0] = np.nan
    image = nibabel.Nifti1Image(array.T, np.diag([0.5, 0.7, 2.0, 1.0]), nibabel.Nifti1Header(endianness=">"))
    path = tmp_path / "big_endian.nii"
    nibabel.save(image, path)
    header = headers.read_nifti_header(path)
    assert header.endian == ">" and header.version == 1
    assert np.allclose(header.pixdim[1:4], (0.5, 0.7, 2.0))
    assert headers.scan_nifti_voxels(path, header).non_finite == 1
    with pytest.raises(InputError, match="1 NaN or infinite voxels"):
        io.load_image(path)


def test_nibabels_nan_scale_slope_means_no_scaling_and_is_read(tmp_path, rng):
    """nibabel (and so nilearn's MNI template) writes scl_slope = NaN for "no scaling": not an error."""
    array = (rng.random((4, 5, 6)) * 100).astype(np.float32)
    path = write_nifti(tmp_path / "t1.nii", nifti1_bytes(array, scl_slope=float("nan")))
    assert np.array_equal(io.load_image(path).array, array)
    broken = write_nifti(tmp_path / "scaled.nii", nifti1_bytes(array, scl_slope=2.0, scl_inter=np.nan))
    with pytest.raises(InputError, match="scl_inter nan"):
        io.load_image(broken)


def test_a_vector_axis_may_have_nan_spacing_as_nrrd_allows(tmp_path):
    path = write_nrrd(tmp_path / "vectors.nrrd", np.zeros((3, 4, 4, 4), np.float32),
                          spacings="nan 1 1 1", extra=("kinds: vector domain domain domain",))
    with pytest.raises(InputError, match="components per voxel"):  # refused for what it is, not its spacing
        io.load_image(path)


def test_itk_output_is_kept_off_the_terminal_and_becomes_the_one_line_message(tmp_path, rng, capfd, monkeypatch):
    """With the raw check bypassed, ITK itself meets a NaN sform: it prints C++ text and fails; the user
    sees only our message, carrying ITK's reason."""
    path = write_nifti(tmp_path / "t1.nii", nifti1_bytes(make_image(rng).array, srow=[np.nan] + [0.0] * 11))
    monkeypatch.setattr(io, "check_raw_header", lambda path: None)
    capfd.readouterr()
    with pytest.raises(InputError) as error:
        io.load_image(path)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert "t1.nii" in str(error.value) and "direction cosines" in str(error.value)
    assert len(str(error.value).splitlines()) == 1


def test_quiet_native_stderr_captures_what_c_code_writes_to_file_descriptor_2(capfd):
    capfd.readouterr()
    with itk_console.quiet_native_stderr() as printed:
        os.write(2, b"ERROR: first\nsitk::ERROR: the reason\n\n")
    assert capfd.readouterr().err == ""
    assert printed.reason() == "the reason"
    os.write(2, b"after\n")  # fd 2 is restored
    assert capfd.readouterr().err == "after\n"


def test_redirections_from_two_threads_take_turns_so_stderr_survives(capfd):
    """fd 2 is process-wide: a second thread redirecting it mid-way would restore the first one's temporary
    file and lose stderr for good."""
    inside, release, order = threading.Event(), threading.Event(), []

    def first():
        with itk_console.quiet_native_stderr():
            order.append("first in")
            inside.set()
            release.wait(5)
            order.append("first out")

    def second():
        inside.wait(5)
        with itk_console.quiet_native_stderr():
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # time for the second thread to try to enter
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first in", "first out", "second in"]
    capfd.readouterr()
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_a_compressed_file_is_read_exactly_even_beside_an_uncompressed_namesake(tmp_path, rng):
    """ITK's NIfTI library, given x.nii.gz, took the voxels from a sibling x.nii (float bytes as int16)."""
    floats = (rng.random((4, 5, 6)) * 100).astype(np.float32)
    integers = np.arange(120, dtype=np.int16).reshape(4, 5, 6)
    write_nifti(tmp_path / "scan.nii", nifti1_bytes(floats))
    compressed = write_nifti(tmp_path / "scan.nii.gz", nifti1_bytes(integers))
    assert np.array_equal(io.load_image(compressed).array, integers)
    assert np.array_equal(io.load_image(tmp_path / "scan.nii").array, floats)
    assert sorted(os.listdir(tmp_path)) == ["scan.nii", "scan.nii.gz"]


def test_without_symlinks_the_namesake_guard_reads_a_copy(tmp_path, monkeypatch):
    integers = np.arange(120, dtype=np.int16).reshape(4, 5, 6)
    write_nifti(tmp_path / "scan.nii", nifti1_bytes(integers.astype(np.float32) * 2))
    compressed = write_nifti(tmp_path / "scan.nii.gz", nifti1_bytes(integers))

    def no_symlinks(self, target):
        raise OSError("symbolic links are not allowed here")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    assert np.array_equal(io.load_image(compressed).array, integers)


def test_an_nrrd_origin_that_is_not_numbers_is_refused_naming_the_file(tmp_path):
    path = write_nrrd(tmp_path / "t1.nrrd", np.zeros((4, 4, 4), np.float32), origin="(a,b,c)")
    with pytest.raises(InputError, match="t1.nrrd has an NRRD space vector that is not numbers"):
        io.load_image(path)


def test_a_metaimage_nan_offset_is_refused_rather_than_read_as_zero(tmp_path):
    path = write_metaimage(tmp_path / "t1.mha", np.zeros((4, 4, 4), np.float32), offset="0 nan 0")
    with pytest.raises(InputError, match=r"MetaImage Offset \(0, nan, 0\), which must be finite"):
        io.load_image(path)
    assert io.load_image(write_metaimage(tmp_path / "ok.mha", np.ones((4, 4, 4), np.float32))).array.sum() == 64


def test_what_itk_reports_is_checked_for_formats_without_a_raw_check():
    with pytest.raises(InputError, match="spacing"):
        io.check_reported_geometry("DICOM series s", (0.7, 0.7, 0.0), (0, 0, 0), OBLIQUE)
    with pytest.raises(InputError, match="non-finite origin"):
        io.check_reported_geometry("DICOM series s", (0.7, 0.7, 3.0), (0, float("nan"), 0), OBLIQUE)


# --- JSON written by the core is strict JSON -----------------------------------------------------------


def test_written_json_holds_null_for_undefined_numbers_and_parses_strictly(tmp_path):
    def refuse_constant(name):
        raise AssertionError(f"{name} in the file")

    data = {"dice": float("nan"), "hd95": np.float32("inf"), "values": np.array([1.0, np.nan]), "n": np.int64(3)}
    path = provenance.write_json(data, tmp_path / "metrics.json")
    assert json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse_constant) == {
        "dice": None, "hd95": None, "values": [1.0, None], "n": 3}


def test_json_that_cannot_be_written_leaves_no_file(tmp_path):
    with pytest.raises(TypeError):
        provenance.write_json({"thing": object()}, tmp_path / "out.json")
    assert os.listdir(tmp_path) == []


@pytest.mark.integration
@pytest.mark.parametrize("parts", [("nilearn_mni152", "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"),
                                   ("emidec_Case_P100", "Case_P100_image.nii.gz"),
                                   ("pyradiomics", "brain1_image.nrrd")])
def test_real_images_pass_the_checks_unchanged(parts):
    """Real files (nibabel's NaN slope in the MNI template, EMIDEC's scaled sform, an NRRD) are not refused,
    and the checks change nothing in what ITK reads."""
    path = shared_file(*parts)
    loaded = io.load_image(path)
    bare = sitk.ReadImage(str(path))
    assert np.array_equal(loaded.array, sitk.GetArrayFromImage(bare))
    assert np.allclose(loaded.spacing, bare.GetSpacing())
