"""Write a loop's results as a person reads them: report.html, metrics.json and a Slicer scene.mrb."""

from __future__ import annotations

from pathlib import Path

from synthtrust.loop import LoopResult
from synthtrust.provenance import make_record, to_jsonable, write_json
from synthtrust.report.figures import save_slice_views
from synthtrust.report.html import table, write_report

# Short table headers for the metrics (the catalogue's full titles and definitions become tooltips).
METRIC_COLUMNS = {"dice": "Dice", "hd95": "HD95 mm", "mean_surface_distance": "MSD mm", "surface_dice": "NSD",
                  "reference_volume_ml": "ref mL", "predicted_volume_ml": "pred mL",
                  "volume_difference_ml": "diff mL", "detected_tp": "TP", "detected_fn": "FN", "detected_fp": "FP"}


def metric_rows(result: LoopResult) -> list[dict]:
    """One row per variant and region, columns in a stable order."""
    rows = []
    for variant in result.variants:
        for region, values in variant.metrics["regions"].items():
            row = {"case": result.task, "variant seed": variant.seed, "region": region}
            row.update({header: values[name] for name, header in METRIC_COLUMNS.items() if name in values})
            rows.append(row)
    return rows


def audit_rows(result: LoopResult) -> list[dict]:
    rows = []
    for variant in result.variants:
        audits = variant.audits
        rows.append({
            "case": result.task, "variant seed": variant.seed,
            "fidelity Dice": audits["conditioning_fidelity"]["dice"],
            "fidelity": bool(audits["conditioning_fidelity"]["passed"]),
            "hallucinated mL": audits["hallucination"]["volume_ml"],
            "off-target voxels": int(audits["off_target_change"]["voxels_changed"]),
            "synthesis s": variant.seconds["synthesis"], "segmentation s": variant.seconds["segmentation"],
        })
    return rows


def trust_rows(result: LoopResult) -> list[dict]:
    return [{"case": result.task, **row} for row in result.trust_rows]


def write_outputs(out: Path, results: list[LoopResult], settings: dict) -> dict:
    from synthtrust.demo import save_case_volumes

    images = out / "images"
    cases = {}
    sections = [("What this shows", _introduction(results, settings))]
    for result in results:
        slug = result.task.replace(" ", "_")
        first = result.variants[0]
        png = save_slice_views(first.channels[0], result.edit.labels, first.prediction, result.schema,
                               images / f"{slug}.png", title=result.task)
        cases[slug] = {**result.summary(), "files": save_case_volumes(result, out / slug),
                       "figure": str(png.relative_to(out))}
        metrics = metric_rows(result)
        policy = first.metrics.get("empty_policy", {})
        sections.append((result.task.capitalize(), "".join([
            f'<img src="{png.relative_to(out)}" alt="{result.task} slice views">',
            "<h3>Metrics per region (intended lesion vs prediction)</h3>",
            table(metrics, titles=_metric_titles()),
            f'<p class="note">Empty-mask policy: {_policy_text(policy)}</p>',
            "<h3>Audits per variant</h3>", table(audit_rows(result)),
            "<h3>Trust over the variants</h3>",
            table(trust_rows(result), titles={"formula": "the definition used for this value"}),
        ])))
    summary = {"settings": settings, "cases": cases,
               "provenance": make_record("demo", parameters=settings, outputs={
                   "report": out / "report.html", "metrics": out / "metrics.json", "scene": out / "scene.mrb"})}
    write_json(summary, out / "metrics.json")
    write_scene(out / "scene.mrb", results)
    write_report(out / "report.html", "SynthTrustSlicer demo", sections,
                 footer="Trust factors are defined after the five factors of arXiv 2502.02076 (see "
                        "docs/metrics-and-trust.md). Open scene.mrb in 3D Slicer to see the volumes, "
                        "segmentations and tables.")
    return to_jsonable(summary)


def _metric_titles() -> dict[str, str]:
    try:
        from synthtrust.metrics import METRIC_CATALOGUE
    except ImportError:
        return {}
    return {METRIC_COLUMNS[m.name]: f"{m.title} ({m.unit}): {m.description}" if m.unit else
            f"{m.title}: {m.description}" for m in METRIC_CATALOGUE if m.name in METRIC_COLUMNS}


def _policy_text(policy: dict) -> str:
    if not policy:
        return "not stated"
    return f"{policy.get('name', '')}: {policy.get('description', policy)}"


def _introduction(results: list[LoopResult], settings: dict) -> str:
    items = "".join(
        f"<li><b>{r.task}</b>: {len(r.variants)} synthetic variants of one edit ({r.edit.kind}), each segmented "
        f"by the shipped default model and compared with the intended lesion.</li>" for r in results)
    described = ", ".join(f"{key} {value}" for key, value in settings.items())
    return (f"<ul>{items}</ul><p class='note'>Brain: MNI ICBM152 2009a T1 template (from the nilearn wheel). "
            f"Heart: an LGE-like phantom generated by the project. Settings: {described}. Hover a column "
            "header for its definition.</p>")


def write_scene(path: Path, results: list[LoopResult]) -> Path:
    """The scene bundle: per case a folder with input, synthetic, intended and predicted nodes and tables."""
    from synthtrust import scene

    session = scene.SceneSession.create()
    titles = _metric_titles()
    for result in results:
        first = result.variants[0]
        folder = scene.create_run_folder(session, result.task, {"task": result.task, "edit": result.edit.provenance()})
        source = scene.add_volume(session, result.inputs[0], f"{result.task}: input", parent_folder=folder)
        scene.add_volume(session, first.channels[0], f"{result.task}: synthetic (seed {first.seed})",
                         attributes={"synthesis": first.synthesis_provenance}, parent_folder=folder)
        scene.add_segmentation(session, result.edit.labels, result.schema, f"{result.task}: intended lesion",
                               reference_volume=source, attributes={"edit": result.edit.provenance()},
                               parent_folder=folder, closed_surface=True)
        scene.add_segmentation(session, first.prediction, result.schema, f"{result.task}: prediction",
                               reference_volume=source, attributes={"segmenter": first.segmentation_provenance},
                               parent_folder=folder, closed_surface=True)
        scene.add_table(session, metric_rows(result), f"{result.task}: metrics", column_descriptions=titles,
                        parent_folder=folder)
        audits = scene.add_table(session, audit_rows(result), f"{result.task}: audits", parent_folder=folder)
        scene.add_table(session, trust_rows(result), f"{result.task}: trust",
                        column_descriptions={"formula": "definition of the value"}, parent_folder=folder)
        scene.add_plot(session, audits, "variant seed", ["fidelity Dice"], f"{result.task}: Dice per variant",
                       parent_folder=folder)
    return scene.save_bundle(session, path)
