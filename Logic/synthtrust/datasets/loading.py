"""Reading a data set's cases into images, checked: every channel on the label map's grid, every label
value in the task's schema; and splitting cases into training and held-out sets by patient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from synthtrust.datasets.layouts import DiskCase, DiskDataset
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
from synthtrust.training.datasets import Case, CaseSpec, Dataset, DataSource

# PNG slices carry no spacing. EMIDEC's in-plane spacing is about 1.4-1.9 mm and its slices 10-13 mm thick
# (its README): the middle values keep millimetre metrics in the right range; they are recorded as assumed.
SLICE_SPACING_XYZ_MM = (1.6, 1.6, 10.0)


def _load_slice(path: Path, name: str) -> Image:
    try:
        array = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    except RuntimeError as error:
        raise InputError(f"cannot read slice {path} ({str(error).strip().splitlines()[-1]}); re-export it as PNG") from None
    if array.ndim == 3:  # an RGB(A) PNG of a grey image: the first component holds the value
        array = array[..., 0]
    if array.ndim != 2:
        raise InputError(f"slice {path} has shape {array.shape}; a 2D grey PNG is expected")
    image = Image.from_array(array[None].astype(np.float32), SLICE_SPACING_XYZ_MM, name=name)
    image.metadata["spacing"] = "assumed (PNG has none)"
    return image


def _load(path: Path, name: str, two_dimensional: bool) -> Image:
    if two_dimensional or path.suffix.lower() == ".png":
        return _load_slice(path, name)
    image = load_image(path, name)
    return image.with_array(image.array.astype(np.float32))


def load_case(case: DiskCase, dataset: DiskDataset, source: str = "") -> Case:
    """The case's channels and label map as images, after the checks that make a data set usable."""
    two_d = dataset.two_dimensional
    labels = _load(case.labels, "labels", two_d)
    values = labels.array
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)) or values.min() < 0:
        raise InputError(f"case {case.name}: label map {case.labels} holds non-integer or negative values; "
                         "a label map stores one whole label number per voxel")
    array = values.astype(np.uint8) if values.max() < 256 else values.astype(np.int32)
    if case.label_numbering == "brats2023":
        array = np.where(array == 3, 4, array).astype(np.uint8)  # BraTS 2023 ET (3) in the 2021 numbering (4)
    schema = get_schema(TASK_SCHEMAS[dataset.task])
    unknown = sorted(int(v) for v in np.unique(array) if v != 0 and int(v) not in schema.labels)
    if unknown:
        raise InputError(f"case {case.name}: label map {case.labels} holds label(s) {unknown}, unknown to the "
                         f"{schema.name} schema of {dataset.task} (labels {sorted(schema.labels)}); relabel it or "
                         "choose the other --task")
    labels = labels.with_array(array.astype(np.uint8), name="labels")
    channels = []
    for channel, path in case.channels.items():
        if not path.exists():
            raise InputError(f"case {case.name}: {channel} image {path} is missing; add it or remove the case")
        image = _load(path, channel, two_d)
        if not image.geometry.matches(labels.geometry):
            raise InputError(f"case {case.name}: the {channel} image is on another grid "
                             f"({image.geometry.describe()}) than its label map ({labels.geometry.describe()}); "
                             "resample it onto the label map's grid")
        channels.append(image)
    return Case(case.name, channels, labels, source or f"{dataset.layout} data set {dataset.path}")


def split_by_patient(cases: list[DiskCase], test_fraction: float, seed: int) -> tuple[list[DiskCase],
                                                                                      list[DiskCase]]:
    """Cases into (training, test) with a seeded shuffle of patients: no patient on both sides."""
    patients = sorted({c.patient for c in cases})
    if len(patients) < 2:
        raise InputError(f"the data set holds {len(patients)} patient(s); a train/test split needs at least 2")
    order = np.random.default_rng(seed).permutation(len(patients))
    count = min(len(patients) - 1, max(1, int(round(test_fraction * len(patients)))))
    test = {patients[i] for i in order[:count]}
    return [c for c in cases if c.patient not in test], [c for c in cases if c.patient in test]


def training_dataset(dataset: DiskDataset, validation_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """A :class:`~synthtrust.training.datasets.Dataset` (what ``train_segmenter`` reads) from a disk data
    set, with a held-out validation split by patient."""
    training, validation = split_by_patient(dataset.cases, validation_fraction, seed)
    source = DataSource(f"user data set {dataset.path} ({dataset.layout} layout)",
                        "the user's (check the data set's own licence before shipping weights)")

    def spec(case: DiskCase) -> CaseSpec:
        return CaseSpec(case.name, source.name, lambda: load_case(case, dataset, source.name))

    return Dataset(f"{dataset.path.name}-{dataset.layout}", dataset.task, dataset.channels,
                   [spec(c) for c in training], [spec(c) for c in validation], [source],
                   f"{len(dataset.cases)} cases read from {dataset.path}; validation split by patient",
                   {"seed": seed, "validation_fraction": validation_fraction, **dataset.describe()})
