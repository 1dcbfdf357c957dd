"""Reading and writing images through SimpleITK: NIfTI, NRRD and DICOM series folders.

Everything loaded is validated (finite voxels, sane spacing, complete compressed streams, memory
available before the voxels are allocated); everything written goes to a temporary name in the
destination folder and is renamed only when complete, so a failed write never leaves a partial file.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from synthtrust.errors import InputError
from synthtrust.imaging.image import Geometry, Image

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
        with open("/proc/meminfo") as handle:
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


def _check_gzip_complete(path: Path) -> None:
    # SimpleITK loads a truncated .nii.gz without complaint and fills the missing voxels with garbage.
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass
    except (EOFError, OSError, zlib.error) as error:
        raise InputError(
            f"file {path} is truncated or corrupt ({error}); re-export or re-download it"
        ) from None


def _read_information(path: Path) -> sitk.ImageFileReader:
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as error:
        first = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown reason"
        raise InputError(f"cannot read image file {path}: {first}; check that it is a NIfTI, NRRD or DICOM "
                         "file and not corrupt") from None
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
    geometry = Geometry(itk_image.GetSize(), itk_image.GetSpacing(), itk_image.GetOrigin(),
                        itk_image.GetDirection())
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
    if path.suffix == ".gz":
        _check_gzip_complete(path)
    reader = _read_information(path)
    voxels = int(np.prod(reader.GetSize()))
    nbytes = voxels * _PIXEL_BYTES.get(reader.GetPixelID(), 8) * reader.GetNumberOfComponents()
    require_memory(nbytes * LOAD_MEMORY_FACTOR, f"loading {path.name} ({'x'.join(map(str, reader.GetSize()))})")
    try:
        itk_image = reader.Execute()
    except RuntimeError as error:
        raise InputError(f"cannot read voxels of {path}: {str(error).strip().splitlines()[-1]}; the file is "
                         "probably truncated or corrupt") from None
    return _to_image(itk_image, label, str(path))


def _load_dicom_series(folder: Path, name: str) -> Image:
    series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise InputError(f"folder {folder} holds no DICOM series; pass a NIfTI/NRRD file or a DICOM folder")
    if len(series) > 1:
        raise InputError(f"folder {folder} holds {len(series)} DICOM series {list(series)}; put one series per "
                         "folder")
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series[0])
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    try:
        itk_image = reader.Execute()
    except RuntimeError as error:
        raise InputError(f"cannot read DICOM series in {folder}: {str(error).strip().splitlines()[-1]}") from None
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
