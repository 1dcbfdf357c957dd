"""The records of a run, typed: a run holds its variants, each variant its predictions (one per segmenter),
each prediction its metrics and audits; a run also holds the segmenters, trust per segmenter, the real
image's predictions and, for a sweep, the sweep's rows and Dice per AHA segment.

Each record has ``to_json()`` / ``from_json()``: the JSON is what the worker writes as ``results.json``
(undefined values, NaN, travel as ``null`` and come back as NaN), so readers never index untyped dicts.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from synthtrust.imaging.io import atomic_path
from synthtrust.metrics.catalogue import FIELD_CATALOGUE
from synthtrust.metrics.regions import Evaluation, RegionMetrics
from synthtrust.provenance import to_jsonable
from synthtrust.trust.factors import TrustReport

RESULTS_FILE = "results.json"


def finite_or_none(value):
    """NaN and infinity as ``None`` (JSON's null); everything else unchanged."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def number(value) -> float:
    """A float from JSON: ``None`` (an undefined value) is NaN again."""
    return float("nan") if value is None else float(value)


def plain(value):
    """``value`` with every non-finite float as ``None`` (recursively), ready for strict JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return finite_or_none(value)


@dataclass
class Audits:
    """The audits of one prediction of an edit (:mod:`synthtrust.trust.audits`), and the realism audit of its
    variant (:mod:`synthtrust.trust.realism`; brain tumours only, the same for every segmenter)."""

    conditioning_fidelity: dict  # dice, threshold, passed, definition
    hallucination: dict  # volume_ml, voxels, margin_mm, definition
    off_target_change: dict  # voxels_changed, max_abs_change, definition
    realism: dict | None = None  # score, worst_feature, worst_z, features, z_scores, unreferenced, formula

    @property
    def fidelity_dice(self) -> float:
        return number(self.conditioning_fidelity["dice"])

    @property
    def fidelity_passed(self) -> bool:
        return bool(self.conditioning_fidelity["passed"])

    @property
    def hallucinated_ml(self) -> float:
        return number(self.hallucination["volume_ml"])

    @property
    def off_target_voxels(self) -> int:
        return int(self.off_target_change["voxels_changed"])

    def values(self) -> dict:
        """The audit columns' values by catalogue name (``synthtrust.metrics.catalogue.AUDIT_CATALOGUE``)."""
        return {"fidelity_dice": self.fidelity_dice, "fidelity_passed": self.fidelity_passed,
                "hallucinated_ml": self.hallucinated_ml, "off_target_voxels": self.off_target_voxels}

    @property
    def realism_score(self) -> float:
        return number(self.realism.get("score")) if self.realism else float("nan")

    def realism_values(self) -> dict:
        """The realism columns' values by catalogue name: NaN and "" for a lesion without a realism audit."""
        if not self.realism:
            return {"realism_score": float("nan"), "realism_worst": ""}
        worst, z = self.realism.get("worst_feature", ""), self.realism.get("worst_z")
        return {"realism_score": self.realism_score,
                "realism_worst": f"{worst} (z {z:+.1f})" if worst and z is not None else worst}

    def to_json(self) -> dict:
        data = plain(asdict(self))
        if self.realism is None:  # scars: no realism audit, and the record reads as it always has
            del data["realism"]
        return data

    @classmethod
    def from_json(cls, data: dict) -> Audits:
        return cls(dict(data["conditioning_fidelity"]), dict(data["hallucination"]), dict(data["off_target_change"]),
                   dict(data["realism"]) if data.get("realism") else None)


def _region_from_json(data: dict) -> RegionMetrics:
    values = {}
    for item in fields(RegionMetrics):
        value = data[item.name]
        values[item.name] = value if item.type in ("int", "str") else number(value)
    return RegionMetrics(**values)


@dataclass
class EvaluationRecord:
    """Per-region metrics of one prediction with the policy and tolerance that defined them."""

    schema: str
    surface_dice_tolerance_mm: float
    empty_policy: dict
    regions: dict[str, RegionMetrics]
    lesion_connectivity: str = "26-connected components"
    units: dict = field(default_factory=dict)
    hd95_convention: dict = field(default_factory=dict)  # name and description (synthtrust.metrics.conventions)

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> EvaluationRecord:
        data = evaluation.to_dict()
        return cls(data["schema"], data["surface_dice_tolerance_mm"], data["empty_policy"], dict(evaluation.regions),
                   data["lesion_connectivity"], data["units"], data["hd95_convention"])

    def dice(self) -> dict[str, float]:
        return {name: metrics.dice for name, metrics in self.regions.items()}

    @property
    def policy(self) -> dict:
        return self.empty_policy

    def to_json(self) -> dict:
        return plain({"schema": self.schema, "surface_dice_tolerance_mm": self.surface_dice_tolerance_mm,
                      "empty_policy": self.empty_policy, "hd95_convention": self.hd95_convention,
                      "lesion_connectivity": self.lesion_connectivity,
                      "units": self.units, "regions": {k: v.to_dict() for k, v in self.regions.items()}})

    @classmethod
    def from_json(cls, data: dict) -> EvaluationRecord:
        return cls(data["schema"], float(data["surface_dice_tolerance_mm"]), dict(data["empty_policy"]),
                   {name: _region_from_json(values) for name, values in data["regions"].items()},
                   data.get("lesion_connectivity", ""), dict(data.get("units", {})),
                   dict(data.get("hd95_convention", {})))


@dataclass
class Prediction:
    """One segmenter's prediction on one image (a variant or the real input)."""

    segmenter: int  # index into RunRecord.segmenters
    file: str = ""  # the label map, relative to the outputs folder
    metrics: EvaluationRecord | None = None  # against the intended lesion (variants) or the reference (real)
    audits: Audits | None = None  # variants only
    segmentation: dict = field(default_factory=dict)  # the segmenter's provenance
    seconds: dict[str, float] = field(default_factory=dict)  # synthesis, segmentation, evaluation

    def to_json(self) -> dict:
        data = {"segmenter": self.segmenter, "file": self.file, "segmentation": plain(self.segmentation)}
        if self.metrics is not None:
            data["metrics"] = self.metrics.to_json()
        if self.audits is not None:
            data["audits"] = self.audits.to_json()
        if self.seconds:
            data["seconds"] = dict(self.seconds)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Prediction:
        return cls(int(data["segmenter"]), data.get("file", ""),
                   EvaluationRecord.from_json(data["metrics"]) if data.get("metrics") else None,
                   Audits.from_json(data["audits"]) if data.get("audits") else None,
                   dict(data.get("segmentation") or {}), dict(data.get("seconds") or {}))


@dataclass
class Variant:
    """One synthetic variant: its channel files, the engine's provenance and its predictions."""

    index: int
    seed: int
    channels: list[str] = field(default_factory=list)  # files, relative to the outputs folder
    synthesis: dict = field(default_factory=dict)
    predictions: list[Prediction] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"index": self.index, "seed": self.seed, "channels": list(self.channels),
                "synthesis": plain(self.synthesis), "predictions": [p.to_json() for p in self.predictions]}

    @classmethod
    def from_json(cls, data: dict) -> Variant:
        return cls(int(data["index"]), int(data.get("seed") or 0), list(data.get("channels") or []),
                   dict(data.get("synthesis") or {}), [Prediction.from_json(p) for p in data.get("predictions") or []])


@dataclass
class SegmenterInfo:
    index: int
    model_id: str
    sha256: str = ""
    source: str = ""
    channels: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SegmenterInfo:
        return cls(int(data["index"]), data["model_id"], data.get("sha256", ""), data.get("source", ""),
                   list(data.get("channels") or []))


@dataclass
class TrustRecord:
    """T1-T5 of one segmenter over the run's variants (and the real image, when it had a reference)."""

    segmenter: int
    model_id: str
    report: TrustReport

    def value(self, factor: str, region: str = "all") -> float | None:
        for item in self.report.values:
            if item.factor == factor and item.region == region:
                return item.value
        return None

    def to_json(self) -> dict:
        return {"segmenter": self.segmenter, "model_id": self.model_id, "report": plain(self.report.to_dict()),
                "rows": plain(self.report.rows())}

    @classmethod
    def from_json(cls, data: dict) -> TrustRecord:
        return cls(int(data["segmenter"]), data.get("model_id", ""), TrustReport.from_dict(data["report"]))


SWEEP_REGION_METRICS = ("dice", "hd95", "surface_dice", "reference_volume_ml", "predicted_volume_ml")
_TIMINGS = ("synthesis", "segmentation", "evaluation")


@dataclass
class SweepRow:
    """One row of a sweep's tidy table: an edit (its parameters) and one variant's results, or the reason
    the edit gave none (``status``)."""

    parameters: dict  # segment, transmurality, extent (scar) or position, center_lps, size_mm (tumour)
    status: str = "ok"  # ok, "not placed: ...", "not synthesized: ..."
    segmenter: str = ""
    variant: int | None = None
    seed: int | None = None
    lesion_ml: float | None = None
    regions: dict[str, dict[str, float]] = field(default_factory=dict)  # region -> SWEEP_REGION_METRICS
    audits: Audits | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # synthesis, segmentation, evaluation, total

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def dice(self, region: str) -> float:
        return number(self.regions.get(region, {}).get("dice"))

    def values(self) -> dict:
        """The flat row (CSV columns: the table definition's keys), in a stable order; NaN where undefined."""
        row = {"segmenter": self.segmenter} if self.segmenter else {}
        row.update(self.parameters)
        row.update({"variant": self.variant, "status": self.status} if not self.ok else
                   {"variant": self.variant, "seed": self.seed, "status": self.status, "lesion_ml": self.lesion_ml})
        if not self.ok:
            return row
        for region, values in self.regions.items():
            row.update({f"{region} {name}": values[name] for name in SWEEP_REGION_METRICS if name in values})
        if self.audits is not None:
            row.update(self.audits.values())
        row.update({f"{name}_seconds": self.seconds[name] for name in (*_TIMINGS, "total") if name in self.seconds})
        return row

    def to_json(self) -> dict:
        """:meth:`values` with NaN as null (strict JSON)."""
        return plain(self.values())

    @classmethod
    def from_json(cls, data: dict) -> SweepRow:
        parameter_names = [f.name for f in FIELD_CATALOGUE if f.name not in ("case", "seed", "segmenter", "region",
                                                                             "variant", "status")]
        row = cls({k: data[k] for k in parameter_names if k in data}, data.get("status", "ok"),
                  data.get("segmenter", ""), data.get("variant"), data.get("seed"), data.get("lesion_ml"))
        for key, value in data.items():
            region, _, name = key.rpartition(" ")
            if region and name in SWEEP_REGION_METRICS:
                row.regions.setdefault(region, {})[name] = number(value)
        if any(key in data for key in ("fidelity_dice", "fidelity_passed", "hallucinated_ml", "off_target_voxels")):
            row.audits = Audits({"dice": number(data.get("fidelity_dice")), "passed": bool(data.get("fidelity_passed"))},
                                {"volume_ml": number(data.get("hallucinated_ml"))},
                                {"voxels_changed": int(data.get("off_target_voxels") or 0)})
        row.seconds = {name: float(data[f"{name}_seconds"]) for name in (*_TIMINGS, "total")
                       if data.get(f"{name}_seconds") is not None}
        return row


@dataclass
class SegmentDice:
    """Mean Dice of one AHA segment's placed edits for one segmenter."""

    segmenter: str
    segment: int
    dice: float
    edits: int

    def to_json(self) -> dict:
        return plain(asdict(self))

    @classmethod
    def from_json(cls, data: dict) -> SegmentDice:
        return cls(data["segmenter"], int(data["segment"]), number(data["dice"]), int(data["edits"]))


@dataclass
class SweepRecord:
    parameters: dict  # the grid (synthtrust.settings.SweepSettings as JSON)
    region: str  # the region whose Dice scores each edit
    file: str = "sweep.csv"
    rows: list[SweepRow] = field(default_factory=list)
    segment_dice: list[SegmentDice] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"parameters": plain(self.parameters), "region": self.region, "file": self.file,
                "rows": [r.to_json() for r in self.rows], "segment_dice": [s.to_json() for s in self.segment_dice]}

    @classmethod
    def from_json(cls, data: dict) -> SweepRecord:
        return cls(dict(data.get("parameters") or {}), data.get("region", ""), data.get("file", ""),
                   [SweepRow.from_json(r) for r in data.get("rows") or []],
                   [SegmentDice.from_json(s) for s in data.get("segment_dice") or []])


@dataclass
class RunRecord:
    """Everything a run gives (no voxels: image files are named relative to the outputs folder)."""

    kind: str  # synthesize, segment, run, sweep, or loop (run_loop in-process: the demo)
    task: str
    schema: str
    engine: str = "template"
    modalities: list[str] = field(default_factory=list)
    seed: int = 0
    variants: list[Variant] = field(default_factory=list)
    segmenters: list[SegmenterInfo] = field(default_factory=list)
    trust: list[TrustRecord] = field(default_factory=list)
    edit: dict | None = None  # the edit's provenance (kind, parameters, mask checksum)
    provenance: dict = field(default_factory=dict)
    real: list[Prediction] | None = None  # the input image's predictions (segment jobs, runs with a reference)
    sweep: SweepRecord | None = None
    seconds: float | None = None

    def segmenter_id(self, index: int) -> str:
        return {s.index: s.model_id for s in self.segmenters}.get(index, str(index))

    def to_json(self) -> dict:
        data = {"kind": self.kind, "task": self.task, "schema": self.schema, "engine": self.engine,
                "modalities": list(self.modalities), "seed": self.seed,
                "variants": [v.to_json() for v in self.variants],
                "segmenters": [s.to_json() for s in self.segmenters], "trust": [t.to_json() for t in self.trust],
                "edit": plain(self.edit), "provenance": plain(self.provenance)}
        if self.real is not None:
            data["real"] = {"predictions": [p.to_json() for p in self.real]}
        if self.sweep is not None:
            data["sweep"] = self.sweep.to_json()
        if self.seconds is not None:
            data["seconds"] = self.seconds
        return data

    @classmethod
    def from_json(cls, data: dict) -> RunRecord:
        real = data.get("real")
        return cls(data.get("kind", ""), data.get("task", ""), data.get("schema", ""), data.get("engine", ""),
                   list(data.get("modalities") or []),
                   int(data.get("seed") or 0), [Variant.from_json(v) for v in data.get("variants") or []],
                   [SegmenterInfo.from_json(s) for s in data.get("segmenters") or []],
                   [TrustRecord.from_json(t) for t in data.get("trust") or []], data.get("edit"),
                   dict(data.get("provenance") or {}),
                   [Prediction.from_json(p) for p in real.get("predictions") or []] if real is not None else None,
                   SweepRecord.from_json(data["sweep"]) if data.get("sweep") else None, data.get("seconds"))

    @classmethod
    def coerce(cls, value) -> RunRecord | None:
        """A record from a record, its JSON dict, or None (readers accept either)."""
        if value is None or isinstance(value, RunRecord):
            return value
        return cls.from_json(value) if value else None

    def write(self, path: str | Path) -> Path:
        """Strict JSON (no NaN), atomically."""
        path = Path(path)
        text = json.dumps(plain(to_jsonable(self.to_json())), indent=1, allow_nan=False)
        with atomic_path(path) as temporary:
            Path(temporary).write_text(text, encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> RunRecord:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


__all__ = ["RESULTS_FILE", "Audits", "EvaluationRecord", "Prediction", "RunRecord",
           "SegmentDice", "SegmenterInfo", "SweepRecord", "SweepRow", "TrustRecord", "Variant", "finite_or_none",
           "number", "plain"]
