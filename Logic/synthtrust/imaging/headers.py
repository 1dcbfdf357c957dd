"""Header checks made on the raw file, before ITK reads it.

ITK repairs what it reads without saying so (measured with SimpleITK 2.x): NIfTI voxels that are NaN or
infinite come back as 0, a NIfTI pixdim of 0 or -1 as 1 mm, a NIfTI cut short with zeros for the missing
voxels, an NRRD ``space origin`` or a MetaImage ``Offset`` of NaN as 0. Checking what ITK returns can
therefore never see these faults; this module reads the NIfTI-1 / NIfTI-2 binary header (and the stored
voxels), the NRRD text header and the MetaImage text header itself and refuses what is broken, naming the
file, the bad value and the fix. DICOM tags and what ITK reports are checked in ``io``.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from synthtrust.errors import InputError

SPACING_FIX = "write the true voxel size into the header (e.g. in 3D Slicer's Volumes module) or re-export the image"
GEOMETRY_FIX = "fix the orientation in the header or re-export the image from the scanner or converter"
VOXEL_FIX = "replace them (e.g. with 0) before using the image"

# NIfTI datatype code -> (numpy kind and size, values per voxel). Only these can hold non-finite values.
_NIFTI_FLOAT_TYPES = {16: ("f4", 1), 64: ("f8", 1), 32: ("f4", 2), 1792: ("f8", 2)}
_NIFTI_ITEM_BYTES = {2: 1, 4: 2, 8: 4, 16: 4, 32: 8, 64: 8, 128: 3, 256: 1, 512: 2, 768: 4, 1024: 8,
                     1280: 8, 1536: 16, 1792: 16, 2048: 32, 2304: 4}
# Axis kinds of NRRD whose spacing places voxels in space or time (others, e.g. "vector", have none).
_NRRD_DOMAIN_KINDS = {"domain", "space", "time", "???", "none"}
_CHUNK_BYTES = 1 << 24


@dataclass(frozen=True)
class NiftiHeader:
    """The fields of a NIfTI-1 or NIfTI-2 header that decide geometry and voxel values."""

    version: int
    endian: str
    single_file: bool
    datatype: int
    dim: tuple[int, ...]
    pixdim: tuple[float, ...]
    vox_offset: float
    scl_slope: float
    scl_inter: float
    qform_code: int
    sform_code: int
    quatern: tuple[float, ...]  # b, c, d, then qoffset x, y, z
    srow: tuple[float, ...]  # the 12 values of srow_x, srow_y, srow_z

    @property
    def spatial_axes(self) -> int:
        return max(0, min(int(self.dim[0]), 3))

    @property
    def voxel_count(self) -> int:
        count = 1
        for size in self.dim[1:1 + max(0, min(int(self.dim[0]), 7))]:
            count *= max(int(size), 1)
        return count


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _parse_nifti(raw: bytes) -> tuple[int, str] | None:
    """(version, struct byte order) from the first four bytes, or None when this is no NIfTI/Analyze header."""
    if len(raw) < 4:
        return None
    for endian in ("<", ">"):
        size = struct.unpack(endian + "i", raw[:4])[0]
        if size == 348:
            return 1, endian
        if size == 540:
            return 2, endian
    return None


def read_nifti_header(path: Path) -> NiftiHeader | None:
    """The header of a ``.nii``, ``.nii.gz`` or ``.hdr`` file, or None when the bytes are not one."""
    try:
        with _open(path) as handle:
            raw = handle.read(540)
    except (EOFError, OSError, zlib.error):
        return None  # unreadable streams are refused by the gzip and ITK checks with their own reason
    kind = _parse_nifti(raw)
    if kind is None:
        return None
    version, e = kind
    if version == 1 and len(raw) >= 348:
        magic = raw[344:348]
        return NiftiHeader(
            version=1, endian=e, single_file=magic == b"n+1\x00",
            datatype=struct.unpack(e + "h", raw[70:72])[0],
            dim=struct.unpack(e + "8h", raw[40:56]),
            pixdim=struct.unpack(e + "8f", raw[76:108]),
            vox_offset=struct.unpack(e + "f", raw[108:112])[0],
            scl_slope=struct.unpack(e + "f", raw[112:116])[0],
            scl_inter=struct.unpack(e + "f", raw[116:120])[0],
            qform_code=struct.unpack(e + "h", raw[252:254])[0],
            sform_code=struct.unpack(e + "h", raw[254:256])[0],
            quatern=struct.unpack(e + "6f", raw[256:280]),
            srow=struct.unpack(e + "12f", raw[280:328]),
        )
    if version == 2 and len(raw) >= 540:
        return NiftiHeader(
            version=2, endian=e, single_file=raw[4:8] == b"n+2\x00",
            datatype=struct.unpack(e + "h", raw[12:14])[0],
            dim=struct.unpack(e + "8q", raw[16:80]),
            pixdim=struct.unpack(e + "8d", raw[104:168]),
            vox_offset=float(struct.unpack(e + "q", raw[168:176])[0]),
            scl_slope=struct.unpack(e + "d", raw[176:184])[0],
            scl_inter=struct.unpack(e + "d", raw[184:192])[0],
            qform_code=struct.unpack(e + "i", raw[344:348])[0],
            sform_code=struct.unpack(e + "i", raw[348:352])[0],
            quatern=struct.unpack(e + "6d", raw[352:400]),
            srow=struct.unpack(e + "12d", raw[400:496]),
        )
    return None


def _values(values) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


def check_nifti_header(path: Path, header: NiftiHeader) -> None:
    """Refuse spacing, orientation and scaling values that ITK would silently replace."""
    axes = header.spatial_axes
    spacing = header.pixdim[1:1 + axes]
    for axis, value in enumerate(spacing):
        if not (math.isfinite(value) and value > 0):
            raise InputError(
                f"image file {path} has voxel spacing (pixdim) {_values(spacing)} mm: axis {axis + 1} is "
                f"{value:g}, which must be finite and > 0; {SPACING_FIX}"
            )
    if header.qform_code > 0 and not all(math.isfinite(v) for v in header.quatern):
        raise InputError(
            f"image file {path} has a non-finite qform (quatern b, c, d and offset x, y, z "
            f"{_values(header.quatern)}); {GEOMETRY_FIX}"
        )
    if header.sform_code > 0 and not all(math.isfinite(v) for v in header.srow):
        raise InputError(
            f"image file {path} has a non-finite sform (srow_x, srow_y, srow_z {_values(header.srow)}); "
            f"{GEOMETRY_FIX}"
        )
    # The NIfTI standard (and nibabel, which writes NaN by default) reads a slope of 0 or NaN as "no
    # scaling", so only an infinite slope, or a usable slope with a non-finite intercept, is broken.
    slope, inter = header.scl_slope, header.scl_inter
    if math.isinf(slope) or (math.isfinite(slope) and slope != 0 and not math.isfinite(inter)):
        raise InputError(
            f"image file {path} has intensity scaling scl_slope {slope:g}, scl_inter {inter:g}, which is not "
            "finite; set scl_slope to 0 (no scaling) or to the true factor and re-save the image"
        )


def _data_file(path: Path, header: NiftiHeader) -> Path | None:
    if header.single_file:
        return path
    stem = path.name[: -len(".gz")] if path.name.lower().endswith(".gz") else path.name
    stem = stem[: -len(".hdr")] if stem.lower().endswith(".hdr") else stem
    for name in (stem + ".img", stem + ".img.gz", stem + ".IMG"):
        if (path.parent / name).exists():
            return path.parent / name
    return None


def check_stream_complete(path: Path) -> None:
    """Refuse a truncated or corrupt gzip stream: SimpleITK loads a truncated ``.nii.gz`` without complaint
    and fills the missing voxels with garbage."""
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(_CHUNK_BYTES):
                pass
    except (EOFError, OSError, zlib.error) as error:
        raise _truncated(path, error) from None


def _truncated(path: Path, error: Exception) -> InputError:
    return InputError(f"file {path} is truncated or corrupt ({error}); re-export or re-download it")


@dataclass(frozen=True)
class VoxelScan:
    """What reading a NIfTI file's stored voxels found."""

    non_finite: int  # NaN/Inf voxels (always 0 for integer types)
    whole_file_read: bool  # True when the stream was read to its end (a .gz is then known complete)


def scan_nifti_voxels(path: Path, header: NiftiHeader) -> VoxelScan:
    """Check that the file holds every voxel byte its header describes (ITK reads a short file with zeros
    for the missing voxels) and count NaN/Inf among float voxels. Streams in chunks, so memory stays small;
    an uncompressed integer file is measured by its size, without reading it."""
    data_file = _data_file(path, header)
    item_bytes = _NIFTI_ITEM_BYTES.get(header.datatype)
    if data_file is None or item_bytes is None:
        return VoxelScan(0, False)  # a missing .img or an unknown datatype is ITK's to refuse
    header_bytes = 352 if header.version == 1 else 544
    offset = int(max(header.vox_offset, header_bytes)) if header.single_file else int(max(header.vox_offset, 0))
    expected = header.voxel_count * item_bytes
    floating = _NIFTI_FLOAT_TYPES.get(header.datatype)
    compressed = data_file.name.lower().endswith(".gz")
    if not compressed and floating is None:
        present = max(data_file.stat().st_size - offset, 0)
        if present < expected:
            raise _short(path, header, present, expected)
        return VoxelScan(0, False)
    dtype = np.dtype(header.endian + floating[0]) if floating else None
    bad = present = 0
    try:
        with _open(data_file) as handle:
            while offset > 0:  # in chunks: a corrupt vox_offset must not become one huge allocation
                skipped = len(handle.read(min(_CHUNK_BYTES, offset)))
                offset = offset - skipped if skipped else 0
            while present < expected:
                block = handle.read(min(_CHUNK_BYTES, expected - present))
                if not block:
                    break
                present += len(block)
                if dtype is not None:
                    values = np.frombuffer(block[: len(block) - len(block) % dtype.itemsize], dtype=dtype)
                    bad += int(values.size - np.count_nonzero(np.isfinite(values)))
            while handle.read(_CHUNK_BYTES):  # the rest (extensions, padding) to the stream's end
                pass
    except (EOFError, OSError, zlib.error) as error:
        raise _truncated(data_file, error) from None
    if present < expected:
        raise _short(path, header, present, expected)
    per_voxel = floating[1] if floating else 1
    return VoxelScan(bad // per_voxel if per_voxel > 1 else bad, header.single_file)


def _short(path: Path, header: NiftiHeader, present: int, expected: int) -> InputError:
    size = "x".join(str(int(d)) for d in header.dim[1:1 + max(1, min(int(header.dim[0]), 7))])
    return InputError(f"file {path} is truncated: it holds {present} of the {expected} bytes of voxels its "
                      f"header describes ({size}); re-export or re-download it")


def check_nifti(path: Path) -> bool:
    """All raw NIfTI checks: header geometry and scaling, every voxel byte present, finite float voxels.
    True when the whole file was read (so a compressed stream is known to be complete)."""
    header = read_nifti_header(path)
    if header is None:
        return False
    check_nifti_header(path, header)
    scan = scan_nifti_voxels(path, header)
    if scan.non_finite:
        raise InputError(f"image file {path} contains {scan.non_finite} NaN or infinite voxels; {VOXEL_FIX}")
    return scan.whole_file_read


def read_nrrd_fields(path: Path) -> dict[str, str] | None:
    """The ``field: value`` lines of an NRRD header (names lower-cased), or None if this is not NRRD."""
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"NRRD":
                return None
            handle.seek(0)
            lines = []
            for _ in range(10_000):  # the header ends at the first empty line (or the end of a .nhdr)
                line = handle.readline(1 << 16).decode("latin-1").rstrip("\r\n")
                if not line:
                    break
                lines.append(line)
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if line.startswith("#") or ":=" in line.split(": ", 1)[0]:
            continue  # comments and key/value pairs carry no geometry
        name, sep, value = line.partition(": ")
        if sep:
            fields[name.strip().lower()] = value.strip()
    return fields


def _nrrd_vector(token: str) -> tuple[float, ...] | None:
    token = token.strip()
    if token == "none":
        return None
    return tuple(float(v) for v in token.strip("()").split(","))  # ValueError when not numbers


def _split_vectors(text: str) -> list[str]:
    """``(1,0,0) (0, 1, 0) none`` -> ["(1,0,0)", "(0, 1, 0)", "none"] (spaces inside brackets allowed)."""
    tokens, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char.isspace() and depth == 0:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if current:
        tokens.append(current)
    return tokens


def check_nrrd(path: Path) -> None:
    """Refuse a non-finite origin, non-finite or zero axis vectors, and non-positive spacings."""
    fields = read_nrrd_fields(path)
    if fields is None:
        return
    try:
        _check_nrrd_fields(path, fields)
    except ValueError as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"image file {path} has an NRRD space vector that is not numbers ({error}); fix the "
                         "NRRD header or re-export the image") from None


def _check_nrrd_fields(path: Path, fields: dict[str, str]) -> None:
    kinds = fields.get("kinds", "").split()
    if "space origin" in fields:
        origin = _nrrd_vector(fields["space origin"])
        if origin is not None and not all(math.isfinite(v) for v in origin):
            raise InputError(f"image file {path} has a non-finite NRRD space origin {_values(origin)}; "
                             f"{GEOMETRY_FIX}")
    if "space directions" in fields:
        for axis, vector in enumerate(_nrrd_vector(t) for t in _split_vectors(fields["space directions"])):
            if vector is None:
                continue
            if not all(math.isfinite(v) for v in vector):
                raise InputError(f"image file {path} has a non-finite NRRD space direction {_values(vector)} "
                                 f"on axis {axis}; {GEOMETRY_FIX}")
            if math.sqrt(sum(v * v for v in vector)) == 0.0:
                raise InputError(f"image file {path} has a zero-length NRRD space direction on axis {axis} "
                                 f"(voxel spacing 0 mm); {SPACING_FIX}")
    if "spacings" in fields:
        for axis, token in enumerate(fields["spacings"].split()):
            kind = kinds[axis].lower() if axis < len(kinds) else "domain"
            if kind not in _NRRD_DOMAIN_KINDS:
                continue  # e.g. a vector axis has no spacing; NaN is how NRRD says so
            try:
                value = float(token)
            except ValueError:
                raise InputError(f"image file {path} has NRRD spacing {token!r} on axis {axis}, which is not a "
                                 f"number; {SPACING_FIX}") from None
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"image file {path} has NRRD spacing {value:g} on axis {axis}, which must be "
                                 f"finite and > 0; {SPACING_FIX}")


def read_metaimage_fields(path: Path) -> dict[str, str]:
    """The ``Key = value`` lines of a MetaImage header, up to ``ElementDataFile`` (which ends it)."""
    fields: dict[str, str] = {}
    try:
        with open(path, "rb") as handle:
            for _ in range(200):
                raw = handle.readline(4096)
                if not raw:
                    break
                name, sep, value = raw.decode("latin-1").partition("=")
                if not sep:
                    continue
                fields[name.strip().lower()] = value.strip()
                if name.strip().lower() == "elementdatafile":
                    break
    except OSError:
        pass
    return fields


def check_metaimage(path: Path) -> None:
    """Refuse non-finite or non-positive ElementSpacing and a non-finite Offset or TransformMatrix (ITK
    reads a NaN offset as 0 and a NaN spacing as 0)."""
    fields = read_metaimage_fields(path)
    for key, what, fix in (("elementspacing", "ElementSpacing", SPACING_FIX), ("offset", "Offset", GEOMETRY_FIX),
                           ("origin", "Origin", GEOMETRY_FIX), ("position", "Position", GEOMETRY_FIX),
                           ("transformmatrix", "TransformMatrix", GEOMETRY_FIX),
                           ("rotation", "Rotation", GEOMETRY_FIX), ("orientation", "Orientation", GEOMETRY_FIX)):
        if key not in fields:
            continue
        try:
            values = tuple(float(v) for v in fields[key].split())
        except ValueError:
            raise InputError(f"image file {path} has MetaImage {what} {fields[key]!r}, which is not a list of "
                             f"numbers; {fix}") from None
        if not all(math.isfinite(v) for v in values) or (key == "elementspacing" and min(values, default=1) <= 0):
            condition = "finite and > 0" if key == "elementspacing" else "finite"
            raise InputError(f"image file {path} has MetaImage {what} {_values(values)}, which must be "
                             f"{condition}; {fix}")


def nifti_version(path: Path) -> int | None:
    """1 or 2 for a NIfTI file, else None (used to explain why ITK cannot read NIfTI-2)."""
    header = read_nifti_header(path)
    return None if header is None else header.version


def check_raw_header(path: Path) -> None:
    """Run the raw checks this module has for the file's format (NIfTI, NRRD, MetaImage); others pass.
    A ``.gz`` stream is checked for completeness first (during the NIfTI voxel scan when there is one)."""
    name = path.name.lower()
    verified = False
    if name.endswith((".nii", ".nii.gz", ".hdr", ".hdr.gz")):
        verified = check_nifti(path)
    elif name.endswith((".nrrd", ".nhdr")):
        check_nrrd(path)
    elif name.endswith((".mha", ".mhd")):
        check_metaimage(path)
    if name.endswith(".gz") and not verified:
        check_stream_complete(path)
