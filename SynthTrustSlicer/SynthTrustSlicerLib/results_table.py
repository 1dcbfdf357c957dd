"""A run's ``results.json`` (as the worker writes it) as rows of the module's tables: the results table
(per case, segmenter and region: metrics, audits, T1-T5), Dice per variant for the plot, and, for a
scar sweep, Dice per AHA segment. Pure Python: the logic turns these rows into table and plot nodes."""

from __future__ import annotations

REGION_COLUMNS = (("dice", "Dice"), ("hd95", "HD95 (mm)"), ("surface_dice", "Surface Dice"),
                  ("reference_volume_ml", "Reference volume (mL)"), ("predicted_volume_ml", "Predicted volume (mL)"))
TRUST_FACTORS = ("T1", "T2", "T3", "T4", "T5")
SEGMENT_COLUMN = "AHA segment"


def _trust_lookup(report: dict) -> dict:
    values = {}
    for value in report.get("values", []):
        values.setdefault((value["factor"], value["region"]), value["value"])
    return values


def results_rows(results: dict) -> list[dict]:
    """One row per (variant or real image, segmenter, region): metrics, audits and T1-T5."""
    segmenters = {s["index"]: s["model_id"] for s in results.get("segmenters", [])}
    trust = {t["segmenter"]: _trust_lookup(t["report"]) for t in results.get("trust", [])}
    cases = [(f"v{v['index'] + 1}", v["seed"], p) for v in results.get("variants", []) for p in v["predictions"]]
    cases += [("real", results.get("seed", 0), p) for p in results.get("real", {}).get("predictions", [])]
    rows = []
    for case, seed, prediction in cases:
        if "metrics" not in prediction:
            continue
        factors = trust.get(prediction["segmenter"], {})
        audits = prediction.get("audits", {})
        for region, metrics in prediction["metrics"]["regions"].items():
            row = {"case": case, "seed": int(seed), "segmenter": segmenters[prediction["segmenter"]],
                   "region": region}
            row.update({title: _number(metrics.get(key)) for key, title in REGION_COLUMNS})
            if audits:
                fidelity = audits["conditioning_fidelity"]
                row["Fidelity"] = "pass" if fidelity["passed"] else "fail"
                row["Fidelity Dice"] = _number(fidelity["dice"])
                row["Hallucinated (mL)"] = _number(audits["hallucination"]["volume_ml"])
                row["Off-target voxels"] = int(audits["off_target_change"]["voxels_changed"])
            for factor in TRUST_FACTORS:
                overall = factor in ("T1", "T2") or (factor == "T4" and (factor, region) not in factors)
                row[factor] = _number(factors.get((factor, "all" if overall else region)))
            rows.append(row)
    return rows


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def dice_per_variant_rows(results: dict) -> list[dict]:
    """Wide rows for the plot: variant number, then one Dice column per (segmenter,) region."""
    segmenters = {s["index"]: s["model_id"] for s in results.get("segmenters", [])}
    rows = []
    for variant in results.get("variants", []):
        row = {"variant": float(variant["index"] + 1)}
        for prediction in variant["predictions"]:
            prefix = f"{segmenters[prediction['segmenter']]} " if len(segmenters) > 1 else ""
            for region, metrics in prediction["metrics"]["regions"].items():
                row[f"{prefix}{region} Dice"] = _number(metrics["dice"])
        if len(row) > 1:
            rows.append(row)
    return rows


def column_descriptions() -> dict:
    """Tooltips: what each column means, T1-T5 with their formulas."""
    from synthtrust.metrics import METRICS_BY_NAME
    from synthtrust.trust.factors import FORMULAS, TITLES

    descriptions = {title: f"{METRICS_BY_NAME[key].description}" for key, title in REGION_COLUMNS}
    descriptions.update({
        "case": "synthetic variant (v1, v2, ...) or the real input image (scored against the reference)",
        "Fidelity": "conditioning fidelity audit: Dice(intended lesion, predicted lesion) >= threshold",
        "Fidelity Dice": "Dice between the intended lesion and the segmenter's lesion",
        "Hallucinated (mL)": "predicted lesion volume more than 2 mm away from the intended lesion",
        "Off-target voxels": "voxels outside the edit region whose value differs from the input (should be 0)",
    })
    for factor in TRUST_FACTORS:
        descriptions[factor] = f"{factor} {TITLES[factor]}: {FORMULAS[factor]}"
    return descriptions


def dice_per_segment_rows(results: dict) -> list[dict]:
    """Wide rows for the sweep's plot: AHA segment, then one Dice column per segmenter (``Dice`` alone
    when there is one); only swept segments whose scar could be placed."""
    entries = (results.get("sweep") or {}).get("segment_dice") or []
    segmenters = list(dict.fromkeys(entry["segmenter"] for entry in entries))
    rows: dict[int, dict] = {}
    for entry in entries:
        column = "Dice" if len(segmenters) == 1 else f"{entry['segmenter']} Dice"
        rows.setdefault(int(entry["segment"]), {SEGMENT_COLUMN: float(entry["segment"])})[column] = _number(
            entry["dice"])
    return [rows[segment] for segment in sorted(rows)]


def segment_dice(results: dict) -> dict[int, float]:
    """Dice per AHA segment of a sweep for the bullseye (the first segmenter's), {} for other runs."""
    entries = (results.get("sweep") or {}).get("segment_dice") or []
    first = entries[0]["segmenter"] if entries else None
    return {int(e["segment"]): float(e["dice"]) for e in entries if e["segmenter"] == first}


def sweep_rows(results: dict) -> list[dict]:
    """The sweep's tidy table (one row per segmenter, edit and variant) with plain cell values: numbers,
    or text for the edit's status and flags; NaN where a value is missing (an edit that was not placed)."""
    rows = (results.get("sweep") or {}).get("rows") or []
    columns = list(dict.fromkeys(key for row in rows for key in row))
    numeric = {c: all(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
                      for r in rows if r.get(c) is not None) for c in columns}
    return [{c: (_number(row.get(c)) if numeric[c] else ("" if row.get(c) is None else str(row.get(c))))
             for c in columns} for row in rows]
