"""The one definition of the results tables: which columns, in which order, with keys, titles, units and
descriptions taken from the metric catalogue (:mod:`synthtrust.metrics.catalogue`) and the trust factors'
formulas. The scene table, the panel, the demo's report and scene, and sweep CSVs all build their rows here,
from the typed records (:mod:`synthtrust.results.records`).
"""

from __future__ import annotations

from dataclasses import dataclass

from synthtrust.metrics.catalogue import ENTRIES_BY_NAME
from synthtrust.results.records import RunRecord, SweepRow, Variant, number
from synthtrust.trust.factors import FORMULAS, TITLES

TRUST_FACTORS = ("T1", "T2", "T3", "T4", "T5")


@dataclass(frozen=True)
class Column:
    key: str  # the value's name in the records (catalogue name, or "<region> <metric>" in sweep rows)
    title: str
    unit: str
    description: str

    @property
    def header(self) -> str:
        return f"{self.title} ({self.unit})" if self.unit and self.unit != "count" else self.title


def column(name: str) -> Column:
    """The column of a catalogue entry, or of a trust factor (T1-T5, described by its formula)."""
    if name in FORMULAS:
        return Column(name, name, "", f"{name} {TITLES[name]}: {FORMULAS[name]}")
    entry = ENTRIES_BY_NAME[name]
    return Column(entry.name, entry.title, entry.unit, entry.description)


def columns(*names: str) -> tuple[Column, ...]:
    return tuple(column(name) for name in names)


# The results table of a run (scene table, panel): one row per (variant or real image, segmenter, region).
RESULTS_IDENTITY = columns("case", "seed", "segmenter", "region")
RESULTS_METRICS = columns("dice", "hd95", "surface_dice", "reference_volume_ml", "predicted_volume_ml")
RESULTS_AUDITS = columns("fidelity_passed", "fidelity_dice", "hallucinated_ml", "off_target_voxels", "realism_score")
RESULTS_TRUST = columns(*TRUST_FACTORS)
RESULTS_TABLE = (*RESULTS_IDENTITY, *RESULTS_METRICS, *RESULTS_AUDITS, *RESULTS_TRUST)
# The demo report's tables: every metric per region; audits and timings per variant.
DEMO_METRICS = columns("dice", "hd95", "mean_surface_distance", "surface_dice", "reference_volume_ml",
                       "predicted_volume_ml", "volume_difference_ml", "detected_tp", "detected_fn", "detected_fp")
DEMO_AUDITS = columns("fidelity_dice", "fidelity_passed", "realism_score", "realism_worst", "hallucinated_ml",
                      "off_target_voxels", "synthesis_seconds", "segmentation_seconds")
# Every value a sweep row can hold (its CSV columns are these keys; region metrics are "<region> <metric>").
SWEEP_FIELDS = columns("segmenter", "segment", "transmurality", "extent", "position", "center_lps", "size_mm",
                       "variant", "seed", "status", "lesion_ml", "fidelity_dice", "fidelity_passed",
                       "hallucinated_ml", "off_target_voxels", "synthesis_seconds", "segmentation_seconds",
                       "evaluation_seconds", "total_seconds")
SWEEP_METRICS = columns("dice", "hd95", "surface_dice", "reference_volume_ml", "predicted_volume_ml")
TABLES = {"results": RESULTS_TABLE, "demo metrics": (*columns("case", "seed", "region"), *DEMO_METRICS),
          "demo audits": (*columns("case", "seed"), *DEMO_AUDITS), "sweep": (*SWEEP_FIELDS, *SWEEP_METRICS)}
DICE = column("dice")
FIDELITY_DICE = column("fidelity_dice")
SEED = column("seed")
SEGMENT = column("segment")
VARIANT = column("variant")


def descriptions(table=RESULTS_TABLE) -> dict[str, str]:
    """Header -> description (tooltips, table node column descriptions)."""
    return {c.header: c.description for c in table}


def _trust_lookup(run: RunRecord) -> dict[int, dict]:
    lookup = {}
    for trust in run.trust:
        values = {}
        for value in trust.report.values:
            values.setdefault((value.factor, value.region), value.value)
        lookup[trust.segmenter] = values
    return lookup


def _trust_value(values: dict, factor: str, region: str) -> float:
    # T1, T2 are over all regions; T4 has a per-region value only with a real image (else its overall one).
    overall = factor in ("T1", "T2") or (factor == "T4" and (factor, region) not in values)
    return number(values.get((factor, "all" if overall else region)))


def results_rows(run: RunRecord | dict) -> list[dict]:
    """The results table: one row per (variant or real image, segmenter, region), keyed by header."""
    run = RunRecord.coerce(run)
    if run is None:
        return []
    trust = _trust_lookup(run)
    cases = [(f"v{v.index + 1}", v.seed, p) for v in run.variants for p in v.predictions]
    cases += [("real", run.seed, p) for p in run.real or []]
    rows = []
    for case, seed, prediction in cases:
        if prediction.metrics is None:
            continue
        factors = trust.get(prediction.segmenter, {})
        for region, metrics in prediction.metrics.regions.items():
            values = {"case": case, "seed": int(seed), "segmenter": run.segmenter_id(prediction.segmenter),
                      "region": region}
            values.update({c.key: number(getattr(metrics, c.key)) for c in RESULTS_METRICS})
            if prediction.audits is not None:
                values.update(prediction.audits.values())
                values.update(prediction.audits.realism_values())
                values["fidelity_passed"] = "pass" if values["fidelity_passed"] else "fail"
            values.update({factor: _trust_value(factors, factor, region) for factor in TRUST_FACTORS})
            rows.append({c.header: values[c.key] for c in RESULTS_TABLE if c.key in values})
    return rows


def dice_per_variant_rows(run: RunRecord | dict) -> list[dict]:
    """Wide rows for the plot: variant number, then one Dice column per (segmenter,) region."""
    run = RunRecord.coerce(run)
    rows = []
    for variant in (run.variants if run else []):
        row = {VARIANT.header: float(variant.index + 1)}
        for prediction in variant.predictions:
            prefix = f"{run.segmenter_id(prediction.segmenter)} " if len(run.segmenters) > 1 else ""
            for region, metrics in (prediction.metrics.regions.items() if prediction.metrics else ()):
                row[f"{prefix}{region} {DICE.header}"] = number(metrics.dice)
        if len(row) > 1:
            rows.append(row)
    return rows


def dice_per_segment_rows(run: RunRecord | dict) -> list[dict]:
    """Wide rows for the sweep's plot: AHA segment, then one Dice column per segmenter (``Dice`` alone when
    there is one); only swept segments whose scar could be placed."""
    run = RunRecord.coerce(run)
    entries = run.sweep.segment_dice if run and run.sweep else []
    segmenters = list(dict.fromkeys(entry.segmenter for entry in entries))
    rows: dict[int, dict] = {}
    for entry in entries:
        name = DICE.header if len(segmenters) == 1 else f"{entry.segmenter} {DICE.header}"
        rows.setdefault(entry.segment, {SEGMENT.header: float(entry.segment)})[name] = number(entry.dice)
    return [rows[segment] for segment in sorted(rows)]


def segment_dice(run: RunRecord | dict) -> dict[int, float]:
    """Dice per AHA segment of a sweep for the bullseye (the first segmenter's), {} for other runs."""
    run = RunRecord.coerce(run)
    entries = run.sweep.segment_dice if run and run.sweep else []
    first = entries[0].segmenter if entries else None
    return {e.segment: float(e.dice) for e in entries if e.segmenter == first}


def _sweep_header(key: str) -> str:
    region, _, name = key.rpartition(" ")
    if region and name in {c.key for c in SWEEP_METRICS}:
        return f"{region} {column(name).header}"
    return column(key).header if key in ENTRIES_BY_NAME else key


def sweep_rows(rows: list[SweepRow] | RunRecord | dict) -> list[dict]:
    """The sweep's tidy table keyed by header, with plain cell values: numbers, or text for the edit's
    status and flags; NaN where a value is missing (an edit that was not placed)."""
    if not isinstance(rows, list):
        run = RunRecord.coerce(rows)
        rows = run.sweep.rows if run and run.sweep else []
    flat = [row.to_json() for row in rows]
    keys = list(dict.fromkeys(key for row in flat for key in row))
    numeric = {k: all(isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool)
                      for r in flat if r.get(k) is not None) for k in keys}
    return [{_sweep_header(k): (number(row.get(k)) if numeric[k] else ("" if row.get(k) is None else str(row.get(k))))
             for k in keys} for row in flat]


def sweep_csv_columns(rows: list[dict]) -> list[str]:
    """The CSV's columns: the union of the rows' keys, in first-seen order."""
    return list(dict.fromkeys(key for row in rows for key in row))


def metric_rows(case: str, variants: list[Variant]) -> list[dict]:
    """The demo's metrics table: one row per variant and region, every metric, keyed by header."""
    rows = []
    for variant in variants:
        for prediction in variant.predictions:
            for region, metrics in (prediction.metrics.regions.items() if prediction.metrics else ()):
                row = {column("case").header: case, column("seed").header: variant.seed, column("region").header: region}
                row.update({c.header: getattr(metrics, c.key) for c in DEMO_METRICS})
                rows.append(row)
    return rows


def audit_rows(case: str, variants: list[Variant]) -> list[dict]:
    """The demo's audits table: one row per variant (first prediction), keyed by header."""
    rows = []
    for variant in variants:
        prediction = variant.predictions[0]
        values = {**prediction.audits.values(), **prediction.audits.realism_values(), "synthesis_seconds": prediction.seconds.get("synthesis"),
                  "segmentation_seconds": prediction.seconds.get("segmentation")}
        rows.append({column("case").header: case, column("seed").header: variant.seed,
                     **{c.header: values[c.key] for c in DEMO_AUDITS}})
    return rows
