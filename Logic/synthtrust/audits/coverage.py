"""The coverage audit (after CARS, arXiv 2603.15525): how many of a data set's scars fall in each cell of a
grid of clinical features (AHA segment x transmurality band [x size]), which cells are empty or thin, and
edits that fill the empty cells in the data set's own anatomies.

A case's scar counts once in every AHA segment it touches; its transmurality there is the deepest wall depth
its voxels reach (0 endocardium .. 1 epicardium, ``editing.cardiac``); its size is the whole scar's volume.
Cases of 2D slices are counted per patient, its slices stacked in slice order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from synthtrust.datasets import DiskDataset, load_case
from synthtrust.editing.cardiac import aha_segments, ventricle_frame
from synthtrust.editing.scar import place_scar
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import save_image
from synthtrust.labels.schema import EMIDEC
from synthtrust.synthesis.template import TemplateSynthesizer
from synthtrust.training.datasets import Case

GRID_AXES = ("segment", "transmurality", "size")
TRANSMURALITY_BANDS = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0001))
SIZE_BANDS_ML = ((0.0, 2.0), (2.0, 8.0), (8.0, float("inf")))
THIN = 2  # a cell with fewer lesions than this (but some) is thin


def band_name(bands, value: float, unit: str = "") -> str:
    for low, high in bands:
        if low <= value < high:
            return f"{low:g}-{min(high, 1.0) if unit == '' else high:g}{unit}"
    return f">{bands[-1][0]:g}{unit}"


def _names(axis: str) -> list[str]:
    if axis == "segment":
        return [str(s) for s in range(1, 18)]
    if axis == "transmurality":
        return [band_name(TRANSMURALITY_BANDS, low) for low, _ in TRANSMURALITY_BANDS]
    return [band_name(SIZE_BANDS_ML, low, " mL") for low, _ in SIZE_BANDS_ML]


@dataclass
class Coverage:
    grid: list[str]
    cells: dict[str, int] = field(default_factory=dict)  # "7|0.5-0.75" -> lesions
    lesions: list[dict] = field(default_factory=list)

    def empty(self) -> list[str]:
        return [cell for cell, count in self.cells.items() if count == 0]

    def thin(self) -> list[str]:
        return [cell for cell, count in self.cells.items() if 0 < count < THIN]

    def to_dict(self) -> dict:
        return {**asdict(self), "empty": self.empty(), "thin": self.thin(), "thin_below": THIN,
                "transmurality": "deepest wall depth the scar reaches in the segment (0 endo .. 1 epi)"}


def stacked_cases(dataset: DiskDataset) -> list[Case]:
    """One case per patient (slices of a 2D data set stacked in name order)."""
    if not dataset.two_dimensional:
        return [load_case(c, dataset) for c in dataset.cases]
    cases = []
    for patient in sorted({c.patient for c in dataset.cases}):
        slices = [load_case(c, dataset) for c in sorted(dataset.cases, key=lambda c: c.name) if c.patient == patient]
        spacing = slices[0].labels.spacing
        image = Image.from_array(np.concatenate([s.channels[0].array for s in slices]), spacing, name="lge")
        labels = Image.from_array(np.concatenate([s.labels.array for s in slices]), spacing, name="labels")
        cases.append(Case(patient, [image], labels, slices[0].source))
    return cases


def lesions_of(case: Case) -> list[dict]:
    scar = np.isin(case.labels.array, EMIDEC.region("scar").labels)
    if not scar.any():
        return []
    segments = aha_segments(case.labels).array
    depth = ventricle_frame(case.labels).depth
    volume = float(scar.sum() * case.labels.geometry.voxel_volume_ml)
    found = []
    for segment in sorted(int(s) for s in np.unique(segments[scar]) if s > 0):
        inside = scar & (segments == segment)
        reach = float(np.nanmax(depth[inside])) if np.isfinite(depth[inside]).any() else 0.0
        found.append({"case": case.name, "segment": segment, "transmurality": round(reach, 3),
                      "size_ml": round(volume, 2)})
    return found


def _cell(lesion: dict, grid: list[str]) -> str:
    parts = {"segment": str(lesion["segment"]),
             "transmurality": band_name(TRANSMURALITY_BANDS, lesion["transmurality"]),
             "size": band_name(SIZE_BANDS_ML, lesion["size_ml"], " mL")}
    return "|".join(parts[a] for a in grid)


def coverage(cases: list[Case], grid: list[str]) -> Coverage:
    unknown = [a for a in grid if a not in GRID_AXES]
    if unknown or not grid:
        raise InputError(f"grid axes {unknown or grid} are unknown; use segment,transmurality[,size]")
    result = Coverage(grid)
    names = [[]]
    for axis in grid:
        names = [n + [v] for n in names for v in _names(axis)]
    result.cells = {"|".join(n): 0 for n in names}
    for case in cases:
        for lesion in lesions_of(case):
            result.lesions.append(lesion)
            result.cells[_cell(lesion, grid)] += 1
    return result


def draw(result: Coverage, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = _names(result.grid[0]), _names(result.grid[1]) if len(result.grid) > 1 else [""]
    counts = np.zeros((len(rows), len(columns)))
    for cell, count in result.cells.items():
        parts = cell.split("|")
        counts[rows.index(parts[0]), columns.index(parts[1]) if len(parts) > 1 else 0] += count
    figure, axis = plt.subplots(figsize=(1.6 + 1.3 * len(columns), 0.35 * len(rows) + 1.5))
    shown = axis.imshow(counts, cmap="viridis", aspect="auto")
    for r in range(len(rows)):
        for c in range(len(columns)):
            axis.text(c, r, "empty" if counts[r, c] == 0 else int(counts[r, c]), ha="center", va="center",
                      color="w" if counts[r, c] < counts.max() / 2 else "k", fontsize=7)
    axis.set_yticks(range(len(rows)), rows)
    axis.set_xticks(range(len(columns)), columns)
    axis.set_ylabel(result.grid[0])
    axis.set_xlabel(result.grid[1] if len(result.grid) > 1 else "")
    figure.colorbar(shown, label="lesions")
    axis.set_title("coverage (size summed)" if "size" in result.grid else "coverage")
    figure.tight_layout()
    figure.savefig(path, dpi=90, format="png")
    plt.close(figure)


def fill(result: Coverage, cases: list[Case], per_cell: int, folder: Path, seed: int = 0,
         log: Callable[[str], None] = print) -> list[dict]:
    """``per_cell`` edits for each empty (segment, transmurality) cell, each placed in one of the cases'
    anatomies (cycled), painted by the template engine, written as EMIDEC ``<case>_image/_label``."""
    if result.grid[:2] != ["segment", "transmurality"]:
        raise InputError("--fill needs --grid segment,transmurality[,size]: the edits are placed by segment and "
                         "transmurality")
    hosts = [c for c in cases if (c.labels.array == 1).any() and np.isin(c.labels.array, (2, 3, 4)).any()]
    if not hosts:
        raise InputError("no case has a blood pool and a myocardium to place scars in")
    targets = sorted({tuple(cell.split("|")[:2]) for cell in result.empty()}, key=lambda t: (int(t[0]), t[1]))
    made, k = [], 0
    for segment, band in targets:
        low, high = (float(v) for v in band.split("-"))
        for _ in range(per_cell):
            host = hosts[k % len(hosts)]
            k += 1
            anatomy = host.labels.array.copy()
            anatomy[anatomy > 2] = 2
            try:
                edit = place_scar(host.labels.with_array(anatomy), [int(segment)], min(1.0, (low + high) / 2),
                                  extent=0.9, seed=seed + k)
            except InputError as error:
                made.append({"cell": f"{segment}|{band}", "host": host.name, "status": f"not placed: {error}"})
                continue
            painted = TemplateSynthesizer().synthesize(host.channels, edit.labels, EMIDEC, ["lge"], seed=seed + k)
            name = f"fill_{k:04d}_seg{segment}"
            save_image(painted.channels[0], folder / f"{name}_image.nii.gz")
            save_image(edit.labels.with_array(edit.labels.array.astype(np.uint8)), folder / f"{name}_label.nii.gz")
            made.append({"cell": f"{segment}|{band}", "host": host.name, "case": name, "status": "ok",
                         "parameters": {key: edit.parameters[key] for key in ("segments", "transmurality", "extent",
                                                                               "irregularity", "seed")}})
    log(f"filled {sum(m['status'] == 'ok' for m in made)} of {len(made)} edits in {len(targets)} empty cells")
    return made
