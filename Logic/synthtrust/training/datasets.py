"""Training data for segmenters (and, through ``generator_data``, generators): cases (channels + label
map), their sources and licences, and the builders of the shipped defaults' data.

Shipped weights are trained only on CC0 / CC BY / MNI data plus images the project generates:

- brain tumour: the two TCGA-LGG cases of ``brainles_tcga`` (CC BY 3.0; labels are a fusion of BraTS
  algorithms, not expert truth), synthetic tumours placed and synthesized on their tumour-free hemisphere,
  and synthetic tumours on the MNI ICBM152 2009a T1 template (MNI notice: use, copy, modify, distribute);
- cardiac scar: LGE-like phantoms (the project's own) and LGE-like images rendered from the Sunnybrook
  cine contours (CC0 1.0), each with scar placed by AHA segment and synthesized.

EMIDEC (CC BY-NC-SA 4.0) is never used here; it serves only as an external test. Cases are built lazily
(:class:`CaseSpec`), so a training run holds full-resolution images only one at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from synthtrust.editing.scar import place_scar
from synthtrust.editing.tumor import place_tumor
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import EMIDEC, brats_schema
from synthtrust.models.channels import canonical_channel
from synthtrust.phantoms.cardiac import lge_like_from_labels, make_lge_phantom
from synthtrust.synthesis.template import TemplateSynthesizer


@dataclass(frozen=True)
class DataSource:
    """Where training images come from, under which licence, and how to cite them."""

    name: str
    licence: str
    citation: str = ""


@dataclass
class Case:
    """One training or validation case: channels on one grid and a label map in the task schema."""

    name: str
    channels: list[Image]
    labels: Image
    source: str


@dataclass
class CaseSpec:
    """A case built on demand (data loading and synthesis happen in ``build``)."""

    name: str
    source: str
    build: Callable[[], Case]

    @classmethod
    def ready(cls, case: Case) -> CaseSpec:
        return cls(case.name, case.source, lambda: case)


@dataclass
class Dataset:
    """Training and held-out validation cases of one task and channel set, with their sources."""

    name: str
    task: str
    channels: list[str]
    training: list[CaseSpec]
    validation: list[CaseSpec]
    sources: list[DataSource]
    description: str = ""
    parameters: dict = field(default_factory=dict)

    def source_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for split, specs in (("training", self.training), ("validation", self.validation)):
            for spec in specs:
                counts.setdefault(spec.source, {"training": 0, "validation": 0})[split] += 1
        return counts


TCGA = DataSource("TCGA-LGG (BraTS-preprocessed, brainles_tcga)", "CC BY 3.0",
                  "The Cancer Genome Atlas Low Grade Glioma collection (TCIA); Clark et al., J Digit Imaging 2013")
TCGA_SYNTHETIC = DataSource("TCGA-LGG + project-synthesized tumours", "CC BY 3.0 (images) + project-generated",
                            "as TCGA-LGG; tumours by synthtrust.editing.tumor + TemplateSynthesizer")
MNI_SYNTHETIC = DataSource("MNI ICBM152 2009a T1 + project-synthesized tumours",
                           "MNI copyright notice (use, copy, modify, distribute with the notice) + project-generated",
                           "Fonov et al., NeuroImage 2011")
PHANTOM = DataSource("SynthTrustSlicer LGE-like phantoms", "BSD-3-Clause (project-generated)",
                     "synthtrust.phantoms.cardiac.make_lge_phantom")
SUNNYBROOK = DataSource("Sunnybrook cardiac data (LV contours) rendered LGE-like", "CC0 1.0",
                        "Radau et al., MIDAS J 2009")
TOY = DataSource("seeded toy volumes", "project-generated", "synthtrust.training.datasets.toy_dataset")

TCGA_CASES = ("TCGA-FG-6692", "TCGA-DU-7294")
TCGA_FILES = {"flair": "fla", "t1c": "t1c", "t1": "t1", "t2": "t2"}
MNI_T1 = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
SUNNYBROOK_CASES = ("SC-HF-I-1", "SC-HF-I-2", "SC-HF-I-4", "SC-HF-I-5")
# Coronary territories as AHA segments: scars follow one artery's territory.
TERRITORIES = {"LAD": (1, 2, 7, 8, 13, 14, 17), "RCA": (3, 4, 9, 10, 15), "LCx": (5, 6, 11, 12, 16)}


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The shared data folder: ``root``, else ``$SYNTHTRUST_SHARED_DATA``, else ``<repository>/../shared/data``."""
    if root:
        return Path(root)
    if os.environ.get("SYNTHTRUST_SHARED_DATA"):
        return Path(os.environ["SYNTHTRUST_SHARED_DATA"])
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def _require(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"training data {path} is missing; pass --data-root pointing at the shared data folder "
                         "(see docs/data.md)")
    return path


def _load(path: Path, name: str) -> Image:
    image = load_image(_require(path), name)
    return image.with_array(image.array.astype(np.float32))


# ---------------------------------------------------------------- brain tumour


def _tumour_parameters(rng: np.random.Generator) -> dict:
    return {"size_mm": float(rng.uniform(12.0, 40.0)), "edema_mm": float(rng.uniform(3.0, 12.0)),
            "enhancing_rim_mm": float(rng.uniform(1.5, 4.0)), "necrosis": bool(rng.random() < 0.7),
            "irregularity": float(rng.uniform(0.1, 0.6))}


def _synthetic_tumour(channels: list[Image], modalities: list[str], brain: Image, allowed: np.ndarray,
                      existing: np.ndarray | None, seed: int) -> tuple[list[Image], Image]:
    """Place a tumour centred in ``allowed`` and synthesize it into ``channels``; labels keep ``existing``."""
    schema = brats_schema(2021)
    rng = np.random.default_rng(seed)
    candidates = np.argwhere(allowed)
    if len(candidates) == 0:
        raise InputError("no room left in the brain for a synthetic tumour")
    parameters = _tumour_parameters(rng)
    k, j, i = candidates[rng.integers(len(candidates))]
    center = channels[0].geometry.index_to_physical((i, j, k))
    edit = place_tumor(channels[0], center, parameters.pop("size_mm"), seed=seed, brain_mask=brain, schema=schema,
                       **parameters)
    result = TemplateSynthesizer().synthesize(channels, edit.labels, schema, modalities, seed=seed)
    labels = edit.labels.array.astype(np.uint8)
    if existing is not None:
        labels = np.where(labels > 0, labels, existing).astype(np.uint8)
    return result.channels, edit.labels.with_array(labels, name="labels")


def _mni_case(root: Path, seed: int) -> Case:
    folder = root / "nilearn_mni152"
    t1 = _load(folder / MNI_T1, "t1")
    grey = _load(folder / MNI_T1.replace("_t1_", "_gm_"), "gm").array
    white = _load(folder / MNI_T1.replace("_t1_", "_wm_"), "wm").array
    scale = 255.0 if grey.max() > 1.5 else 1.0  # the nilearn copies store probabilities as 0-255
    brain = t1.with_array(((grey + white) / scale > 0.5).astype(np.uint8), name="brain mask")
    depth = ndimage.distance_transform_edt(brain.array, sampling=brain.spacing_zyx)
    channels, labels = _synthetic_tumour([t1], ["t1"], brain, depth > 8.0, None, seed)
    return Case(f"MNI152 synthetic tumour seed {seed}", channels, labels, MNI_SYNTHETIC.name)


def _tcga_channels(root: Path, case: str, channels: list[str]) -> tuple[list[Image], Image]:
    folder = root / "brainles_tcga" / case
    images = [_load(folder / "sri24_skullstripped" / f"{case}_{TCGA_FILES[c]}.nii.gz", c) for c in channels]
    labels = _load(folder / "algorithm_segmentations" / "fusion_simple.nii.gz", "labels")
    return images, labels.with_array(labels.array.astype(np.uint8))


def tcga_real_case(root: Path, case: str, channels: list[str]) -> Case:
    images, labels = _tcga_channels(root, case, channels)
    return Case(f"{case} (real)", images, labels, TCGA.name)


def _tcga_synthetic_case(root: Path, case: str, channels: list[str], seed: int) -> Case:
    """A synthetic tumour in the hemisphere without the real one, at least 10 mm from its edema."""
    images, real = _tcga_channels(root, case, channels)
    brain_array = np.any([image.array != 0 for image in images], axis=0)
    brain = images[0].with_array(brain_array.astype(np.uint8), name="brain mask")
    columns = np.argwhere(brain_array)[:, 2]
    tumour_columns = np.argwhere(real.array > 0)[:, 2]
    midline = float(np.median(columns))
    healthy_side = (np.arange(brain_array.shape[2]) < midline) if tumour_columns.mean() > midline else (
        np.arange(brain_array.shape[2]) >= midline)
    depth = ndimage.distance_transform_edt(brain_array, sampling=brain.spacing_zyx)
    clearance = ndimage.distance_transform_edt(real.array == 0, sampling=brain.spacing_zyx)
    allowed = (depth > 12.0) & (clearance > 40.0) & healthy_side[None, None, :]
    modalities = [c if c in TCGA_FILES else "other" for c in channels]
    images, labels = _synthetic_tumour(images, modalities, brain, allowed, real.array, seed)
    return Case(f"{case} + synthetic tumour seed {seed}", images, labels, TCGA_SYNTHETIC.name)


def brain_tumor_dataset(channels: list[str], seed: int = 0, mni_cases: int = 24, tcga_synthetic_cases: int = 6,
                        validation_cases: int = 4, root: str | os.PathLike | None = None) -> Dataset:
    """Real TCGA cases + synthetic tumours on TCGA (and, for T1 alone, on the MNI template)."""
    channels = [canonical_channel(c) for c in channels]
    unknown = [c for c in channels if c not in TCGA_FILES]
    if unknown:
        raise InputError(f"brain-tumour training channels {unknown} are not available; use some of "
                         f"{', '.join(TCGA_FILES)} (e.g. flair,t1c or t1)")
    root = data_root(root)
    use_mni = channels == ["t1"]  # the MNI template has only a T1 image
    training = [CaseSpec(f"{c} (real)", TCGA.name, lambda c=c: tcga_real_case(root, c, channels)) for c in TCGA_CASES]
    # Seeds: seed*1000 + k for training, + 500 + k for validation, so the two sets never share a tumour.
    for k in range(tcga_synthetic_cases):
        case = TCGA_CASES[k % len(TCGA_CASES)]
        training.append(CaseSpec(f"{case} synthetic {k}", TCGA_SYNTHETIC.name,
                                 lambda c=case, s=seed * 1000 + k: _tcga_synthetic_case(root, c, channels, s)))
    if use_mni:
        for k in range(mni_cases):
            training.append(CaseSpec(f"MNI synthetic {k}", MNI_SYNTHETIC.name,
                                     lambda s=seed * 1000 + k: _mni_case(root, s)))
    validation = []
    for k in range(validation_cases):
        s = seed * 1000 + 500 + k
        if use_mni and k % 2 == 0:
            validation.append(CaseSpec(f"MNI synthetic validation {k}", MNI_SYNTHETIC.name,
                                       lambda s=s: _mni_case(root, s)))
        else:
            case = TCGA_CASES[k % len(TCGA_CASES)]
            validation.append(CaseSpec(f"{case} synthetic validation {k}", TCGA_SYNTHETIC.name,
                                       lambda c=case, s=s: _tcga_synthetic_case(root, c, channels, s)))
    sources = [TCGA, TCGA_SYNTHETIC] + ([MNI_SYNTHETIC] if use_mni else [])
    return Dataset(f"brain-tumor-{'-'.join(channels)}", "brain-tumor", channels, training, validation, sources,
                   "real TCGA-LGG cases (fusion labels) and project-synthesized tumours; validation on held-out "
                   "synthetic tumours", {"seed": seed, "mni_cases": mni_cases if use_mni else 0,
                                         "tcga_synthetic_cases": tcga_synthetic_cases,
                                         "validation_cases": validation_cases})


# ---------------------------------------------------------------- cardiac scar


def _scar_parameters(rng: np.random.Generator) -> dict:
    territory = TERRITORIES[rng.choice(sorted(TERRITORIES))]
    count = int(rng.integers(2, min(4, len(territory)) + 1))
    start = int(rng.integers(0, len(territory) - count + 1))
    return {"segments": list(territory[start:start + count]), "transmurality": float(rng.uniform(0.25, 1.0)),
            "extent": float(rng.uniform(0.5, 1.0)), "irregularity": float(rng.uniform(0.1, 0.5)),
            "mvo": 0.0 if rng.random() < 0.5 else float(rng.uniform(0.1, 0.5))}


def _with_scar(image: Image, anatomy: Image, seed: int) -> tuple[list[Image], Image]:
    """Place a random scar (a few tries: some segments may lie outside a short stack) and synthesize it."""
    rng = np.random.default_rng(seed)
    last_error = None
    for _ in range(5):
        try:
            edit = place_scar(anatomy, seed=seed, **_scar_parameters(rng))
        except InputError as error:
            last_error = error
            continue
        result = TemplateSynthesizer().synthesize([image], edit.labels, EMIDEC, ["lge"], seed=seed)
        return result.channels, edit.labels.with_array(edit.labels.array.astype(np.uint8), name="labels")
    raise InputError(f"could not place a scar on this heart after 5 tries ({last_error})")


def _phantom_case(seed: int) -> Case:
    image, anatomy = make_lge_phantom(seed=seed)
    channels, labels = _with_scar(image.with_array(image.array, name="lge"), anatomy, seed)
    return Case(f"LGE phantom seed {seed}", channels, labels, PHANTOM.name)


def _sunnybrook_case(root: Path, case: str, seed: int) -> Case:
    folder = root / "sunnybrook_cine"
    anatomy = _load(folder / f"{case}_label.nii.gz", "anatomy")
    anatomy = anatomy.with_array(anatomy.array.astype(np.uint8))
    cine = _load(folder / f"{case}_image.nii.gz", "cine")
    image = lge_like_from_labels(anatomy, seed=seed, image=cine)
    channels, labels = _with_scar(image.with_array(image.array, name="lge"), anatomy, seed)
    return Case(f"{case} LGE-like seed {seed}", channels, labels, SUNNYBROOK.name)


def cardiac_scar_dataset(seed: int = 0, phantom_cases: int = 24, sunnybrook_variants: int = 3,
                         validation_cases: int = 4, root: str | os.PathLike | None = None) -> Dataset:
    """LGE-like phantoms and Sunnybrook-based LGE-like images, each with a placed, synthesized scar."""
    root = data_root(root)
    training = [CaseSpec(f"phantom {k}", PHANTOM.name, lambda s=seed * 1000 + k: _phantom_case(s))
                for k in range(phantom_cases)]
    # Sunnybrook hearts 1, 2, 4 train; heart 5 is kept for validation (an unseen real anatomy).
    for k in range(sunnybrook_variants):
        for case in SUNNYBROOK_CASES[:3]:
            training.append(CaseSpec(f"{case} variant {k}", SUNNYBROOK.name,
                                     lambda c=case, s=seed * 1000 + k: _sunnybrook_case(root, c, s)))
    validation = []
    for k in range(validation_cases):
        s = seed * 1000 + 500 + k
        if k % 2 == 0:
            validation.append(CaseSpec(f"{SUNNYBROOK_CASES[3]} validation {k}", SUNNYBROOK.name,
                                       lambda s=s: _sunnybrook_case(root, SUNNYBROOK_CASES[3], s)))
        else:
            validation.append(CaseSpec(f"phantom validation {k}", PHANTOM.name, lambda s=s: _phantom_case(s)))
    return Dataset("cardiac-scar-lge", "cardiac-scar", ["lge"], training, validation, [PHANTOM, SUNNYBROOK],
                   "LGE-like phantoms and Sunnybrook anatomies rendered LGE-like, with scars placed by AHA segment "
                   "and synthesized; validation on an unseen Sunnybrook heart and unseen phantoms",
                   {"seed": seed, "phantom_cases": phantom_cases, "sunnybrook_variants": sunnybrook_variants,
                    "validation_cases": validation_cases})


# ---------------------------------------------------------------- toy data for tests and smoke runs


def toy_case(task: str, channels: list[str], seed: int, shape=(24, 32, 32), spacing=(2.0, 2.0, 2.0)) -> Case:
    """A seeded blob lesion in noise: nested shells carry the task's labels, each channel its own contrast."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    center = [rng.uniform(0.35 * n, 0.65 * n) for n in shape]
    radius = np.sqrt(sum((g - c) ** 2 for g, c in zip((zz, yy, xx), center, strict=True)))
    size = rng.uniform(0.18, 0.28) * min(shape)
    values = [1, 2, 4] if task == "brain-tumor" else [1, 2, 3]
    labels = np.zeros(shape, np.uint8)
    for value, fraction in zip(values[::-1], (1.0, 0.7, 0.4), strict=True):
        labels[radius <= size * fraction] = value
    images = []
    for c, name in enumerate(channels):
        contrast = np.array([0.0, 1.0 + c, -1.0 - 0.5 * c, 2.0, 3.0 - c])
        array = 10.0 + contrast[np.minimum(labels, 4)] * 2.0 + rng.normal(0.0, 0.5, shape)
        images.append(Image.from_array(array.astype(np.float32), spacing, name=name))
    return Case(f"toy {seed}", images, Image.from_array(labels, spacing, name="labels"), TOY.name)


def toy_dataset(task: str, channels: list[str], seed: int = 0, training_cases: int = 3,
                validation_cases: int = 1, shape=(24, 32, 32)) -> Dataset:
    """Tiny seeded volumes for tests and smoke runs of the training pipeline (seconds, not minutes)."""
    channels = [canonical_channel(c) for c in channels]
    make = lambda s: CaseSpec(f"toy {s}", TOY.name, lambda: toy_case(task, channels, s, shape))  # noqa: E731
    return Dataset(f"toy-{task}", task, channels, [make(seed * 100 + k) for k in range(training_cases)],
                   [make(seed * 100 + 50 + k) for k in range(validation_cases)], [TOY],
                   "seeded toy blobs (pipeline tests only)", {"seed": seed, "shape": list(shape)})


def default_dataset(task: str, channels: list[str], seed: int = 0, root: str | os.PathLike | None = None) -> Dataset:
    """The data a shipped default for ``task`` + ``channels`` is trained on."""
    if task == "brain-tumor":
        return brain_tumor_dataset(channels, seed, root=root)
    if task == "cardiac-scar":
        if [canonical_channel(c) for c in channels] != ["lge"]:
            raise InputError(f"cardiac-scar training reads the channel lge only, not {channels}")
        return cardiac_scar_dataset(seed, root=root)
    raise InputError(f"task {task!r} has no default training data; use brain-tumor or cardiac-scar")
