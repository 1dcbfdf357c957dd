"""T1-T5 per alpha from the tasks' Dice tables (``synthtrust.trust.factors``: the formulas and the
percentile bootstrap over cases). A case of an alpha is one (seed, test patient): T5 thus spreads over
patients and seeds, as science.md defines it when several predictions exist."""

from __future__ import annotations

import numpy as np

from synthtrust.trust.factors import FORMULAS, SOURCE, DiceTable, compute_trust


def _table(records: list[dict], test_set: str) -> DiceTable:
    scores = {f"seed {r['seed']} / {case}": regions for r in records for case, regions in r["dice"][test_set].items()}
    return DiceTable.from_scores(scores)


def trust_by_alpha(records: list[dict], n_bootstrap: int, seed: int = 0) -> list[dict]:
    """One entry per alpha: the trust report and the mean Dice per region on each test set."""
    out = []
    for alpha in sorted({r["alpha"] for r in records}):
        chosen = [r for r in records if r["alpha"] == alpha]
        real, synthetic = _table(chosen, "real"), _table(chosen, "synthetic")
        report = compute_trust(real, synthetic, n_bootstrap=n_bootstrap, seed=seed)
        means = {name: {region: float(np.nanmean(table.values[:, k])) for k, region in enumerate(table.regions)}
                 for name, table in (("real", real), ("synthetic", synthetic))}
        out.append({"alpha": alpha, "seeds": sorted(r["seed"] for r in chosen), "mean_dice": means,
                    "trust": report.to_dict()})
    return out


def rows(by_alpha: list[dict]) -> list[dict]:
    """The flat table of study.csv: one row per alpha, factor, region and test set."""
    flat = []
    for entry in by_alpha:
        for value in entry["trust"]["values"]:
            flat.append({"alpha": entry["alpha"], "factor": value["factor"], "region": value["region"],
                         "test_set": value["test_set"], "value": value["value"], "ci_low": value["ci_low"],
                         "ci_high": value["ci_high"], "formula": value["formula"]})
    return flat


def verdicts(by_alpha: list[dict]) -> list[dict]:
    """The paper's findings (science.md), each checked against this study's numbers."""
    def value(entry, factor, region="all", test_set=None):
        for v in entry["trust"]["values"]:
            if v["factor"] == factor and v["region"] == region and (test_set is None or v["test_set"] == test_set):
                return v["value"]
        return float("nan")

    found = []
    t4 = [(abs(value(e, "T4")), e["alpha"]) for e in by_alpha]
    best = min(t4)[1] if t4 else float("nan")
    found.append({"finding": "|T4| is smallest near alpha 0.5", "holds": bool(abs(best - 0.5) <= 0.25),
                  "observed": f"|T4| smallest at alpha {best:g}"})
    regions = [v["region"] for v in by_alpha[0]["trust"]["values"] if v["factor"] == "T3"] if by_alpha else []
    if regions:
        middle = min(by_alpha, key=lambda e: abs(e["alpha"] - 0.5))
        t3 = {r: value(middle, "T3", r) for r in regions}
        # The paper's contrast: a large structure (myocardium; edema) against a small one (scar; necrotic core).
        large, small = ("myocardium", "scar") if "myocardium" in t3 else ("ED", "NCR")
        found.append({"finding": f"T3 is higher for large regions ({large}) than small ones ({small})",
                      "holds": bool(t3.get(large, np.nan) > t3.get(small, np.nan)),
                      "observed": f"at alpha {middle['alpha']:g}: " + ", ".join(f"{r} {v:.3f}" for r, v in t3.items())})
    t2 = [(value(e, "T2", test_set="synthetic"), value(e, "T2", test_set="real")) for e in by_alpha]
    found.append({"finding": "synthetic test sets show higher T2", "holds": bool(all(s > r for s, r in t2)),
                  "observed": "; ".join(f"alpha {e['alpha']:g}: synthetic {s:.3f}, real {r:.3f}"
                                        for e, (s, r) in zip(by_alpha, t2, strict=True))})
    t5 = []
    for e in by_alpha:
        syn = [v["value"] for v in e["trust"]["values"] if v["factor"] == "T5" and v["test_set"] == "synthetic"]
        real = [v["value"] for v in e["trust"]["values"] if v["factor"] == "T5" and v["test_set"] == "real"]
        t5.append((float(np.nanmean(syn)), float(np.nanmean(real))))
    found.append({"finding": "synthetic test sets show lower T5", "holds": bool(all(s < r for s, r in t5)),
                  "observed": "; ".join(f"alpha {e['alpha']:g}: synthetic {s:.3f}, real {r:.3f} (mean over regions)"
                                        for e, (s, r) in zip(by_alpha, t5, strict=True))})
    return found


FACTORS = {"source": SOURCE, "formulas": FORMULAS}
