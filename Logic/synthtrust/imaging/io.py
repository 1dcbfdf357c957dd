"""Reading and writing images through SimpleITK: NIfTI, NRRD, MetaImage and DICOM series folders.

Everything loaded is read as it is or refused (``docs/guarantees.md``): the raw NIfTI, NRRD and MetaImage
headers, the NIfTI voxel bytes and the geometry tags of every DICOM file are checked before ITK can repair
them (``headers``), then what ITK reports (finite, positive spacing; finite origin and a rotation as
direction; finite voxels; memory available before the voxels are allocated). ITK's own console output is
kept off the terminal (``itk_console``); when a read fails, what ITK said becomes the one-line message.
Everything written goes to a temporary name in the destination folder and is renamed only when complete,
so a failed write never leaves a partial file.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from synthtrust.errors import InputError
from synthtrust.imaging.headers import GEOMETRY_FIX, SPACING_FIX, check_raw_header, nifti_version
from synthtrust.imaging.image import Geometry, Image
from synthtrust.imaging.itk_console import failure_reason, quiet_native_stderr

# The EMIDEC files trigger a harmless "unexpected scales in sform" warning on every read.
sitk.ProcessObject.SetGlobalWarningDisplay(False)

_PIXEL_BYTES = {
    sitk.sitkUInt8: 1, sitk.sitkInt8: 1, sitk.sitkUInt16: 2, sitk.sitkInt16: 2, sitk.sitkUInt32: 4,
    sitk.sitkInt32: 4, sitk.sitkUInt64: 8, sitk.sitkInt64: 8, sitk.sitkFloat32: 4, sitk.sitkFloat64: 8,
}
# Loading copies the voxels (SimpleITK buffer -> numpy, then float32 for processing): ask for 3x headroom.
LOAD_MEMORY_FACTOR = 3.0


def available_memory_bytes() -> int:
    """Memory the OS can give us now (MemAvailable), or total physical memory when that is unknown."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def require_memory(nbytes: float, what: str) -> None:
    """Refuse, before allocating, a job that needs more memory than is available."""
    available = available_memory_bytes()
    if nbytes > available:
        raise InputError(
            f"{what} needs about {nbytes / 2**30:.1f} GiB of memory but only {available / 2**30:.1f} GiB is "
            "available; crop or downsample the image (e.g. Crop Volume in 3D Slicer) or free memory"
        )


def check_reported_geometry(source: str, spacing, origin, direction) -> None:
    """Refuse the geometry ITK reports when it is unusable (for formats whose header we do not parse)."""
    if not all(math.isfinite(s) and s > 0 for s in spacing):
        raise InputError(f"image {source} has voxel spacing {tuple(spacing)} mm; every spacing must be finite "
                         f"and > 0: {SPACING_FIX}")
    if not all(math.isfinite(o) for o in origin):
        raise InputError(f"image {source} has a non-finite origin {tuple(origin)}; {GEOMETRY_FIX}")
    if not all(math.isfinite(d) for d in direction):
        raise InputError(f"image {source} has a non-finite direction {tuple(direction)}; {GEOMETRY_FIX}")


@contextmanager
def _itk_readable(path: Path):
    """The path to hand ITK. ITK's NIfTI library, asked for ``x.nii.gz``, takes the voxels from a sibling
    ``x.nii`` when one exists (measured: int16 header, float32 voxels read as int16); reading through a link
    in a private folder makes it read exactly the file named."""
    name = path.name.lower()
    if not (name.endswith(".nii.gz") and path.with_name(path.name[: -len(".gz")]).exists()):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="synthtrust-read-") as folder:
        link = Path(folder) / path.name
        try:
            link.symlink_to(path.resolve())
        except OSError:  # e.g. Windows without the symlink privilege: a copy reads the same
            shutil.copyfile(path, link)
        yield link


def _read_information(path: Path, itk_path: Path) -> sitk.ImageFileReader:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(itk_path))
    with quiet_native_stderr() as printed:
        try:
            reader.ReadImageInformation()
        except RuntimeError as error:
            failure = error
        else:
            failure = None
    if failure is not None:
        if nifti_version(path) == 2:
            raise InputError(f"cannot read image file {path}: it is NIfTI-2, which this SimpleITK cannot read; "
                             "convert it to NIfTI-1 or NRRD (e.g. save it from 3D Slicer or nibabel)") from None
        raise InputError(f"cannot read image file {path}: {failure_reason(failure, printed)}; check that it "
                         "is a NIfTI, NRRD, MetaImage or DICOM file and not corrupt") from None
    check_reported_geometry(str(path), reader.GetSpacing(), reader.GetOrigin(), reader.GetDirection())
    return reader


def _to_image(itk_image: sitk.Image, name: str, source: str) -> Image:
    if itk_image.GetDimension() != 3:
        raise InputError(
            f"{source} has {itk_image.GetDimension()} dimensions (size {itk_image.GetSize()}); a 3D volume is "
            "required: split 4D files into one 3D file per channel and pass each with its own --image"
        )
    if itk_image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"{source} has {itk_image.GetNumberOfComponentsPerPixel()} components per voxel; save each channel "
            "as its own scalar volume"
        )
    try:
        geometry = Geometry(itk_image.GetSize(), itk_image.GetSpacing(), itk_image.GetOrigin(),
                            itk_image.GetDirection())
    except InputError as error:  # e.g. skewed axes: say which file it is
        raise InputError(f"{source}: {error}") from None
    array = sitk.GetArrayFromImage(itk_image)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InputError(
            f"{source} contains {bad} NaN or infinite voxels; replace them (e.g. with 0) before using the image"
        )
    return Image(array, geometry, name)


def load_image(path: str | os.PathLike, name: str | None = None) -> Image:
    """Load a NIfTI/NRRD/... file or a DICOM series folder, validated (see module docstring)."""
    path = Path(path)
    label = name or path.name.split(".")[0]
    if not path.exists():
        raise InputError(f"image file {path} does not exist; check the path")
    if path.is_dir():
        return _load_dicom_series(path, label)
    if path.stat().st_size == 0:
        raise InputError(f"image file {path} is empty (0 bytes); re-export it")
    check_raw_header(path)
    with _itk_readable(path) as itk_path:
        reader = _read_information(path, itk_path)
        voxels = int(np.prod(reader.GetSize()))
        nbytes = voxels * _PIXEL_BYTES.get(reader.GetPixelID(), 8) * reader.GetNumberOfComponents()
        require_memory(nbytes * LOAD_MEMORY_FACTOR,
                       f"loading {path.name} ({'x'.join(map(str, reader.GetSize()))})")
        with quiet_native_stderr() as printed:
            try:
                itk_image, failure = reader.Execute(), None
            except RuntimeError as error:
                itk_image, failure = None, error
    if failure is not None:
        raise InputError(f"cannot read voxels of {path}: {failure_reason(failure, printed)}; the file is "
                         "probably truncated or corrupt") from None
    return _to_image(itk_image, label, str(path))


# DICOM tags that place the voxels: (tag, name, values, whether each must be > 0). GDCM reads a Pixel Spacing
# of "0\\0.7" as 1 x 1 mm without a word (measured), so the raw strings are checked, file by file.
_DICOM_GEOMETRY_TAGS = (("0028|0030", "Pixel Spacing", 2, True), ("0020|0032", "Image Position (Patient)", 3, False),
                        ("0020|0037", "Image Orientation (Patient)", 6, False))


def _check_dicom_tags(file: Path) -> None:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(file))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return  # unreadable files are refused by the series read with ITK's reason
    for tag, what, count, positive in _DICOM_GEOMETRY_TAGS:
        if not reader.HasMetaDataKey(tag):
            continue
        text = reader.GetMetaData(tag).strip()
        try:
            values = [float(v) for v in text.split("\\")]
        except ValueError:
            values = []
        if len(values) != count or not all(math.isfinite(v) and (v > 0 or not positive) for v in values):
            fix = SPACING_FIX if positive else GEOMETRY_FIX
            condition = "finite numbers > 0" if positive else "finite numbers"
            raise InputError(f'DICOM file {file} has {what} "{text}"; it must be {count} {condition}: {fix}')


def _load_dicom_series(folder: Path, name: str) -> Image:
    with quiet_native_stderr():  # GDCM prints a line for every file in the folder that is not DICOM
        series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise InputError(f"folder {folder} holds no DICOM series; pass a NIfTI/NRRD file or a DICOM folder")
    if len(series) > 1:
        raise InputError(f"folder {folder} holds {len(series)} DICOM series {list(series)}; put one series per "
                         "folder")
    with quiet_native_stderr() as printed:
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series[0])
        for file in files:
            _check_dicom_tags(Path(file))
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(files)
        try:
            itk_image, failure = reader.Execute(), None
        except RuntimeError as error:
            itk_image, failure = None, error
    if failure is not None:
        raise InputError(f"cannot read DICOM series in {folder}: {failure_reason(failure, printed)}; check "
                         "that every file of the series is present and readable") from None
    check_reported_geometry(f"DICOM series {folder}", itk_image.GetSpacing(), itk_image.GetOrigin(),
                            itk_image.GetDirection())
    return _to_image(itk_image, name, str(folder))


def load_channels(paths: list[str | os.PathLike], names: list[str] | None = None) -> list[Image]:
    """Load several channels (e.g. FLAIR, T1c) and check that they share one grid."""
    from synthtrust.imaging.image import require_same_grid

    if not paths:
        raise InputError("no image was given; pass at least one --image")
    names = names or [None] * len(paths)
    images = [load_image(p, n) for p, n in zip(paths, names, strict=True)]
    for image in images[1:]:
        require_same_grid(images[0], image, what="channel")
    return images


def to_sitk(image: Image) -> sitk.Image:
    itk_image = sitk.GetImageFromArray(np.ascontiguousarray(image.array))
    itk_image.SetSpacing(image.geometry.spacing)
    itk_image.SetOrigin(image.geometry.origin)
    itk_image.SetDirection(image.geometry.direction)
    return itk_image


def from_sitk(itk_image: sitk.Image, name: str = "") -> Image:
    return _to_image(itk_image, name, name or "image")


@contextmanager
def atomic_path(destination: str | os.PathLike):
    """Yield a temporary path beside ``destination``; rename it into place only if the block succeeds."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(destination.suffixes) or ".tmp"
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=suffix, dir=destination.parent)
    os.close(handle)
    # mkstemp makes a private (0600) file; outputs get the permissions any new file would get.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        yield Path(temporary)
        os.replace(temporary, destination)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def save_image(image: Image, path: str | os.PathLike, compress: bool = True) -> Path:
    """Write ``image`` (NIfTI, NRRD, ...) atomically; returns the path written."""
    path = Path(path)
    with atomic_path(path) as temporary:
        sitk.WriteImage(to_sitk(image), str(temporary), compress)
    return path
