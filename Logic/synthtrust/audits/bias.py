"""The bias audit (after the subgroup gaps of arXiv 2312.06979): a metric stratified by lesion size, AHA segment
or transmurality, each stratum's mean with a percentile-bootstrap CI, the gap between the best and the worst
stratum, and strata flagged when their whole CI lies below the overall mean.

Sources: a sweep CSV (one row per edit; columns named by the results catalogue) or a trust study's
``study.json`` (one value per task and real test patient; size from the patient's reference lesion)."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from synthtrust.errors import InputError
from synthtrust.results.table import column

ATTRIBUTES = ("size", "segment", "transmurality")
SIZE_STRATA = ("small", "medium", "large")  # tertiles of the lesion volume within the results


@dataclass
class Stratum:
    attribute: str
    stratum: str
    n: int
    mean: float
    ci_low: float
    ci_high: float
    flagged: bool = False


@dataclass
class BiasAudit:
    source: str
    metric: str
    overall_mean: float
    n_bootstrap: int
    confidence: float
    strata: list[Stratum] = field(default_factory=list)
    gaps: dict[str, float] = field(default_factory=dict)  # attribute -> best minus worst stratum mean

    def to_dict(self) -> dict:
        return {**asdict(self), "rule": "flagged: the stratum's whole CI lies below the overall mean",
                "ci": "percentile bootstrap over the stratum's values"}


def _interval(values: np.ndarray, n: int, rng: np.random.Generator, confidence: float) -> tuple[float, float]:
    if len(values) < 2:
        return float(values.mean()), float(values.mean())
    means = values[rng.integers(0, len(values), (n, len(values)))].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def _size_strata(volumes: np.ndarray) -> list[str]:
    low, high = np.percentile(volumes, [100 / 3, 200 / 3])
    return [SIZE_STRATA[0] if v <= low else SIZE_STRATA[1] if v <= high else SIZE_STRATA[2] for v in volumes]


def audit(values: np.ndarray, attributes: dict[str, list[str]], source: str, metric: str,
          n_bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0) -> BiasAudit:
    """Per-stratum means with CIs for each attribute (attribute -> one stratum name per value)."""
    keep = np.isfinite(values)
    if not keep.any():
        raise InputError(f"{source} has no defined {metric} value to stratify")
    rng = np.random.default_rng(seed)
    overall = float(values[keep].mean())
    result = BiasAudit(source, metric, overall, n_bootstrap, confidence)
    for attribute, names in attributes.items():
        names_array = np.asarray(names, dtype=object)
        means = []
        for stratum in sorted(set(names_array[keep]), key=_order):
            chosen = values[keep & (names_array == stratum)]
            low, high = _interval(chosen, n_bootstrap, rng, confidence)
            result.strata.append(Stratum(attribute, str(stratum), len(chosen), float(chosen.mean()), low, high,
                                         bool(high < overall)))
            means.append(float(chosen.mean()))
        result.gaps[attribute] = float(max(means) - min(means))
    return result


def _order(name: str):
    if name in SIZE_STRATA:
        return (0, SIZE_STRATA.index(name), "")
    try:
        return (1, float(name), "")
    except ValueError:
        return (2, 0, name)


def from_sweep_csv(path: Path, by: list[str], region: str) -> tuple[np.ndarray, dict[str, list[str]], str]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    metric = f"{region} {column('dice').header}"
    headers = {"size": column("lesion_ml").header, "segment": column("segment").header,
               "transmurality": column("transmurality").header}
    if not rows or metric not in rows[0]:
        raise InputError(f"sweep CSV {path} has no column {metric!r}; give --region as the CSV names it "
                         f"(columns: {', '.join(list(rows[0])[:12]) if rows else 'none'})")
    missing = [a for a in by if headers[a] not in rows[0]]
    if missing:
        raise InputError(f"sweep CSV {path} has no column for {missing} (looked for "
                         f"{[headers[a] for a in missing]}); audit only what the sweep varied")

    def number(text: str) -> float:
        try:
            return float(text)
        except (TypeError, ValueError):
            return float("nan")

    values = np.array([number(r[metric]) for r in rows])
    strata = {}
    for attribute in by:
        cells = [r[headers[attribute]] for r in rows]
        if attribute == "size":
            volumes = np.array([number(c) for c in cells])
            strata[attribute] = _size_strata(np.nan_to_num(volumes, nan=0.0))
        else:
            strata[attribute] = [c if c else "none" for c in cells]
    return values, strata, metric


def from_study(path: Path, by: list[str], region: str, alpha: float | None) -> tuple[np.ndarray, dict, str]:
    unsupported = [a for a in by if a != "size"]
    if unsupported:
        raise InputError(f"a study records no {', '.join(unsupported)} per test case; audit a study --by size, or a "
                         "sweep CSV by segment and transmurality")
    study = json.loads(path.read_text(encoding="utf-8"))
    pool_path = path.parent / "work" / "data" / "real_test.npz"
    if not pool_path.is_file():
        raise InputError(f"the study's test pool {pool_path} is missing; run the audit inside the study folder")
    with np.load(pool_path, allow_pickle=False) as pool:
        patients, labels = pool["patients"], pool["labels"]
    lesion = np.isin(labels, (3, 4) if study["settings"]["task"] == "cardiac-scar" else (1, 2, 4))
    size = {p: int(lesion[patients == p].sum()) for p in set(patients.tolist())}
    tasks = [t for t in study["tasks"] if alpha is None or abs(t["alpha"] - alpha) < 1e-9]
    if not tasks:
        raise InputError(f"the study has no task at alpha {alpha}; its alphas are "
                         f"{sorted({t['alpha'] for t in study['tasks']})}")
    values, volumes = [], []
    for task in tasks:
        for patient, regions in task["dice"]["real"].items():
            if region not in regions:
                raise InputError(f"the study has no region {region!r}; its regions are {sorted(regions)}")
            values.append(np.nan if regions[region] is None else regions[region])
            volumes.append(size[patient])
    return np.array(values, float), {"size": _size_strata(np.array(volumes, float))}, f"{region} Dice (real test set)"


def draw(result: BiasAudit, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attributes = list(result.gaps)
    figure, axes = plt.subplots(1, len(attributes), figsize=(5 * len(attributes), 3.6), squeeze=False)
    for axis, attribute in zip(axes[0], attributes, strict=True):
        strata = [s for s in result.strata if s.attribute == attribute]
        x = np.arange(len(strata))
        means = np.array([s.mean for s in strata])
        errors = np.array([[s.mean - s.ci_low for s in strata], [s.ci_high - s.mean for s in strata]])
        axis.bar(x, means, yerr=errors, color=["tab:red" if s.flagged else "tab:blue" for s in strata], capsize=3)
        axis.axhline(result.overall_mean, color="k", lw=1, ls="--")
        axis.set_xticks(x, [f"{s.stratum}\n(n={s.n})" for s in strata], fontsize=7)
        axis.set_title(f"{attribute}: gap {result.gaps[attribute]:.3f}")
        axis.set_ylabel(result.metric)
    figure.suptitle("bias audit (red: CI below the overall mean, dashed)")
    figure.tight_layout()
    figure.savefig(path, dpi=90, format="png")
    plt.close(figure)
