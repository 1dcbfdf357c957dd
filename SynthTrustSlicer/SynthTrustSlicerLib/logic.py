"""The module's logic without any GUI: lists what can be chosen (engines, models, devices), places lesions
as new segmentation nodes, and runs synthesis/segmentation/evaluation in the worker process, importing the
results into the scene only when the run succeeded.

The scene comes in as a :class:`synthtrust.scene.SceneSession` and the worker launcher as a callable, so
the same class serves the Slicer panel, scripts and tests (no qt, ctk or ``slicer.app`` here; ``slicer``
only through the :mod:`synthtrust.scene` adapter).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import synthtrust
from synthtrust.errors import InputError
from synthtrust.imaging.image import LPS_TO_RAS, Image
from synthtrust.labels.schema import EMIDEC, TASK_SCHEMAS, LabelSchema, brats_schema, get_schema

REGION_COLUMNS = (("dice", "Dice"), ("hd95", "HD95 (mm)"), ("surface_dice", "Surface Dice"),
                  ("reference_volume_ml", "Reference volume (mL)"), ("predicted_volume_ml", "Predicted volume (mL)"))
TRUST_FACTORS = ("T1", "T2", "T3", "T4", "T5")


@dataclass
class RunRequest:
    """What one Apply asks for. Nodes are read (exported to NRRD), never modified."""

    volume_nodes: list  # image channels (vtkMRMLScalarVolumeNode), all on one grid
    modalities: list[str]  # one per volume: flair, t1, t1c, t2, lge, other
    lesion_segmentation_node: object = None  # the intended lesion (required for synthesize/run)
    anatomy_segmentation_node: object = None  # brain mask or cardiac anatomy (optional)
    reference_segmentation_node: object = None  # real-image ground truth: adds T3/T4 (optional)
    task: str = "brain-tumor"  # brain-tumor or cardiac-scar
    engine: str = "template"
    model: str = ""  # generator: manifest id or a local file / MONAI bundle folder; "" = default
    steps: int = 25
    guidance: float = 0.0
    quality_threshold: float | None = None
    variants: int = 3
    seed: int = 0
    device: str = "auto"
    segmenters: list[str] = field(default_factory=list)  # manifest ids or local paths; [] = task default
    kind: str = "run"  # run (synthesize, segment, evaluate), synthesize or segment
    name: str = ""  # run folder name; default "SynthTrust <kind> <time>"


@dataclass
class RunOutcome:
    """What a successful run added to the scene (all new nodes, inside one subject-hierarchy folder)."""

    folder_item_id: int
    synthetic_volume_nodes: list = field(default_factory=list)  # [variant][channel]
    prediction_segmentation_nodes: list = field(default_factory=list)  # variants' (and the real image's)
    table_node: object = None
    plot_node: object = None
    results: dict = field(default_factory=dict)


class RunJob:
    """A started run. ``poll()`` from a main-thread timer; ``cancel()``; ``wait()`` blocks (scripts)."""

    def __init__(self, logic: SynthTrustSlicerLogic, request: RunRequest, worker, on_message=None,
                 on_finished=None):
        self.logic, self.request, self.worker = logic, request, worker
        self.on_message, self.on_finished = on_message, on_finished
        self.outcome: RunOutcome | None = None
        self.error_message = ""
        self.input_error = False
        self.done = False

    def poll(self) -> bool:
        """Forward new messages; at the end import (or not) and call ``on_finished``. True while running."""
        if self.done:
            return False
        for message in self.worker.poll():
            if self.on_message is not None:
                self.on_message(message)
        if self.worker.finished:
            self._finish()
        return not self.done

    def cancel(self) -> None:
        """Kill the worker's process tree; the scene stays as it was."""
        if self.done:
            return
        self.worker.cancel()
        self.poll()
        if not self.done:
            self._finish()

    def wait(self, timeout: float | None = None, interval: float = 0.05) -> RunOutcome | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll():
            if deadline is not None and time.monotonic() > deadline:
                self.cancel()
                raise TimeoutError(f"the run took longer than {timeout} s and was cancelled")
            time.sleep(interval)
        return self.outcome

    def _finish(self) -> None:
        try:
            if self.worker.succeeded:
                try:
                    self.outcome = self.logic.import_results(self.request, Path(self.worker.result["outputs"]))
                except Exception as error:  # noqa: BLE001 - reported through on_finished; scene rolled back
                    self.error_message = f"importing the results failed: {error}"
            else:
                self.error_message = self.worker.failure_message()
                self.input_error = (self.worker.error or {}).get("error") == "InputError"
        finally:
            self.done = True
            self.worker.cleanup()
        if self.on_finished is not None:
            self.on_finished(self.outcome, None if self.outcome is not None else self.error_message)


class SynthTrustSlicerLogic:
    """GUI-free logic; ``session`` is the scene (default: Slicer's, or a new headless one) and ``launcher``
    starts a worker on a job folder and returns it (default: :class:`WorkerProcess` with Slicer's Python)."""

    def __init__(self, session=None, launcher: Callable | None = None, manifest=None,
                 python_executable: str | None = None, temporary_root: str | None = None):
        if session is None:
            from synthtrust.scene import SceneSession

            session = SceneSession.create()
        self.session = session
        self.manifest = manifest
        self.temporary_root = temporary_root
        self.python_executable = python_executable
        self.launcher = launcher or self._start_worker
        self.run_count = 0

    def _start_worker(self, folder: Path):
        from .process import WorkerProcess

        return WorkerProcess(folder, self.python_executable).start()

    # ------------------------------------------------------------------ choices for the panel
    def engines(self) -> list[tuple[str, str]]:
        """(name, description) of every synthesis engine the core offers."""
        from synthtrust.synthesis.engines import ENGINE_DESCRIPTIONS

        return list(ENGINE_DESCRIPTIONS.items())

    def _models(self, task: str, kind: str) -> list[dict]:
        from synthtrust.segmentation.manifest import read_manifest

        if task not in TASK_SCHEMAS:
            raise InputError(f"task {task!r} is unknown; use one of {', '.join(TASK_SCHEMAS)}")
        return [{"id": e.id, "title": e.title or e.id, "channels": list(e.channels), "path": str(e.weights_path),
                 "engines": list(e.engines)}
                for e in read_manifest(self.manifest) if e.task == task and (e.kind or "segmenter") == kind]

    def segmenter_models(self, task: str) -> list[dict]:
        """Segmenters of the manifest for ``task``: {id, title, channels, path}."""
        return self._models(task, "segmenter")

    def generator_models(self, task: str) -> list[dict]:
        """Generators (diffusion models, manifest kind "generator") for ``task``: {id, title, channels, path,
        engines}."""
        return self._models(task, "generator")

    def devices(self) -> list[tuple[str, str]]:
        """(value, label): auto, cpu, and cuda with the GPU's name and memory when one is usable."""
        try:
            import torch
        except ImportError:
            return [("auto", "Auto (PyTorch is not installed yet)"), ("cpu", "CPU")]
        if not torch.cuda.is_available():
            return [("auto", "Auto (no usable GPU: CPU)"), ("cpu", "CPU")]
        properties = torch.cuda.get_device_properties(0)
        gpu = f"{properties.name}, {properties.total_memory / 2**30:.1f} GiB"
        return [("auto", f"Auto (GPU: {gpu})"), ("cpu", "CPU"), ("cuda", f"GPU: {gpu}")]

    # ------------------------------------------------------------------ scene <-> core
    @contextmanager
    def reading_scene(self):
        """Remove what exporting leaves behind: the adapter's temporary label maps leave their display and
        color nodes in the scene, and reading must not change the scene."""
        before = self._node_ids()
        try:
            yield
        finally:
            self._remove_nodes_not_in(before)

    def _node_ids(self) -> set:
        return {node.GetID() for node in self.session.nodes_by_class("vtkMRMLNode")}

    def _remove_nodes_not_in(self, before: set) -> None:
        for node in self.session.nodes_by_class("vtkMRMLNode"):
            # Removing a node removes some of its helper nodes too: skip those already gone.
            if node.GetID() not in before and node.GetScene() is not None:
                self.session.scene.RemoveNode(node)

    def image(self, volume_node) -> Image:
        from synthtrust.scene import image_from_volume

        return image_from_volume(volume_node)

    def labels(self, segmentation_node, schema: LabelSchema, reference_volume_node) -> Image:
        """The segmentation as a label map on the reference grid; segments are matched to the schema by
        their label-value tag or their name."""
        from synthtrust.scene import labels_from_segmentation

        try:
            return labels_from_segmentation(self.session, segmentation_node, schema, reference_volume_node)
        except KeyError as error:
            names = ", ".join(schema.labels.values())
            raise InputError(f"segmentation '{segmentation_node.GetName()}' has a segment named {error} that is not a "
                             f"{schema.name} label; rename each segment to one of {names}") from None

    def mask(self, segmentation_node, reference_volume_node) -> Image:
        """All segments together as a binary mask (e.g. a brain mask) on the reference grid."""
        segmentation = segmentation_node.GetSegmentation()
        names = [segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())]
        if not names:
            raise InputError(f"segmentation '{segmentation_node.GetName()}' has no segment; draw the mask first")
        any_segment = LabelSchema("mask", {i + 1: n for i, n in enumerate(names)}, (), {})
        labels = self.labels(segmentation_node, any_segment, reference_volume_node)
        return labels.with_array((labels.array > 0).astype(np.uint8))

    # ------------------------------------------------------------------ lesion placement
    def place_tumor_segmentation(self, reference_volume_node, center_ras, parameters: dict, seed: int = 0,
                                 preview: bool = False):
        """A new segmentation node with a parametric brain tumour (BraTS labels) centred at ``center_ras``.

        ``parameters``: size_mm (diameter or three), edema_mm, enhancing_rim_mm, necrosis, irregularity,
        brain_mask_node (optional segmentation). ``preview=True`` returns the label map (core Image, its
        ``metadata["edit"]`` the edit's provenance) and adds nothing to the scene."""
        from synthtrust.editing.tumor import place_tumor

        parameters = dict(parameters)
        mask_node = parameters.pop("brain_mask_node", None)
        known = {"size_mm", "edema_mm", "enhancing_rim_mm", "necrosis", "irregularity"}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise InputError(f"tumour parameters {unknown} are unknown; use {sorted(known)}")
        image = self.image(reference_volume_node)
        with self.reading_scene():
            brain = self.mask(mask_node, reference_volume_node) if mask_node is not None else None
        center_lps = tuple(LPS_TO_RAS @ np.asarray(center_ras, float))
        edit = place_tumor(image, center_lps, parameters.pop("size_mm", 20.0), seed=seed, brain_mask=brain,
                           **parameters)
        return self._edit_result(edit, brats_schema(2021), reference_volume_node, f"Tumour (seed {seed})", preview)

    def place_scar_segmentation(self, reference_volume_node, anatomy_segmentation_node, segments: list[int],
                                transmurality: float, extent: float = 1.0, mvo: float = 0.0, seed: int = 0,
                                irregularity: float = 0.3, preview: bool = False):
        """A new segmentation node: the EMIDEC anatomy with a scar in AHA ``segments``; ``preview=True``
        returns the label map (core Image) and adds nothing."""
        from synthtrust.editing.scar import place_scar

        with self.reading_scene():
            anatomy = self.labels(anatomy_segmentation_node, EMIDEC, reference_volume_node)
        edit = place_scar(anatomy, segments, transmurality, extent, irregularity, mvo, seed)
        name = f"Scar AHA {','.join(str(s) for s in edit.parameters['segments'])} (seed {seed})"
        return self._edit_result(edit, EMIDEC, reference_volume_node, name, preview)

    def _edit_result(self, edit, schema: LabelSchema, reference_volume_node, name: str, preview: bool):
        from synthtrust.scene import add_segmentation

        provenance = edit.provenance()
        if preview:
            labels = edit.labels.with_array(edit.labels.array)
            labels.metadata["edit"] = provenance
            return labels
        attributes = {"edit": {"kind": edit.kind, "parameters": edit.parameters}, "mask_sha256":
                      provenance["mask_sha256"], "seed": edit.parameters.get("seed"),
                      "software_version": synthtrust.__version__}
        return add_segmentation(self.session, edit.labels, schema, name, reference_volume=reference_volume_node,
                                attributes=attributes, closed_surface=True)

    # ------------------------------------------------------------------ runs
    def start_run(self, request: RunRequest, on_message: Callable[[dict], None] | None = None,
                  on_finished: Callable[[RunOutcome | None, str | None], None] | None = None) -> RunJob:
        """Export the inputs, start the worker and return the job at once. Call ``job.poll()`` from a
        main-thread timer: it forwards worker messages to ``on_message`` and, at the end, imports the
        results and calls ``on_finished(outcome, None)``, or ``on_finished(None, error_message)`` after a
        failure or cancel (the scene is then unchanged). ``job.cancel()`` kills the worker's process tree."""
        folder = Path(tempfile.mkdtemp(prefix="synthtrust-job-", dir=self.temporary_root))
        try:
            with self.reading_scene():
                self.write_job(request, folder)
            worker = self.launcher(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return RunJob(self, request, worker, on_message, on_finished)

    def run(self, request: RunRequest, on_message: Callable[[dict], None] | None = None,
            timeout: float | None = None) -> RunOutcome:
        """Blocking :meth:`start_run` for scripts and tests; raises on failure (scene unchanged)."""
        job = self.start_run(request, on_message)
        outcome = job.wait(timeout)
        if outcome is None:
            raise (InputError if job.input_error else RuntimeError)(job.error_message)
        return outcome

    def write_job(self, request: RunRequest, folder: Path) -> None:
        """Inputs as NRRD (on the first volume's grid) and ``job.json`` into ``folder``."""
        from synthtrust.imaging.io import save_image
        from synthtrust.scene import get_attributes
        from synthtrust.worker.jobs import JobSpec

        if request.task not in TASK_SCHEMAS:
            raise InputError(f"task {request.task!r} is unknown; use one of {', '.join(TASK_SCHEMAS)}")
        if not request.volume_nodes:
            raise InputError("no input volume is selected; choose at least one image")
        if len(request.modalities) != len(request.volume_nodes):
            raise InputError(f"{len(request.volume_nodes)} volume(s) but {len(request.modalities)} modalities; "
                             "give each volume its modality")
        if request.kind != "segment" and request.lesion_segmentation_node is None:
            raise InputError("no lesion is selected; draw a lesion or place a tumour or scar first")
        schema = get_schema(TASK_SCHEMAS[request.task])
        reference = request.volume_nodes[0]
        channels = []
        for c, node in enumerate(request.volume_nodes):
            save_image(self.image(node), folder / f"channel_{c}.nrrd")
            channels.append(f"channel_{c}.nrrd")
        files, edit = {}, {}
        for name, node in (("lesion", request.lesion_segmentation_node),
                           ("anatomy", request.anatomy_segmentation_node),
                           ("reference", request.reference_segmentation_node)):
            if node is None:
                continue
            use_mask = name == "anatomy" and schema.name != "emidec"
            labels = self.mask(node, reference) if use_mask else self.labels(node, schema, reference)
            save_image(labels.with_array(labels.array.astype(np.uint8)), folder / f"{name}.nrrd")
            files[name] = f"{name}.nrrd"
            if name == "lesion":
                edit = get_attributes(node).get("edit") or {"kind": "drawn", "parameters": {}}
        options = {"model": request.model, "steps": request.steps, "guidance": request.guidance,
                   "quality_threshold": request.quality_threshold}
        spec = JobSpec(kind=request.kind, task=request.task, channels=channels, modalities=list(request.modalities),
                       schema=schema.name, engine=request.engine, engine_options=options, variants=request.variants,
                       seed=request.seed, device=request.device, segmenters=list(request.segmenters), edit=edit,
                       **files)
        spec.validate(folder)
        spec.write(folder)

    # ------------------------------------------------------------------ results -> scene
    def import_results(self, request: RunRequest, outputs: Path) -> RunOutcome:
        """New nodes for a finished run, all in one subject-hierarchy folder; on any failure every node
        added here is removed again, so the scene is exactly as before."""
        before = self._node_ids()
        self._importing_folder = None
        try:
            return self._import(request, Path(outputs), json.loads((Path(outputs) / "results.json").read_text()))
        except BaseException:
            self._roll_back(before)
            raise

    def _roll_back(self, before: set) -> None:
        # Items first, without their nodes: headless (slicer-core) a removed node's item would stay behind.
        hierarchy = self.session.subject_hierarchy()
        for node in self.session.nodes_by_class("vtkMRMLNode"):
            item = hierarchy.GetItemByDataNode(node) if node.GetID() not in before else 0
            if item and item != hierarchy.GetInvalidItemID():
                hierarchy.RemoveItem(item, False, False)
        if self._importing_folder is not None:
            hierarchy.RemoveItem(self._importing_folder, False, False)
        self._remove_nodes_not_in(before)

    def _import(self, request: RunRequest, outputs: Path, results: dict) -> RunOutcome:
        from synthtrust.imaging.io import load_image
        from synthtrust.scene import add_volume, create_run_folder

        schema = get_schema(results["schema"])
        self.run_count += 1
        detail = "" if results["kind"] == "segment" else f" ({results['engine']}, seed {request.seed})"
        name = request.name or f"SynthTrust {results['kind']} {self.run_count}{detail}"
        edit = results.get("edit") or {}
        common = {"software_version": synthtrust.__version__, "engine": results["engine"], "task": results["task"],
                  "mask_sha256": edit.get("mask_sha256", ""), "edit": {"kind": edit.get("edit"),
                                                                       "parameters": edit.get("parameters")}}
        folder = create_run_folder(self.session, name, {**common, "kind": results["kind"],
                                                        "variants": len(results["variants"])})
        self._importing_folder = folder
        outcome = RunOutcome(folder, results=results)
        segmenters = {s["index"]: s for s in results["segmenters"]}
        inputs = request.volume_nodes
        for variant in results["variants"]:
            synthesis, k = variant["synthesis"], variant["index"]
            provenance = {**common, "variant": k + 1, "seed": synthesis.get("seed", variant["seed"]),
                          "model_id": synthesis.get("model_id", "none (template)"),
                          "model_sha256": synthesis.get("model_sha256", ""), "steps": synthesis.get("steps", 0),
                          "synthesis": synthesis}
            volumes = []
            for c, file in enumerate(variant["channels"]):
                title = f"{inputs[c].GetName()} synthetic v{k + 1} (seed {provenance['seed']})"
                volumes.append(add_volume(self.session, load_image(outputs / file, title), title,
                                          {**provenance, "modality": results["modalities"][c]}, folder))
            outcome.synthetic_volume_nodes.append(volumes)
            for prediction in variant["predictions"]:
                outcome.prediction_segmentation_nodes.append(self._prediction(
                    outputs, prediction, segmenters, schema, volumes[0], f"v{k + 1}", common, folder))
        for prediction in results.get("real", {}).get("predictions", []):
            outcome.prediction_segmentation_nodes.append(self._prediction(
                outputs, prediction, segmenters, schema, inputs[0], inputs[0].GetName(), common, folder))
        rows = results_rows(results)
        if rows:
            from synthtrust.scene import add_table

            outcome.table_node = add_table(self.session, rows, f"{name}: results", column_descriptions(),
                                           common, folder)
            outcome.plot_node = self._plot(results, name, folder)
        return outcome

    def _prediction(self, outputs, prediction, segmenters, schema, reference, label, common, folder):
        from synthtrust.imaging.io import load_image
        from synthtrust.scene import add_segmentation

        segmenter = segmenters[prediction["segmenter"]]
        attributes = {**common, "segmenter_id": segmenter["model_id"], "segmenter_sha256": segmenter["sha256"],
                      "segmentation": prediction.get("segmentation", {})}
        if "audits" in prediction:
            attributes["audits"] = prediction["audits"]
        labels = load_image(outputs / prediction["file"], "prediction")
        return add_segmentation(self.session, labels, schema, f"Prediction {label} ({segmenter['model_id']})",
                                reference_volume=reference, attributes=attributes, parent_folder=folder)

    def _plot(self, results: dict, name: str, folder):
        from synthtrust.scene import add_plot, add_table

        rows = dice_per_variant_rows(results)
        if not rows:
            return None
        columns = [c for c in rows[0] if c != "variant"]
        table = add_table(self.session, rows, f"{name}: Dice per variant", parent_folder=folder)
        return add_plot(self.session, table, "variant", columns, f"{name}: Dice per variant", kind="bar",
                        parent_folder=folder)


# ---------------------------------------------------------------------- results -> table rows
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
            row = {"case": case, "seed": float(seed), "segmenter": segmenters[prediction["segmenter"]],
                   "region": region}
            row.update({title: _number(metrics.get(key)) for key, title in REGION_COLUMNS})
            if audits:
                fidelity = audits["conditioning_fidelity"]
                row["Fidelity"] = "pass" if fidelity["passed"] else "fail"
                row["Fidelity Dice"] = _number(fidelity["dice"])
                row["Hallucinated (mL)"] = _number(audits["hallucination"]["volume_ml"])
                row["Off-target voxels"] = float(audits["off_target_change"]["voxels_changed"])
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
