"""Worker jobs: ``job.json`` plus NRRD inputs in a job folder in; NRRD outputs and ``results.json`` out.

Kinds: ``synthesize`` (variants of the edit), ``segment`` (the input images, evaluated against the
reference when one is given), ``run`` (the product's loop, :func:`synthtrust.loop.run_loop`, once per
segmenter; with a reference, the real image is segmented too and T3/T4 compare real with synthetic) and
``sweep`` (cardiac scar: one edit per chosen AHA segment x transmurality through
:func:`synthtrust.sweep.run_sweep`, giving Dice per AHA segment).
Everything is written into a scratch folder inside the job folder and renamed to ``outputs`` at the
end, so a failed or cancelled job leaves no partial outputs.
"""

from __future__ import annotations

import inspect
import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
from synthtrust.worker.protocol import Emitter

JOB_FILE, RESULTS_FILE, OUTPUTS = "job.json", "results.json", "outputs"
KINDS = ("synthesize", "segment", "run", "sweep")
SWEEP_KEYS = ("segments", "transmurality", "extent", "irregularity", "mvo", "seed")


@dataclass
class JobSpec:
    """The parameters of one job; file names are relative to the job folder."""

    kind: str
    task: str
    channels: list[str]
    modalities: list[str]
    lesion: str = ""
    anatomy: str = ""
    reference: str = ""
    schema: str = ""  # default: the task's (brats for brain-tumor, emidec for cardiac-scar)
    engine: str = "template"
    engine_options: dict = field(default_factory=dict)  # model, steps, guidance, quality_threshold, ...
    variants: int = 1
    seed: int = 0
    device: str = "auto"  # synthesis (and segmentation unless segmentation_device is set)
    segmentation_device: str = ""  # "" = the same as device
    segmenters: list[str] = field(default_factory=list)  # "default", manifest ids or local paths
    edit: dict = field(default_factory=dict)  # how the lesion was made (kind, parameters), for provenance
    fidelity_threshold: float = 0.6
    n_bootstrap: int = 1000
    sweep: dict = field(default_factory=dict)  # kind sweep: segments, transmurality (list), extent, ...

    def validate(self, folder: Path) -> None:
        if self.kind not in KINDS:
            raise InputError(f"job kind {self.kind!r} is unknown; use one of {', '.join(KINDS)}")
        if self.task not in TASK_SCHEMAS:
            raise InputError(f"task {self.task!r} is unknown; use one of {', '.join(TASK_SCHEMAS)}")
        self.schema = self.schema or TASK_SCHEMAS[self.task]
        get_schema(self.schema)
        if not self.channels:
            raise InputError("the job has no image channel; give at least one volume")
        if len(self.modalities) != len(self.channels):
            raise InputError(f"{len(self.channels)} channel(s) but {len(self.modalities)} modalities "
                             f"{self.modalities}; give one modality per channel")
        if self.kind not in ("segment", "sweep") and not self.lesion:
            raise InputError(f"a {self.kind} job needs the intended lesion; draw or place one first")
        if self.kind == "sweep":
            self._validate_sweep()
        if self.variants < 1:
            raise InputError(f"variants {self.variants} must be at least 1")
        for name in [*self.channels, self.lesion, self.anatomy, self.reference]:
            if name and not (folder / name).is_file():
                raise InputError(f"input {name} is missing from job folder {folder}; write it before starting")

    def _validate_sweep(self) -> None:
        if self.task != "cardiac-scar":
            raise InputError(f"a sweep places scars in AHA segments: task must be cardiac-scar, not {self.task!r}")
        if not self.anatomy:
            raise InputError("a sweep needs the cardiac anatomy (blood pool and myocardium); select it under Inputs")
        unknown = sorted(set(self.sweep) - set(SWEEP_KEYS))
        if unknown:
            raise InputError(f"sweep settings {unknown} are unknown; use {list(SWEEP_KEYS)}")
        segments = self.sweep.get("segments") or []
        if not segments or any(not isinstance(s, int) or not 1 <= s <= 17 for s in segments):
            raise InputError(f"sweep segments {segments!r} must be AHA segment numbers 1-17 (at least one)")
        levels = self.sweep.get("transmurality") or []
        if not levels or any(not 0.0 < float(t) <= 1.0 for t in levels):
            raise InputError(f"sweep transmurality {levels!r} must be one or more values in (0, 1]")

    def write(self, folder: Path) -> Path:
        path = Path(folder) / JOB_FILE
        path.write_text(json.dumps(asdict(self), indent=2, allow_nan=False))
        return path


def read_job(folder: str | Path) -> JobSpec:
    """The validated job of ``folder``; unknown or missing keys are named in the error."""
    folder = Path(folder)
    path = folder / JOB_FILE
    if not path.is_file():
        raise InputError(f"{path} does not exist; a job folder holds job.json and its input images")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path} is not valid JSON ({error}); rewrite it") from None
    known = {f.name for f in fields(JobSpec)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"{path} has unknown keys {unknown}; known keys are {sorted(known)}")
    try:
        spec = JobSpec(**data)
    except TypeError as error:
        raise InputError(f"{path}: {error}; add the missing keys") from None
    spec.validate(folder)
    return spec


class Plan:
    """Overall progress: units of work (a synthesis, a segmentation), each 0..1 done."""

    def __init__(self, units: int):
        self.units, self.done = max(units, 1), 0

    def fraction(self, within: float = 0.0) -> float:
        return round(min((self.done + within) / self.units, 1.0), 4)

    def advance(self) -> None:
        self.done += 1


def _accepts(function, name: str) -> bool:
    parameters = inspect.signature(function).parameters.values()
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


class ObservedSynthesizer:
    """An engine reporting progress; each seed is synthesized once and reused for every segmenter."""

    def __init__(self, synthesizer, emitter: Emitter, plan: Plan, anatomy=None):
        self.synthesizer, self.emitter, self.plan, self.anatomy = synthesizer, emitter, plan, anatomy
        self.name = getattr(synthesizer, "name", "engine")
        self.results: dict[int, object] = {}

    def synthesize(self, channels, lesion, schema, modalities, seed: int = 0, **_):
        if seed in self.results:
            return self.results[seed]
        self.emitter.start_stage("synthesize")

        def step(done: int, total: int, message: str) -> None:
            self.emitter.step(done, total, f"seed {seed}: {message}", self.plan.fraction(done / max(total, 1)))

        extra = {"anatomy": self.anatomy} if self.anatomy is not None and _accepts(
            self.synthesizer.synthesize, "anatomy") else {}
        result = self.synthesizer.synthesize(channels, lesion, schema, modalities, seed=seed, progress=step, **extra)
        self.plan.advance()
        self.results[seed] = result
        return result


class ObservedSegmenter:
    """A segmenter reporting progress, given the channels by modality name when its names match; without
    an emitter it reports nothing (a sweep reports per edit instead)."""

    def __init__(self, segmenter, modalities: list[str], emitter: Emitter | None = None, plan: Plan | None = None):
        from synthtrust.segmentation.config import canonical_channel

        self.segmenter, self.emitter, self.plan = segmenter, emitter, plan
        names = [canonical_channel(m) for m in modalities]
        self.names = names if sorted(names) == sorted(segmenter.config.channels) else None

    def predict(self, channels, **_):
        if self.emitter is None:
            return self.segmenter.predict(channels, channel_names=self.names)
        self.emitter.start_stage("segment")

        def step(done: int, total: int, message: str) -> None:
            self.emitter.step(done, total, f"{self.segmenter.model_id}: {message}",
                              self.plan.fraction(done / max(total, 1)))

        result = self.segmenter.predict(channels, progress=step, channel_names=self.names)
        self.plan.advance()
        return result


def load_segmenters(names: list[str], task: str, modalities: list[str], device: str) -> list:
    """``default`` (the task's shipped model for these channels), a manifest id, or a local file/bundle."""
    from synthtrust.segmentation import (
        load_checkpoint,
        load_default_segmenter,
        load_segmenter,
        read_manifest,
        verify_model_file,
    )

    segmenters = []
    for name in names or ["default"]:
        if name == "default":
            segmenters.append(load_default_segmenter(task, modalities, device))
            continue
        if Path(name).exists():
            segmenters.append(load_segmenter(name, device, task))
            continue
        entries = {e.id: e for e in read_manifest() if e.kind == "segmenter"}
        if name not in entries:
            raise InputError(f"segmenter {name!r} is neither a file nor a model of the manifest ({sorted(entries)}); "
                             "choose a listed model or a local checkpoint / MONAI bundle")
        entry = entries[name]
        verify_model_file(entry)
        segmenter = load_checkpoint(entry.weights_path, entry.config_path, device, sha256=entry.sha256.lower())
        segmenter.model_id = entry.id
        segmenters.append(segmenter)
    return segmenters


def run_job(folder: str | Path, emitter: Emitter | None = None) -> Path:
    """Run the job of ``folder``; returns ``folder/outputs`` (written whole, or not at all)."""
    from synthtrust.worker.execute import execute

    folder = Path(folder).resolve()
    emitter = emitter or Emitter()
    spec = read_job(folder)
    outputs = folder / OUTPUTS
    if outputs.exists():
        raise InputError(f"{outputs} already exists: a job folder is used once; start a new job")
    scratch = Path(tempfile.mkdtemp(prefix=".outputs-", dir=folder))
    try:
        started = time.perf_counter()
        results = execute(spec, folder, scratch, emitter)
        results["seconds"] = round(time.perf_counter() - started, 3)
        from synthtrust.provenance import write_json

        write_json(results, scratch / RESULTS_FILE)
        scratch.rename(outputs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return outputs
