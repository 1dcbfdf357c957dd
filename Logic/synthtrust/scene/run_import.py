"""The scene side of a finished run: the run importer.

One importer for every caller that puts a run into a scene (the panel after its worker, the demo's scene
bundle): the run's record (``results.json`` as the worker writes it) and its image files become new nodes
in one subject-hierarchy folder, each carrying the run's provenance as ``SynthTrust.*`` attributes. The
import is all or nothing (:func:`~synthtrust.scene.transactions.all_or_nothing`): when any step fails,
every node and item added so far is removed again and the error goes to the caller.

The importer does not spell table columns: the caller hands it the rows (:class:`RunTables`), made from
the one table definition of the run's results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import synthtrust
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import get_schema
from synthtrust.scene.nodes import add_plot, add_segmentation, add_table, add_volume, create_run_folder
from synthtrust.scene.session import SceneSession
from synthtrust.scene.transactions import all_or_nothing


@dataclass
class TableRows:
    """One table: rows (column -> value, in column order) and optional column tooltips."""

    rows: list[dict]
    descriptions: dict | None = None


@dataclass
class RunTables:
    """The tables and plots of one run, as rows. A plot's x column is its table's first column."""

    results: TableRows | None = None  # per case, segmenter and region: metrics, audits, trust factors
    dice_per_variant: TableRows | None = None  # plotted as "Dice per variant"
    sweep: TableRows | None = None  # a sweep's tidy table: one row per segmenter, edit and variant
    dice_per_segment: TableRows | None = None  # a scar sweep's Dice per AHA segment, plotted as bars
    segment_dice: dict[int, float] = field(default_factory=dict)  # for the bullseye


@dataclass
class RunOutcome:
    """What a successful import added to the scene (all new nodes, inside one subject-hierarchy folder)."""

    folder_item_id: int
    synthetic_volume_nodes: list = field(default_factory=list)  # [variant][channel]
    prediction_segmentation_nodes: list = field(default_factory=list)  # variants' (and the real image's)
    table_node: object = None
    plot_node: object = None
    results: dict = field(default_factory=dict)
    segment_dice: dict = field(default_factory=dict)  # sweeps: AHA segment -> Dice (first segmenter)


def read_run_results(outputs: Path) -> dict:
    """The run record the worker wrote into its outputs folder."""
    return json.loads((Path(outputs) / "results.json").read_text())


def default_run_name(results: dict, number: int) -> str:
    """"SynthTrust <kind> <number> (<engine>, seed <seed>)", without the engine part for segment-only runs."""
    detail = "" if results["kind"] == "segment" else f" ({results['engine']}, seed {results.get('seed', 0)})"
    return f"SynthTrust {results['kind']} {number}{detail}"


def import_run(session: SceneSession, outputs: Path, results: dict, tables: RunTables, name: str,
               input_names: list[str], real_reference_volume=None) -> RunOutcome:
    """New nodes for a finished run in a folder named ``name``; on any failure none stays in the scene.

    ``outputs``: the folder holding the record's image files; ``input_names``: the input channels' names
    (synthetic volumes are named after them); ``real_reference_volume``: the volume the predictions on the
    real image are placed on (required when the record has any)."""
    with all_or_nothing(session):
        return _import(session, Path(outputs), results, tables, name, input_names, real_reference_volume)


def _common_provenance(results: dict) -> dict:
    edit = results.get("edit") or {}
    return {"software_version": synthtrust.__version__, "engine": results["engine"], "task": results["task"],
            "mask_sha256": edit.get("mask_sha256", ""),
            "edit": {"kind": edit.get("edit"), "parameters": edit.get("parameters")}}


def _import(session, outputs: Path, results: dict, tables: RunTables, name: str, input_names: list[str],
            real_reference_volume) -> RunOutcome:
    common = _common_provenance(results)
    folder = create_run_folder(session, name, {**common, "kind": results["kind"],
                                               "variants": len(results["variants"])})
    outcome = RunOutcome(folder, results=results)
    if results["kind"] == "sweep":
        return _import_sweep(session, outcome, results, tables, name, common, folder)
    schema = get_schema(results["schema"])
    segmenters = {s["index"]: s for s in results["segmenters"]}
    for variant in results["variants"]:
        synthesis, k = variant["synthesis"], variant["index"]
        provenance = {**common, "variant": k + 1, "seed": synthesis.get("seed", variant["seed"]),
                      "model_id": synthesis.get("model_id", "none (template)"),
                      "model_sha256": synthesis.get("model_sha256", ""), "steps": synthesis.get("steps", 0),
                      "synthesis": synthesis}
        volumes = []
        for c, file in enumerate(variant["channels"]):
            title = f"{input_names[c]} synthetic v{k + 1} (seed {provenance['seed']})"
            volumes.append(add_volume(session, load_image(outputs / file, title), title,
                                      {**provenance, "modality": results["modalities"][c]}, folder))
        outcome.synthetic_volume_nodes.append(volumes)
        for prediction in variant["predictions"]:
            outcome.prediction_segmentation_nodes.append(_prediction(
                session, outputs, prediction, segmenters, schema, volumes[0], f"v{k + 1}", common, folder))
    for prediction in results.get("real", {}).get("predictions", []):
        outcome.prediction_segmentation_nodes.append(_prediction(
            session, outputs, prediction, segmenters, schema, real_reference_volume, input_names[0], common,
            folder))
    if tables.results is not None and tables.results.rows:
        outcome.table_node = add_table(session, tables.results.rows, f"{name}: results",
                                       tables.results.descriptions, common, folder)
        outcome.plot_node = _bar_plot(session, tables.dice_per_variant, "Dice per variant", name, folder,
                                      titled_by_run=True)
    return outcome


def _import_sweep(session, outcome: RunOutcome, results: dict, tables: RunTables, name: str, common: dict,
                  folder) -> RunOutcome:
    """A sweep's tidy table (every edit and variant), Dice per AHA segment as a table and a bar plot."""
    sweep = results["sweep"]
    attributes = {**common, "sweep": sweep["parameters"], "dice_region": sweep["region"],
                  "segmenters": [s["model_id"] for s in results["segmenters"]]}
    rows = tables.sweep.rows if tables.sweep is not None else []
    outcome.table_node = add_table(session, rows, f"{name}: sweep", None, attributes, folder)
    outcome.plot_node = _bar_plot(session, tables.dice_per_segment, "Dice per AHA segment", name, folder,
                                  attributes=attributes)
    outcome.segment_dice = dict(tables.segment_dice)
    return outcome


def _bar_plot(session, table: TableRows | None, title: str, name: str, folder, titled_by_run: bool = False,
              attributes: dict | None = None):
    """A table of ``table``'s rows and a bar chart of every column over the first; None without rows.
    ``titled_by_run``: the chart's title starts with the run's name (else it is ``title`` alone, so every
    run's chart of that kind reads the same)."""
    if table is None or not table.rows:
        return None
    x_column, *y_columns = list(table.rows[0])
    table_node = add_table(session, table.rows, f"{name}: {title}", table.descriptions, attributes, folder)
    chart_title = f"{name}: {title}" if titled_by_run else title
    return add_plot(session, table_node, x_column, y_columns, chart_title, kind="bar", parent_folder=folder,
                    name=f"{name}: {title}")


def _prediction(session, outputs: Path, prediction: dict, segmenters: dict, schema, reference, label: str,
                common: dict, folder):
    segmenter = segmenters[prediction["segmenter"]]
    attributes = {**common, "segmenter_id": segmenter["model_id"], "segmenter_sha256": segmenter["sha256"],
                  "segmentation": prediction.get("segmentation", {})}
    if "audits" in prediction:
        attributes["audits"] = prediction["audits"]
    labels = load_image(outputs / prediction["file"], "prediction")
    return add_segmentation(session, labels, schema, f"Prediction {label} ({segmenter['model_id']})",
                            reference_volume=reference, attributes=attributes, parent_folder=folder)
