"""Label schemas: which label values a map may hold and which evaluation regions they form.

Brain tumour (BraTS): sub-regions NCR, ED, ET and composites TC = NCR+ET(+NET), WT = all tumour.
Numberings: 2015 (1 NCR, 2 ED, 3 NET, 4 ET), 2021 (1 NCR, 2 ED, 4 ET), 2023 (1 NCR, 2 ED, 3 ET).
Cardiac (EMIDEC): 1 LV blood pool, 2 normal myocardium, 3 scar (infarct), 4 MVO (no-reflow).
Regions follow the EMIDEC challenge: myocardium = 2+3+4, scar = 3+4 (MVO is infarcted tissue), MVO = 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthtrust.errors import InputError


@dataclass(frozen=True)
class Region:
    """An evaluation region: the union of some label values."""

    name: str
    labels: tuple[int, ...]
    description: str


@dataclass(frozen=True)
class LabelSchema:
    """Allowed label values (0 is always background) and the regions metrics are reported on."""

    name: str
    labels: dict[int, str]
    regions: tuple[Region, ...]
    colors: dict[int, tuple[float, float, float]]
    # Labels that are the lesion (what an edit creates and synthesis paints); the others are anatomy.
    lesion_labels: tuple[int, ...] = ()

    def label_value(self, label_name: str) -> int:
        for value, name in self.labels.items():
            if name == label_name:
                return value
        raise KeyError(f"schema {self.name} has no label {label_name!r}; it has {list(self.labels.values())}")

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(f"schema {self.name} has no region {name!r}; it has {[r.name for r in self.regions]}")

    def validate(self, array: np.ndarray, source: str = "label map") -> None:
        """Refuse values outside the schema, naming them and the allowed ones."""
        if array.dtype.kind == "f":
            if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
                raise InputError(f"{source} holds non-integer values; a label map must hold integer labels")
        present = np.unique(array)
        allowed = set(self.labels) | {0}
        unknown = [int(v) for v in present if int(v) not in allowed]
        if unknown:
            raise InputError(
                f"{source} holds labels {unknown} that are not in the '{self.name}' schema (allowed: "
                f"{sorted(allowed)} = background, {', '.join(f'{k} {v}' for k, v in self.labels.items())}); "
                "choose the matching --schema or relabel the map"
            )

    def region_mask(self, array: np.ndarray, region: str | Region) -> np.ndarray:
        region = self.region(region) if isinstance(region, str) else region
        return np.isin(array, region.labels)

    def region_masks(self, array: np.ndarray) -> dict[str, np.ndarray]:
        return {region.name: self.region_mask(array, region) for region in self.regions}

    def foreground_labels(self) -> tuple[int, ...]:
        return tuple(sorted(self.labels))

    def lesion_mask(self, array: np.ndarray) -> np.ndarray:
        """Voxels that belong to the lesion (the edit region), not to anatomy."""
        return np.isin(array, self.lesion_labels or self.foreground_labels())


_TUMOR_COLORS = {"NCR": (0.8, 0.2, 0.2), "ED": (0.2, 0.8, 0.2), "NET": (0.8, 0.6, 0.2), "ET": (1.0, 1.0, 0.2)}


def brats_schema(numbering: int = 2021) -> LabelSchema:
    """BraTS labels in the 2015, 2021 (also 2017-2022) or 2023 numbering."""
    if numbering == 2015:
        labels = {1: "NCR", 2: "ED", 3: "NET", 4: "ET"}
    elif numbering == 2021:
        labels = {1: "NCR", 2: "ED", 4: "ET"}
    elif numbering == 2023:
        labels = {1: "NCR", 2: "ED", 3: "ET"}
    else:
        raise InputError(f"BraTS numbering {numbering} is unknown; use 2015, 2021 or 2023")
    by_name = {v: k for k, v in labels.items()}
    core = tuple(sorted(by_name[n] for n in ("NCR", "NET", "ET") if n in by_name))
    regions = (
        Region("NCR", (by_name["NCR"],), "necrotic tumour core"),
        Region("ED", (by_name["ED"],), "peritumoral edema"),
        Region("ET", (by_name["ET"],), "enhancing tumour"),
        Region("TC", core, "tumour core = NCR + ET" + (" + NET" if "NET" in by_name else "")),
        Region("WT", tuple(sorted(labels)), "whole tumour = all tumour labels"),
    )
    suffix = "" if numbering == 2021 else str(numbering)
    return LabelSchema(f"brats{suffix}", labels, regions, {k: _TUMOR_COLORS[v] for k, v in labels.items()},
                       tuple(sorted(labels)))


EMIDEC = LabelSchema(
    "emidec",
    {1: "blood pool", 2: "myocardium", 3: "scar", 4: "MVO"},
    (
        Region("blood pool", (1,), "left-ventricular cavity"),
        Region("myocardium", (2, 3, 4), "whole LV myocardium = normal + scar + MVO"),
        Region("scar", (3, 4), "infarct = scar + MVO (EMIDEC evaluation)"),
        Region("MVO", (4,), "microvascular obstruction (no-reflow)"),
    ),
    {1: (0.9, 0.4, 0.4), 2: (0.6, 0.3, 0.1), 3: (1.0, 0.9, 0.2), 4: (0.3, 0.3, 1.0)},
    (3, 4),
)

BINARY = LabelSchema(
    "binary",
    {1: "lesion"},
    (Region("lesion", (1,), "the labelled lesion"),),
    {1: (1.0, 0.3, 0.3)},
    (1,),
)

SCHEMA_NAMES = ("brats", "brats2015", "brats2023", "emidec", "binary")
TASK_SCHEMAS = {"brain-tumor": "brats", "cardiac-scar": "emidec"}


def get_schema(name: str) -> LabelSchema:
    """Look a schema up by name: brats (2021 numbering), brats2015, brats2023, emidec, binary."""
    key = name.lower()
    if key in ("brats", "brats2021"):
        return brats_schema(2021)
    if key == "brats2015":
        return brats_schema(2015)
    if key == "brats2023":
        return brats_schema(2023)
    if key == "emidec":
        return EMIDEC
    if key == "binary":
        return BINARY
    raise InputError(f"schema {name!r} is unknown; use one of {', '.join(SCHEMA_NAMES)}")
