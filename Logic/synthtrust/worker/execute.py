"""What each job kind does, with the core's engines, segmenters, loop, sweep, metrics and trust (no science
here: only loading, calling the core, and writing files plus the run's record, :class:`RunRecord`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from synthtrust.editing.edit import Edit
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image, require_same_grid
from synthtrust.imaging.io import load_channels, load_image, save_image
from synthtrust.labels.schema import get_schema
from synthtrust.loop import run_loop
from synthtrust.metrics import evaluate_labels
from synthtrust.provenance import make_record
from synthtrust.results.records import (
    EvaluationRecord,
    Prediction,
    RunRecord,
    SegmenterInfo,
    SweepRecord,
    TrustRecord,
)
from synthtrust.results.records import Variant as VariantRecord
from synthtrust.settings import RunSettings
from synthtrust.sweep import dice_per_segment, run_sweep, scar_points, write_table
from synthtrust.synthesis.engines import make_synthesizer
from synthtrust.synthesis.options import EngineOptions
from synthtrust.trust.factors import trust_over_variants
from synthtrust.worker.observed import ObservedSegmenter, ObservedSynthesizer, Plan, load_segmenters
from synthtrust.worker.protocol import Emitter, log

# The sweep scores each edit by the Dice of this region (EMIDEC: scar + MVO, the placed lesion).
SWEEP_REGION = "scar"


def _inputs(spec: RunSettings, folder: Path):
    files = spec.input_files(folder)  # every name confined to the job folder
    channels = load_channels([files[f"channels[{i}]"] for i in range(len(spec.channels))], list(spec.modalities))
    loaded = {}
    for name in ("lesion", "anatomy", "reference"):
        loaded[name] = load_image(files[name], name) if name in files else None
        if loaded[name] is not None:
            require_same_grid(channels[0], loaded[name], what=f"{name} label map")
    lesion, anatomy = loaded["lesion"], loaded["anatomy"]
    if lesion is not None:
        lesion = lesion.with_array(np.rint(lesion.array).astype(np.uint8))
        if spec.schema == "emidec" and anatomy is not None:
            # A scar drawn on its own is placed into the cardiac anatomy: evaluation needs the whole map.
            merged = np.rint(anatomy.array).astype(np.uint8)
            merged[lesion.array > 0] = lesion.array[lesion.array > 0]
            lesion = lesion.with_array(merged)
    return channels, lesion, anatomy, loaded["reference"]


def _engine_options(spec: RunSettings) -> EngineOptions:
    """The job's engine options with a manifest model id replaced by its verified weights file."""
    model = spec.engine_options.model
    if not model or Path(model).exists():
        return spec.engine_options
    from synthtrust.models.manifest import read_manifest, verify_model_file

    generators = {e.id: e for e in read_manifest() if e.kind == "generator"}
    if model not in generators:
        raise InputError(f"generator model {model!r} is neither a file nor a generator of the manifest "
                         f"({sorted(generators)}); choose a listed model or a local file")
    verify_model_file(generators[model])  # a manifest model is checked against its sha256 before loading
    return dataclasses.replace(spec.engine_options, model=str(generators[model].weights_path))


def _make_synthesizer(spec: RunSettings):
    return make_synthesizer(spec.engine, _engine_options(spec), task=spec.task, channels=list(spec.modalities),
                            device=spec.device)


def _save(image: Image, scratch: Path, name: str) -> str:
    save_image(image, scratch / name)
    return name


def _segmenter_info(index: int, segmenter) -> SegmenterInfo:
    return SegmenterInfo(index, segmenter.model_id, segmenter.sha256, segmenter.source, list(segmenter.config.channels))


def execute(spec: RunSettings, folder: Path, scratch: Path, emitter: Emitter) -> RunRecord:
    """Run ``spec`` on the inputs of ``folder``, writing NRRD files into ``scratch``; returns the record."""
    schema = get_schema(spec.schema)
    channels, lesion, anatomy, reference = _inputs(spec, folder)
    edit = Edit(spec.edit.get("kind", "drawn"), lesion, spec.edit.get("parameters", {})) if lesion else None
    record = RunRecord(spec.kind, spec.task, schema.name, spec.engine, list(spec.modalities), spec.seed,
                       edit=edit.provenance() if edit else None,
                       provenance=make_record(f"worker {spec.kind}", parameters=spec.to_json()))
    segmenters = load_segmenters(spec.segmenters, spec.task, spec.modalities,
                                 spec.segmentation_device or spec.device) if spec.kind != "synthesize" else []
    record.segmenters = [_segmenter_info(s, seg) for s, seg in enumerate(segmenters)]
    if spec.kind == "sweep":
        anatomy = anatomy.with_array(np.rint(anatomy.array).astype(np.uint8))
        record.sweep = _sweep(spec, channels, anatomy, schema, segmenters, emitter, scratch)
        return record
    with_real = reference is not None or spec.kind == "segment"
    units = (spec.variants if spec.kind != "segment" else 0) + len(segmenters) * (
        spec.variants if spec.kind == "run" else 0) + (len(segmenters) if with_real else 0)
    plan = Plan(units)
    if with_real:
        record.real = _segment_real(channels, reference, schema, segmenters, spec, scratch, emitter, plan)
    if spec.kind == "segment":
        return record
    synthesizer = ObservedSynthesizer(_make_synthesizer(spec), emitter, plan,
                                      anatomy if schema.name != "emidec" else None)
    if spec.kind == "synthesize":
        for k in range(spec.variants):
            result = synthesizer.synthesize(channels, lesion, schema, spec.modalities, seed=spec.seed + k)
            record.variants.append(_variant(k, spec.seed + k, result, scratch))
        return record
    _run_loops(spec, channels, edit, schema, segmenters, synthesizer, emitter, plan, scratch, record, reference)
    return record


def _existing_lesion(reference, schema):
    """The real lesion of the reference segmentation: not the edit's, so left out of its audits."""
    if reference is None:
        return None
    return schema.lesion_mask(np.rint(reference.array).astype(np.uint8))


def _variant(k: int, seed: int, synthesis, scratch: Path) -> VariantRecord:
    files = [_save(c, scratch, f"variant_{k}_channel_{i}.nrrd") for i, c in enumerate(synthesis.channels)]
    return VariantRecord(k, seed, files, synthesis.provenance)


def _segment_real(channels, reference, schema, segmenters, spec, scratch, emitter, plan) -> list[Prediction]:
    predictions = []
    for s, segmenter in enumerate(segmenters):
        prediction = ObservedSegmenter(segmenter, spec.modalities, emitter, plan).predict(channels)
        metrics = None
        if reference is not None:
            metrics = EvaluationRecord.from_evaluation(evaluate_labels(
                np.rint(reference.array).astype(np.uint8), prediction.labels.array, schema, channels[0].spacing_zyx,
                hd95=spec.hd95))
        predictions.append(Prediction(s, _save(prediction.labels, scratch, f"real_prediction_{s}.nrrd"), metrics,
                                      segmentation=prediction.provenance))
    return predictions


def _run_loops(spec, channels, edit, schema, segmenters, synthesizer, emitter, plan, scratch, record: RunRecord,
               reference=None) -> None:
    for s, segmenter in enumerate(segmenters):
        observed = ObservedSegmenter(segmenter, spec.modalities, emitter, plan)
        loop = run_loop(spec.task, channels, list(spec.modalities), edit, schema, observed, synthesizer,
                        n_variants=spec.variants, seed=spec.seed, fidelity_threshold=spec.fidelity_threshold,
                        n_bootstrap=spec.n_bootstrap, progress=lambda text: emitter.send(log(text)),
                        existing_lesion=_existing_lesion(reference, schema), hd95=spec.hd95)
        for k, variant in enumerate(loop.variants):
            if s == 0:
                record.variants.append(_variant(k, variant.seed, synthesizer.results[variant.seed], scratch))
            record.variants[k].predictions.append(
                variant.prediction_record(s, _save(variant.prediction, scratch, f"variant_{k}_prediction_{s}.nrrd")))
        trust = loop.trust
        real = record.real[s] if record.real else None
        if real is not None and real.metrics is not None:
            # The real image's Dice is the real test set: T3/T4 compare it with the synthetic variants.
            trust = trust_over_variants({f"variant seed {v.seed}": v.metrics.dice() for v in loop.variants},
                                        real.metrics.dice(), n_bootstrap=spec.n_bootstrap, seed=spec.seed)
        record.trust.append(TrustRecord(s, segmenter.model_id, trust))


def _sweep(spec: RunSettings, channels, anatomy, schema, segmenters, emitter: Emitter, scratch: Path) -> SweepRecord:
    """Every segmenter over every edit of the grid; progress once per edit (``sweep: step i/N``)."""
    grid = spec.sweep
    points = scar_points(anatomy, grid.segments, grid.transmurality, grid.extent, grid.irregularity, grid.mvo,
                         grid.seed)
    synthesizer, total, rows = _make_synthesizer(spec), len(points) * len(segmenters), []
    emitter.start_stage("sweep")
    for s, segmenter in enumerate(segmenters):

        def report(number: int, count: int, text: str, s=s, model_id=segmenter.model_id) -> None:
            done = s * count + number - 1  # edits finished before this one
            emitter.step(done, total, f"{model_id}: {text}", round(done / total, 4))

        observed = ObservedSegmenter(segmenter, spec.modalities)
        for row in run_sweep(points, spec.task, channels, list(spec.modalities), schema, synthesizer, observed,
                             variants=spec.variants, seed=spec.seed, progress=report, hd95=spec.hd95):
            row.segmenter = segmenter.model_id
            rows.append(row)
    emitter.step(total, total, f"sweep of {len(points)} edit(s) finished", 1.0)
    write_table(rows, scratch / "sweep.csv")
    return SweepRecord(grid.to_json(), SWEEP_REGION, "sweep.csv", rows, dice_per_segment(rows, SWEEP_REGION))
