"""Trust factors T1-T5, defined after the five factors of arXiv 2502.02076 (its formulas are not
published; ours are in docs/metrics-and-trust.md and travel with every value).

Inputs are Dice tables ``case -> region -> Dice`` for a real and a synthetic test set, or for the N
synthetic variants of one edit (then the variants are the cases and the real set is optional).
Confidence intervals: percentile bootstrap over cases (each test set resampled independently).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from synthtrust.errors import InputError

SOURCE = "after the five factors of arXiv 2502.02076"

FORMULAS = {
    "T1": "T1 = mean over cases c and regions k of D(c,k)",
    "T2": "T2 = 1 - std_k(mean_c D(c,k)) / mean_k(mean_c D(c,k))",
    "T3": "T3(k) = 1 - |mean_c D_r(c,k) - mean_c D_s(c,k)|",
    "T4": "T4(k) = mean_c D_r(c,k) - mean_c D_s(c,k) (signed; overall: means over cases and regions)",
    "T5": "T5(k) = std over cases c of D(c,k) (population std, ddof=0; lower is better)",
}
TITLES = {"T1": "overall performance", "T2": "regional consistency", "T3": "real-synthetic alignment",
          "T4": "performance difference", "T5": "predictive variability"}


@dataclass
class DiceTable:
    """Dice per case (rows) and region (columns); NaN marks an undefined value."""

    cases: list[str]
    regions: list[str]
    values: np.ndarray  # (cases, regions)

    @classmethod
    def from_scores(cls, scores: Mapping[str, Mapping[str, float]]) -> DiceTable:
        if not scores:
            raise InputError("a Dice table needs at least one case")
        cases = list(scores)
        regions = list(next(iter(scores.values())))
        for case, row in scores.items():
            if list(row) != regions:
                raise InputError(f"case {case!r} has regions {list(row)}, expected {regions}")
        values = np.array([[float(scores[c][r]) for r in regions] for c in cases], dtype=float)
        return cls(cases, regions, values)


@dataclass
class TrustValue:
    factor: str
    region: str
    test_set: str
    value: float
    ci_low: float
    ci_high: float
    formula: str
    note: str = ""

    def row(self) -> dict:
        return {"factor": f"{self.factor} {TITLES[self.factor]}", "region": self.region, "test set": self.test_set,
                "value": self.value, "CI low": self.ci_low, "CI high": self.ci_high, "formula": self.formula,
                "note": self.note}


@dataclass
class TrustReport:
    n_bootstrap: int
    confidence: float
    values: list[TrustValue] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"source": SOURCE, "n_bootstrap": self.n_bootstrap, "confidence": self.confidence,
                "formulas": FORMULAS, "values": [asdict(v) for v in self.values], "undefined": self.undefined}

    @classmethod
    def from_dict(cls, data: dict) -> TrustReport:
        """The report of :meth:`to_dict` (as read back from JSON: undefined values may be null)."""
        def number(value) -> float:
            return float("nan") if value is None else float(value)

        values = [TrustValue(v["factor"], v["region"], v["test_set"], number(v["value"]), number(v["ci_low"]),
                             number(v["ci_high"]), v["formula"], v.get("note", "")) for v in data.get("values", [])]
        return cls(int(data["n_bootstrap"]), float(data["confidence"]), values, list(data.get("undefined", [])))

    def rows(self) -> list[dict]:
        return [v.row() for v in self.values]

    def get(self, factor: str, region: str = "all", test_set: str | None = None) -> TrustValue:
        for value in self.values:
            if value.factor == factor and value.region == region and (test_set is None or value.test_set == test_set):
                return value
        raise KeyError(f"no {factor} value for region {region!r} and test set {test_set!r}")


def _regional_consistency(values: np.ndarray) -> float:
    means = np.nanmean(values, axis=0)
    overall = float(np.nanmean(means))
    return float(1.0 - np.nanstd(means) / overall) if overall > 0 else float("nan")


def _bootstrap(statistic: Callable[..., float], tables: list[np.ndarray], n: int, rng: np.random.Generator,
               confidence: float) -> tuple[float, float, str]:
    """Percentile bootstrap: resample the cases of each table independently."""
    if all(t.shape[0] < 2 for t in tables):
        value = statistic(*tables)
        return value, value, "one case per test set: no interval"
    samples = np.empty(n)
    for i in range(n):
        resampled = [t[rng.integers(0, t.shape[0], t.shape[0])] for t in tables]
        samples[i] = statistic(*resampled)
    alpha = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore"):
        low, high = np.nanpercentile(samples, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high), ""


def compute_trust(real: DiceTable | None, synthetic: DiceTable, n_bootstrap: int = 1000, seed: int = 0,
                  confidence: float = 0.95) -> TrustReport:
    """T1-T5 with bootstrap intervals; T3/T4 only when a real test set is given."""
    if real is not None and real.regions != synthetic.regions:
        raise InputError(f"real regions {real.regions} differ from synthetic regions {synthetic.regions}")
    rng = np.random.default_rng(seed)
    report = TrustReport(n_bootstrap, confidence)
    sets = [("synthetic", synthetic)] + ([("real", real)] if real is not None else [])

    def add(factor, region, test_set, statistic, tables):
        value = float(statistic(*tables))
        low, high, note = _bootstrap(statistic, tables, n_bootstrap, rng, confidence)
        report.values.append(TrustValue(factor, region, test_set, value, low, high, FORMULAS[factor], note))

    for name, table in sets:
        add("T1", "all", name, lambda v: float(np.nanmean(v)), [table.values])
        add("T2", "all", name, _regional_consistency, [table.values])
        for k, region in enumerate(table.regions):
            add("T5", region, name, lambda v, k=k: float(np.nanstd(v[:, k])), [table.values])
    if real is None:
        report.undefined.append("T3 and T4 compare a real with a synthetic test set: give a real image with a "
                                "reference segmentation to compute them")
        return report
    pair = [real.values, synthetic.values]
    for k, region in enumerate(synthetic.regions):
        add("T3", region, "real vs synthetic",
            lambda r, s, k=k: 1.0 - abs(float(np.nanmean(r[:, k]) - np.nanmean(s[:, k]))), pair)
        add("T4", region, "real vs synthetic",
            lambda r, s, k=k: float(np.nanmean(r[:, k]) - np.nanmean(s[:, k])), pair)
    add("T4", "all", "real vs synthetic", lambda r, s: float(np.nanmean(r) - np.nanmean(s)), pair)
    return report


def trust_over_variants(variants: Mapping[str, Mapping[str, float]], real: Mapping[str, float] | None = None,
                        n_bootstrap: int = 1000, seed: int = 0) -> TrustReport:
    """T1-T5 over the synthetic variants of one edit (``case -> region -> Dice``); with the real image's
    Dice per region (its segmentation scored against the reference), T3/T4 compare real with synthetic."""
    real_table = DiceTable.from_scores({"real image": dict(real)}) if real is not None else None
    return compute_trust(real_table, DiceTable.from_scores(variants), n_bootstrap=n_bootstrap, seed=seed)
