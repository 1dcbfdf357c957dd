"""The study's four pools of 2D slices (real train, real test, synthetic train, synthetic test), prepared
once per study folder and read by every task.

Real cases are split once by patient into train and test (the split is recorded). The synthetic set is
either the user's (split by patient the same way) or generated: a scar placed in each real slice's normal
myocardium and painted by the template engine, from the real training patients for the synthetic training
pool and from the real test patients for the synthetic test set (anatomy shared, lesion new). 3D cases
become their axial slices that hold a label. Slices are resampled to ``image_size`` squared and z-scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from synthtrust.datasets import DiskCase, DiskDataset, load_case, read_dataset, split_by_patient
from synthtrust.editing.scar import place_scar
from synthtrust.errors import InputError
from synthtrust.labels.schema import EMIDEC
from synthtrust.study.settings import StudySettings
from synthtrust.synthesis.template import TemplateSynthesizer
from synthtrust.training.datasets import Case

POOLS = ("real_train", "real_test", "synthetic_train", "synthetic_test")
RINGS = ((1, 2, 3, 4, 5, 6), (7, 8, 9, 10, 11, 12), (13, 14, 15, 16))


@dataclass
class SlicePool:
    """Slices of one pool: images ``(N, S, S)`` float32 z-scored, labels ``(N, S, S)`` uint8, and for each
    slice its patient and its name."""

    images: np.ndarray
    labels: np.ndarray
    patients: np.ndarray
    names: np.ndarray

    def save(self, path: Path) -> None:
        np.savez_compressed(path, images=self.images, labels=self.labels, patients=self.patients, names=self.names)

    @classmethod
    def load(cls, path: Path) -> SlicePool:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["images"], data["labels"], data["patients"], data["names"])

    def __len__(self) -> int:
        return len(self.names)


def _resample(array: np.ndarray, size: int, order: int) -> np.ndarray:
    factors = (size / array.shape[0], size / array.shape[1])
    return ndimage.zoom(array, factors, order=order, mode="nearest", grid_mode=True)


def _central(array: np.ndarray, fraction: float) -> np.ndarray:
    """The central ``fraction`` of each in-plane side (short-axis slices are centred on the heart)."""
    if fraction >= 1.0:
        return array
    keep = [max(1, int(round(n * fraction))) for n in array.shape[-2:]]
    start = [(n - k) // 2 for n, k in zip(array.shape[-2:], keep, strict=True)]
    return array[..., start[0]:start[0] + keep[0], start[1]:start[1] + keep[1]]


def slices_of(case: Case, patient: str, size: int, crop: float = 1.0) -> list[tuple[np.ndarray, np.ndarray, str, str]]:
    """(image, labels, patient, name) for each axial slice of ``case`` that holds a label (one channel)."""
    image, labels = _central(case.channels[0].array, crop), _central(case.labels.array, crop)
    out = []
    for z in range(labels.shape[0]):
        if labels.shape[0] > 1 and not labels[z].any():
            continue
        picture = _resample(image[z].astype(np.float32), size, 1)
        std = float(picture.std())
        picture = (picture - float(picture.mean())) / (std if std > 0 else 1.0)
        name = case.name if labels.shape[0] == 1 else f"{case.name} z{z}"
        out.append((picture.astype(np.float32), _resample(labels[z], size, 0).astype(np.uint8), patient, name))
    return out


def _pool(items: list[tuple[np.ndarray, np.ndarray, str, str]], what: str) -> SlicePool:
    if not items:
        raise InputError(f"the study's {what} pool is empty: the data set has no labelled slice there")
    return SlicePool(np.stack([i[0] for i in items]), np.stack([i[1] for i in items]),
                     np.array([i[2] for i in items]), np.array([i[3] for i in items]))


def _real_slices(cases: list[DiskCase], dataset: DiskDataset, size: int, crop: float) -> list:
    items = []
    for case in cases:
        items += slices_of(load_case(case, dataset), case.patient, size, crop)
    return items


def _with_new_scar(case: Case, seed: int) -> tuple[Case, dict] | None:
    """The case with a scar placed in its normal myocardium (existing scar kept), or None when none fits."""
    anatomy = case.labels.array.copy()
    if not (anatomy == 2).any() or not (anatomy == 1).any():
        return None
    existing = anatomy.copy()
    anatomy[anatomy > 2] = 2  # the placement sees the whole myocardium; the old scar is put back below
    rng = np.random.default_rng(seed)
    for _ in range(5):
        ring = RINGS[int(rng.integers(len(RINGS)))]
        count = int(rng.integers(2, 4))
        start = int(rng.integers(0, len(ring) - count + 1))
        try:
            edit = place_scar(case.labels.with_array(anatomy), list(ring[start:start + count]),
                              float(rng.uniform(0.25, 1.0)), extent=float(rng.uniform(0.6, 1.0)),
                              irregularity=float(rng.uniform(0.1, 0.5)),
                              mvo=0.0 if rng.random() < 0.6 else float(rng.uniform(0.1, 0.4)), seed=seed)
        except InputError:
            continue
        painted = TemplateSynthesizer().synthesize(case.channels, edit.labels, EMIDEC, ["lge"], seed=seed)
        labels = np.where(edit.labels.array > 2, edit.labels.array, existing).astype(np.uint8)
        synthetic = Case(f"{case.name} + scar seed {seed}", painted.channels, case.labels.with_array(labels),
                         "template engine")
        return synthetic, {"case": case.name, "seed": seed, "engine": "template",
                           "parameters": {k: edit.parameters[k] for k in ("segments", "transmurality", "extent",
                                                                          "irregularity", "mvo")}}
    return None


def _generated(cases: list[DiskCase], dataset: DiskDataset, size: int, crop: float, base_seed: int,
               records: list[dict]) -> list:
    items = []
    for k, disk_case in enumerate(cases):
        made = _with_new_scar(load_case(disk_case, dataset), base_seed + k)
        if made is None:
            continue
        records.append(made[1])
        items += slices_of(made[0], f"{disk_case.patient} (synthetic)", size, crop)
    return items


def _subset(cases: list[DiskCase], count: int, seed: int) -> list[DiskCase]:
    if len(cases) <= count:
        return cases
    chosen = np.random.default_rng(seed).choice(len(cases), count, replace=False)
    return [cases[i] for i in sorted(chosen)]


def prepare_pools(settings: StudySettings, folder: Path, log: Callable[[str], None] = print) -> dict:
    """Write ``folder/<pool>.npz`` for the four pools; returns the record of the split and the generation."""
    real = read_dataset(settings.real, settings.task, settings.channels or None)
    train, test = split_by_patient(real.cases, settings.test_fraction, settings.split_seed)
    if settings.max_test_cases:
        kept = sorted({c.patient for c in test})[: settings.max_test_cases]
        test = [c for c in test if c.patient in kept]
    pools = {"real_train": _real_slices(train, real, settings.image_size, settings.crop_fraction),
             "real_test": _real_slices(test, real, settings.image_size, settings.crop_fraction)}
    generation: list[dict] = []
    if settings.synthetic:
        synthetic = read_dataset(settings.synthetic, settings.task, real.channels)
        syn_train, syn_test = split_by_patient(synthetic.cases, settings.test_fraction, settings.split_seed)
        pools["synthetic_train"] = _real_slices(syn_train, synthetic, settings.image_size, settings.crop_fraction)
        pools["synthetic_test"] = _real_slices(syn_test, synthetic, settings.image_size, settings.crop_fraction)
        synthetic_record = {"dataset": synthetic.describe(), "train_patients": sorted({c.patient for c in syn_train}),
                            "test_patients": sorted({c.patient for c in syn_test})}
    else:
        # Tasks draw at most train_size synthetic slices: four times that is ample for distinct draws per seed.
        sources = _subset(train, 4 * settings.train_size, settings.split_seed)
        pools["synthetic_train"] = _generated(sources, real, settings.image_size, settings.crop_fraction, 1_000_000,
                                              generation)
        pools["synthetic_test"] = _generated(test, real, settings.image_size, settings.crop_fraction, 2_000_000,
                                             generation)
        synthetic_record = {"engine": settings.generate, "model": "none (template engine: intensity models "
                            "estimated on each image)", "edits": generation}
    for name in POOLS:
        _pool(pools[name], name.replace("_", " ")).save(folder / f"{name}.npz")
    # Logged only now: a refused case must leave its one error line alone on stderr.
    log(f"real data: {len(train)} training and {len(test)} test cases ({real.layout} layout); slices per pool: "
        + ", ".join(f"{name} {len(pools[name])}" for name in POOLS)
        + (f"; {len(generation)} synthetic lesions placed ({settings.generate} engine)" if generation else ""))
    return {"real": real.describe(), "train_patients": sorted({c.patient for c in train}),
            "test_patients": sorted({c.patient for c in test}),
            "slices": {name: len(pools[name]) for name in POOLS}, "synthetic": synthetic_record}
