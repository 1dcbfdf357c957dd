"""The scene side of a finished run: the run importer.

One importer for every caller that puts a run into a scene (the panel after its worker, the demo's scene
bundle): a run's record (:class:`synthtrust.results.RunRecord`, the worker's ``results.json``) and its image
files become new nodes in one subject-hierarchy folder, each carrying the run's provenance as
``SynthTrust.*`` attributes, with the run's tables and plots made from the one table definition
(:mod:`synthtrust.results.table`). The import is all or nothing
(:func:`~synthtrust.scene.transactions.all_or_nothing`): when any step fails, every node and item added so
far is removed again and the error goes to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import synthtrust
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import get_schema
from synthtrust.results.records import RESULTS_FILE, Prediction, RunRecord
from synthtrust.results.table import (
    SEGMENT,
    VARIANT,
    descriptions,
    dice_per_segment_rows,
    dice_per_variant_rows,
    results_rows,
    segment_dice,
    sweep_rows,
)
from synthtrust.scene.nodes import add_plot, add_segmentation, add_table, add_volume, create_run_folder
from synthtrust.scene.session import SceneSession
from synthtrust.scene.transactions import all_or_nothing


@dataclass
class RunOutcome:
    """What a successful import added to the scene (all new nodes, inside one subject-hierarchy folder)."""

    folder_item_id: int
    results: RunRecord  # the run's record, as imported
    synthetic_volume_nodes: list = field(default_factory=list)  # [variant][channel]
    prediction_segmentation_nodes: list = field(default_factory=list)  # variants' (and the real image's)
    table_node: object = None
    plot_node: object = None
    segment_dice: dict = field(default_factory=dict)  # sweeps: AHA segment -> Dice (first segmenter)


def read_run_record(outputs: Path) -> RunRecord:
    """The run record the worker wrote into its outputs folder."""
    return RunRecord.read(Path(outputs) / RESULTS_FILE)


def default_run_name(record: RunRecord, number: int) -> str:
    """"SynthTrust <kind> <number> (<engine>, seed <seed>)", without the engine part for segment-only runs."""
    detail = "" if record.kind == "segment" else f" ({record.engine}, seed {record.seed})"
    return f"SynthTrust {record.kind} {number}{detail}"


def import_run(session: SceneSession, outputs: Path, record: RunRecord, name: str, input_names: list[str],
               real_reference_volume=None) -> RunOutcome:
    """New nodes for a finished run in a folder named ``name``; on any failure none stays in the scene.

    ``outputs``: the folder holding the record's image files; ``input_names``: the input channels' names
    (synthetic volumes are named after them); ``real_reference_volume``: the volume the predictions on the
    real image are placed on (required when the record has any)."""
    with all_or_nothing(session):
        return _import(session, Path(outputs), record, name, input_names, real_reference_volume)


def _common_provenance(record: RunRecord) -> dict:
    edit = record.edit or {}
    return {"software_version": synthtrust.__version__, "engine": record.engine, "task": record.task,
            "mask_sha256": edit.get("mask_sha256", ""),
            "edit": {"kind": edit.get("edit"), "parameters": edit.get("parameters")}}


def _import(session, outputs: Path, record: RunRecord, name: str, input_names: list[str],
            real_reference_volume) -> RunOutcome:
    common = _common_provenance(record)
    folder = create_run_folder(session, name, {**common, "kind": record.kind, "variants": len(record.variants)})
    outcome = RunOutcome(folder, record)
    if record.kind == "sweep":
        return _import_sweep(session, outcome, record, name, common, folder)
    schema = get_schema(record.schema)
    for variant in record.variants:
        synthesis, k = variant.synthesis, variant.index
        provenance = {**common, "variant": k + 1, "seed": synthesis.get("seed", variant.seed),
                      "model_id": synthesis.get("model_id", "none (template)"),
                      "model_sha256": synthesis.get("model_sha256", ""), "steps": synthesis.get("steps", 0),
                      "synthesis": synthesis}
        volumes = []
        for c, file in enumerate(variant.channels):
            title = f"{input_names[c]} synthetic v{k + 1} (seed {provenance['seed']})"
            volumes.append(add_volume(session, load_image(outputs / file, title), title,
                                      {**provenance, "modality": record.modalities[c]}, folder))
        outcome.synthetic_volume_nodes.append(volumes)
        for prediction in variant.predictions:
            outcome.prediction_segmentation_nodes.append(_prediction(
                session, outputs, record, prediction, schema, volumes[0], f"v{k + 1}", common, folder))
    for prediction in record.real or []:
        outcome.prediction_segmentation_nodes.append(_prediction(
            session, outputs, record, prediction, schema, real_reference_volume, input_names[0], common, folder))
    rows = results_rows(record)
    if rows:
        outcome.table_node = add_table(session, rows, f"{name}: results", descriptions(), common, folder)
        per_variant = dice_per_variant_rows(record)
        if per_variant:
            table = add_table(session, per_variant, f"{name}: Dice per variant", parent_folder=folder)
            outcome.plot_node = add_plot(session, table, VARIANT.header, list(per_variant[0])[1:],
                                         f"{name}: Dice per variant", kind="bar", parent_folder=folder)
    return outcome


def _import_sweep(session, outcome: RunOutcome, record: RunRecord, name: str, common: dict, folder) -> RunOutcome:
    """A sweep's tidy table (every edit and variant), Dice per AHA segment as a table and a bar plot."""
    sweep = record.sweep
    attributes = {**common, "sweep": sweep.parameters, "dice_region": sweep.region,
                  "segmenters": [s.model_id for s in record.segmenters]}
    outcome.table_node = add_table(session, sweep_rows(record), f"{name}: sweep", None, attributes, folder)
    rows = dice_per_segment_rows(record)
    if rows:
        dice_columns = list(rows[0])[1:]
        tooltips = {SEGMENT.header: SEGMENT.description,
                    **{c: f"mean {sweep.region} Dice over the segment's edits and variants" for c in dice_columns}}
        table = add_table(session, rows, f"{name}: Dice per AHA segment", tooltips, attributes, folder)
        outcome.plot_node = add_plot(session, table, SEGMENT.header, dice_columns, "Dice per AHA segment",
                                     kind="bar", parent_folder=folder, name=f"{name}: Dice per AHA segment")
    outcome.segment_dice = segment_dice(record)
    return outcome


def _prediction(session, outputs: Path, record: RunRecord, prediction: Prediction, schema, reference, label: str,
                common: dict, folder):
    segmenter = next(s for s in record.segmenters if s.index == prediction.segmenter)
    attributes = {**common, "segmenter_id": segmenter.model_id, "segmenter_sha256": segmenter.sha256,
                  "segmentation": prediction.segmentation}
    if prediction.audits is not None:
        attributes["audits"] = prediction.audits.to_json()
    labels = load_image(outputs / prediction.file, "prediction")
    return add_segmentation(session, labels, schema, f"Prediction {label} ({segmenter.model_id})",
                            reference_volume=reference, attributes=attributes, parent_folder=folder)
