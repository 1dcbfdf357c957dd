"""Image files with broken headers or voxels, written byte by byte (SimpleITK refuses to write them, or
repairs them on the way out), for the image-reading tests and the bad-input battery.

Arrays are numpy ``(z, y, x)``; files store x fastest, as NIfTI, NRRD and MetaImage all do.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

NIFTI_TYPES = {np.dtype("uint8"): 2, np.dtype("int16"): 4, np.dtype("int32"): 8, np.dtype("float32"): 16,
               np.dtype("float64"): 64}
NRRD_TYPES = {np.dtype("uint8"): "uchar", np.dtype("int16"): "short", np.dtype("float32"): "float",
              np.dtype("float64"): "double"}
NAN = float("nan")


def _srow(spacing) -> list[float]:
    sx, sy, sz = spacing
    return [sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, sz, 0]


def nifti1_bytes(array: np.ndarray, spacing=(1.0, 1.0, 1.0), *, pixdim=None, qform_code: int = 0,
                 sform_code: int = 1, quatern=(0.0, 0.0, 0.0, 0.0, 0.0, 0.0), srow=None,
                 scl_slope: float = NAN, scl_inter: float = NAN, dim=None) -> bytes:
    """A single-file NIfTI-1 (``n+1``) image, little-endian; scl_slope NaN means "no scaling" (nibabel's default)."""
    array = np.ascontiguousarray(array)
    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    shape = array.shape[::-1]
    dim = dim or (len(shape), *shape) + (1,) * (7 - len(shape))
    struct.pack_into("<8h", header, 40, *dim)
    struct.pack_into("<hh", header, 70, NIFTI_TYPES[array.dtype], array.dtype.itemsize * 8)
    pixdim = pixdim or (1.0, *spacing) + (1.0,) * (7 - len(spacing))
    struct.pack_into("<8f", header, 76, *pixdim)
    struct.pack_into("<fff", header, 108, 352.0, scl_slope, scl_inter)
    struct.pack_into("<B", header, 123, 2 | 8)  # mm and seconds
    struct.pack_into("<hh", header, 252, qform_code, sform_code)
    struct.pack_into("<6f", header, 256, *quatern)
    struct.pack_into("<12f", header, 280, *(srow if srow is not None else _srow(spacing)))
    header[344:348] = b"n+1\x00"
    return bytes(header) + array.astype(array.dtype.newbyteorder("<")).tobytes()


def nifti2_bytes(array: np.ndarray, spacing=(1.0, 1.0, 1.0), *, pixdim=None, sform_code: int = 1, srow=None,
                 scl_slope: float = NAN, scl_inter: float = NAN) -> bytes:
    """A single-file NIfTI-2 (``n+2``) image, little-endian."""
    array = np.ascontiguousarray(array)
    header = bytearray(544)
    struct.pack_into("<i", header, 0, 540)
    header[4:12] = b"n+2\x00\r\n\x1a\n"
    struct.pack_into("<hh", header, 12, NIFTI_TYPES[array.dtype], array.dtype.itemsize * 8)
    shape = array.shape[::-1]
    struct.pack_into("<8q", header, 16, len(shape), *shape, *(1,) * (7 - len(shape)))
    pixdim = pixdim or (1.0, *spacing) + (1.0,) * (7 - len(spacing))
    struct.pack_into("<8d", header, 104, *pixdim)
    struct.pack_into("<q", header, 168, 544)
    struct.pack_into("<dd", header, 176, scl_slope, scl_inter)
    struct.pack_into("<ii", header, 344, 0, sform_code)
    struct.pack_into("<12d", header, 400, *(srow if srow is not None else _srow(spacing)))
    struct.pack_into("<i", header, 500, 2 | 8)
    return bytes(header) + array.astype(array.dtype.newbyteorder("<")).tobytes()


def write_nifti(path: Path, data: bytes) -> Path:
    """Write NIfTI bytes, gzip-compressed when the name ends in ``.gz``."""
    path = Path(path)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_nrrd(path: Path, array: np.ndarray, *, spacing=(1.0, 1.0, 1.0), origin="(0,0,0)",
               directions=None, spacings: str | None = None, extra: tuple[str, ...] = ()) -> Path:
    """An attached-header NRRD (``.nrrd``), or a detached ``.nhdr`` with its raw ``.raw`` beside it."""
    path = Path(path)
    array = np.ascontiguousarray(array)
    shape = array.shape[::-1]
    lines = ["NRRD0004", f"type: {NRRD_TYPES[array.dtype]}", f"dimension: {len(shape)}",
             f"sizes: {' '.join(map(str, shape))}", "endian: little", "encoding: raw"]
    if spacings is not None:
        lines.append(f"spacings: {spacings}")
    else:
        sx, sy, sz = spacing
        lines += ["space: left-posterior-superior",
                  f"space directions: {directions or f'({sx},0,0) (0,{sy},0) (0,0,{sz})'}",
                  f"space origin: {origin}"]
    lines += list(extra)
    voxels = array.astype(array.dtype.newbyteorder("<")).tobytes()
    if path.suffix == ".nhdr":
        data_file = path.with_suffix(".raw")
        data_file.write_bytes(voxels)
        path.write_text("\n".join(lines + [f"data file: {data_file.name}"]) + "\n", encoding="utf-8")
    else:
        path.write_bytes(("\n".join(lines) + "\n\n").encode() + voxels)
    return path


def write_metaimage(path: Path, array: np.ndarray, *, spacing: str = "1 1 1", offset: str = "0 0 0") -> Path:
    """A MetaImage ``.mha`` (header and voxels in one file) with the given header strings."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    shape = array.shape[::-1]
    header = ["ObjectType = Image", "NDims = 3", "BinaryData = True", "BinaryDataByteOrderMSB = False",
              f"Offset = {offset}", "TransformMatrix = 1 0 0 0 1 0 0 0 1", f"ElementSpacing = {spacing}",
              f"DimSize = {' '.join(map(str, shape))}", "ElementType = MET_FLOAT", "ElementDataFile = LOCAL"]
    Path(path).write_bytes(("\n".join(header) + "\n").encode() + array.astype("<f4").tobytes())
    return Path(path)


def write_dicom_series(folder: Path, array: np.ndarray, spacing=(0.7, 0.7, 3.0)) -> list[Path]:
    """One implicit-VR DICOM file per slice of ``array`` (int16), with position and orientation tags."""
    import SimpleITK as sitk

    volume = sitk.GetImageFromArray(np.asarray(array, np.int16))
    volume.SetSpacing(spacing)
    files = []
    for k in range(volume.GetSize()[2]):
        slice_image = volume[:, :, k]
        for tag, value in {"0008|0060": "MR", "0020|000d": "1.2.3", "0020|000e": "1.2.3.4",
                           "0020|0013": str(k + 1), "0020|0032": f"0\\0\\{spacing[2] * k}",
                           "0020|0037": "1\\0\\0\\0\\1\\0"}.items():
            slice_image.SetMetaData(tag, value)
        writer = sitk.ImageFileWriter()
        writer.KeepOriginalImageUIDOn()
        writer.SetFileName(str(Path(folder) / f"slice{k}.dcm"))
        writer.Execute(slice_image)
        files.append(Path(folder) / f"slice{k}.dcm")
    return files


def set_dicom_pixel_spacing(path: Path, text: str) -> None:
    """Overwrite the Pixel Spacing (0028,0030) value of an implicit-VR file in place, keeping its length
    (SimpleITK's writer always writes the image's own spacing, so a broken one must be put in by hand)."""
    data = bytearray(Path(path).read_bytes())
    at = data.find(b"\x28\x00\x30\x00")
    length = struct.unpack("<I", data[at + 4:at + 8])[0]
    value = text.encode().ljust(length)
    assert len(value) == length, f"{text!r} does not fit in {length} bytes"
    data[at + 8:at + 8 + length] = value
    Path(path).write_bytes(bytes(data))
