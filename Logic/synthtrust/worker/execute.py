"""What each job kind does, with the core's engines, segmenters, loop, metrics and trust (no science here:
only loading, calling the core, and writing files plus a JSON-ready record of everything)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image, require_same_grid
from synthtrust.imaging.io import load_channels, load_image, save_image
from synthtrust.labels.schema import get_schema
from synthtrust.worker.jobs import JobSpec, ObservedSegmenter, ObservedSynthesizer, Plan, load_segmenters
from synthtrust.worker.protocol import Emitter, log


def _inputs(spec: JobSpec, folder: Path):
    channels = load_channels([folder / c for c in spec.channels], list(spec.modalities))
    loaded = {}
    for name in ("lesion", "anatomy", "reference"):
        relative = getattr(spec, name)
        loaded[name] = load_image(folder / relative, name) if relative else None
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


def _engine_options(spec: JobSpec) -> dict:
    options = {k: v for k, v in spec.engine_options.items() if v is not None and v != ""}
    model = options.get("model")
    if model and not Path(model).exists():
        from synthtrust.segmentation.manifest import read_manifest, verify_model_file

        generators = {e.id: e for e in read_manifest() if e.kind == "generator"}
        if model not in generators:
            raise InputError(f"generator model {model!r} is neither a file nor a generator of the manifest "
                             f"({sorted(generators)}); choose a listed model or a local file")
        verify_model_file(generators[model])  # a manifest model is checked against its sha256 before loading
        options["model"] = str(generators[model].weights_path)
    return {"task": spec.task, "channels": list(spec.modalities), "device": spec.device, **options}


def _save(image: Image, scratch: Path, name: str) -> str:
    save_image(image, scratch / name)
    return name


def _segmenter_record(index: int, segmenter) -> dict:
    return {"index": index, "model_id": segmenter.model_id, "sha256": segmenter.sha256, "source": segmenter.source,
            "channels": list(segmenter.config.channels)}


def execute(spec: JobSpec, folder: Path, scratch: Path, emitter: Emitter) -> dict:
    """Run ``spec`` on the inputs of ``folder``, writing NRRD files into ``scratch``; returns the record."""
    from synthtrust.editing.edit import Edit
    from synthtrust.provenance import make_record

    schema = get_schema(spec.schema)
    channels, lesion, anatomy, reference = _inputs(spec, folder)
    edit = Edit(spec.edit.get("kind", "drawn"), lesion, spec.edit.get("parameters", {})) if lesion else None
    results = {"kind": spec.kind, "task": spec.task, "schema": schema.name, "engine": spec.engine,
               "modalities": list(spec.modalities), "seed": spec.seed, "variants": [], "segmenters": [],
               "trust": [], "edit": edit.provenance() if edit else None,
               "provenance": make_record(f"worker {spec.kind}", parameters=asdict(spec))}
    segmenters = load_segmenters(spec.segmenters, spec.task, spec.modalities,
                                 spec.segmentation_device or spec.device) if spec.kind != "synthesize" else []
    results["segmenters"] = [_segmenter_record(s, seg) for s, seg in enumerate(segmenters)]
    if spec.kind == "sweep":
        anatomy = anatomy.with_array(np.rint(anatomy.array).astype(np.uint8))
        results["sweep"] = _sweep(spec, channels, anatomy, schema, segmenters, emitter, scratch)
        return results
    with_real = reference is not None or spec.kind == "segment"
    units = (spec.variants if spec.kind != "segment" else 0) + len(segmenters) * (
        spec.variants if spec.kind == "run" else 0) + (len(segmenters) if with_real else 0)
    plan = Plan(units)
    if with_real:
        results["real"] = _segment_real(channels, reference, schema, segmenters, spec, scratch, emitter, plan)
    if spec.kind == "segment":
        return results
    synthesizer = ObservedSynthesizer(_make_synthesizer(spec), emitter, plan,
                                      anatomy if schema.name != "emidec" else None)
    if spec.kind == "synthesize":
        for k in range(spec.variants):
            result = synthesizer.synthesize(channels, lesion, schema, spec.modalities, seed=spec.seed + k)
            results["variants"].append(_variant_record(k, spec.seed + k, result, scratch))
        return results
    _run_loops(spec, channels, edit, schema, segmenters, synthesizer, emitter, plan, scratch, results, reference)
    return results


def _existing_lesion(reference, schema):
    """The real lesion of the reference segmentation: not the edit's, so left out of its audits."""
    if reference is None:
        return None
    return schema.lesion_mask(np.rint(reference.array).astype(np.uint8))


def _make_synthesizer(spec: JobSpec):
    from synthtrust.synthesis.engines import make_synthesizer

    return make_synthesizer(spec.engine, **_engine_options(spec))


def _variant_record(k: int, seed: int, synthesis, scratch: Path) -> dict:
    files = [_save(c, scratch, f"variant_{k}_channel_{i}.nrrd") for i, c in enumerate(synthesis.channels)]
    return {"index": k, "seed": seed, "channels": files, "synthesis": synthesis.provenance, "predictions": []}


def _segment_real(channels, reference, schema, segmenters, spec, scratch, emitter, plan) -> dict:
    from synthtrust.metrics import evaluate_labels

    predictions = []
    for s, segmenter in enumerate(segmenters):
        prediction = ObservedSegmenter(segmenter, spec.modalities, emitter, plan).predict(channels)
        record = {"segmenter": s, "file": _save(prediction.labels, scratch, f"real_prediction_{s}.nrrd"),
                  "segmentation": prediction.provenance}
        if reference is not None:
            record["metrics"] = evaluate_labels(np.rint(reference.array).astype(np.uint8), prediction.labels.array,
                                                schema, channels[0].spacing_zyx).to_dict()
        predictions.append(record)
    return {"predictions": predictions}


def _run_loops(spec, channels, edit, schema, segmenters, synthesizer, emitter, plan, scratch, results,
               reference=None) -> None:
    from synthtrust.loop import run_loop
    from synthtrust.trust import DiceTable, compute_trust

    for s, segmenter in enumerate(segmenters):
        observed = ObservedSegmenter(segmenter, spec.modalities, emitter, plan)
        loop = run_loop(spec.task, channels, list(spec.modalities), edit, schema, observed, synthesizer,
                        n_variants=spec.variants, seed=spec.seed, fidelity_threshold=spec.fidelity_threshold,
                        n_bootstrap=spec.n_bootstrap, progress=lambda text: emitter.send(log(text)),
                        existing_lesion=_existing_lesion(reference, schema))
        for k, variant in enumerate(loop.variants):
            if s == 0:
                results["variants"].append(_variant_record(k, variant.seed, synthesizer.results[variant.seed],
                                                           scratch))
            results["variants"][k]["predictions"].append({
                "segmenter": s, "file": _save(variant.prediction, scratch, f"variant_{k}_prediction_{s}.nrrd"),
                "metrics": variant.metrics, "audits": variant.audits, "segmentation": variant.segmentation_provenance,
                "seconds": variant.seconds})
        trust, rows = loop.trust, loop.trust_rows
        real = results.get("real", {}).get("predictions", [])
        if real and "metrics" in real[s]:
            # The real image's Dice is the real test set: T3/T4 compare it with the synthetic variants.
            regions = real[s]["metrics"]["regions"]
            real_table = DiceTable.from_scores({"real image": {r: v["dice"] for r, v in regions.items()}})
            synthetic_table = DiceTable.from_scores({
                f"variant seed {v.seed}": {r: m["dice"] for r, m in v.metrics["regions"].items()}
                for v in loop.variants})
            report = compute_trust(real_table, synthetic_table, n_bootstrap=spec.n_bootstrap, seed=spec.seed)
            trust, rows = report.to_dict(), report.rows()
        results["trust"].append({"segmenter": s, "model_id": segmenter.model_id, "report": trust, "rows": rows})


# The sweep scores each edit by the Dice of this region (EMIDEC: scar + MVO, the placed lesion).
SWEEP_REGION = "scar"


def _sweep(spec: JobSpec, channels, anatomy, schema, segmenters, emitter: Emitter, scratch: Path) -> dict:
    """Every segmenter over every edit of the grid; progress once per edit (``sweep: step i/N``)."""
    from synthtrust.sweep import run_sweep, scar_points, write_table

    settings = {"transmurality": [0.5], "extent": 1.0, "irregularity": 0.3, "mvo": 0.0, "seed": 0, **spec.sweep}
    points = scar_points(anatomy, settings["segments"], [float(t) for t in settings["transmurality"]],
                         float(settings["extent"]), float(settings["irregularity"]), float(settings["mvo"]),
                         int(settings["seed"]))
    synthesizer, total, rows = _make_synthesizer(spec), len(points) * len(segmenters), []
    emitter.start_stage("sweep")
    for s, segmenter in enumerate(segmenters):

        def report(number: int, count: int, text: str, s=s, model_id=segmenter.model_id) -> None:
            done = s * count + number - 1  # edits finished before this one
            emitter.step(done, total, f"{model_id}: {text}", round(done / total, 4))

        observed = ObservedSegmenter(segmenter, spec.modalities)
        for row in run_sweep(points, spec.task, channels, list(spec.modalities), schema, synthesizer, observed,
                             variants=spec.variants, seed=spec.seed, progress=report):
            rows.append({"segmenter": segmenter.model_id, **row})
    emitter.step(total, total, f"sweep of {len(points)} edit(s) finished", 1.0)
    write_table(rows, scratch / "sweep.csv")
    return {"parameters": settings, "region": SWEEP_REGION, "file": "sweep.csv", "rows": rows,
            "segment_dice": dice_per_segment(rows)}


def dice_per_segment(rows: list[dict], region: str = SWEEP_REGION) -> list[dict]:
    """Mean Dice of ``region`` per (segmenter, AHA segment) over the placed edits (variants and
    transmurality levels); segments whose scar could not be placed are left out (their rows say why)."""
    scores: dict[tuple[str, int], list[float]] = {}
    for row in rows:
        value = row.get(f"{region} dice")
        if row.get("status") == "ok" and value is not None and np.isfinite(value):
            scores.setdefault((row["segmenter"], int(row["segment"])), []).append(float(value))
    return [{"segmenter": segmenter, "segment": segment, "dice": float(np.mean(values)), "edits": len(values)}
            for (segmenter, segment), values in sorted(scores.items())]
