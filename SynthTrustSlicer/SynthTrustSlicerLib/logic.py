"""The module's logic without any GUI: lists what can be chosen (engines, models, devices), places lesions
as new segmentation nodes, and runs synthesis/segmentation/evaluation in the worker process, importing the
results into the scene only when the run succeeded.

The scene comes in as a :class:`synthtrust.scene.SceneSession` and the worker launcher as a callable, so
the same class serves the Slicer panel, scripts and tests (no qt, ctk or ``slicer.app`` here; ``slicer``
only through the :mod:`synthtrust.scene` adapter).
"""

from __future__ import annotations

import importlib.util
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

from .results_table import (
    SEGMENT_COLUMN,
    column_descriptions,
    dice_per_segment_rows,
    dice_per_variant_rows,
    results_rows,
    segment_dice,
    sweep_rows,
)

PREVIEW_NAME, PREVIEW_ATTRIBUTE = "SynthTrust lesion preview", "SynthTrust.preview"


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
    device: str = "auto"  # synthesis
    segmentation_device: str = "auto"  # the segmenters'
    segmenters: list[str] = field(default_factory=list)  # manifest ids or local paths; [] = task default
    kind: str = "run"  # run (synthesize, segment, evaluate), synthesize, segment or sweep
    sweep: dict = field(default_factory=dict)  # kind sweep: segments, transmurality (list), extent, ...
    name: str = ""  # run folder name; default "SynthTrust <kind> <number>"


@dataclass
class RunOutcome:
    """What a successful run added to the scene (all new nodes, inside one subject-hierarchy folder)."""

    folder_item_id: int
    synthetic_volume_nodes: list = field(default_factory=list)  # [variant][channel]
    prediction_segmentation_nodes: list = field(default_factory=list)  # variants' (and the real image's)
    table_node: object = None
    plot_node: object = None
    results: dict = field(default_factory=dict)
    segment_dice: dict = field(default_factory=dict)  # sweeps: AHA segment -> Dice (first segmenter)


class RunJob:
    """A started run. ``poll()`` from a main-thread timer; ``cancel()``; ``wait()`` blocks (scripts)."""

    def __init__(self, logic: SynthTrustSlicerLogic, request: RunRequest, worker, on_message=None,
                 on_finished=None):
        self.logic, self.request, self.worker = logic, request, worker
        self.on_message, self.on_finished = on_message, on_finished
        self.outcome: RunOutcome | None = None
        self.error_message = ""
        self.input_error = False
        self.cancel_requested = False
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

    def cancel(self, wait: bool = False) -> None:
        """Stop the worker's process tree; nothing is imported, the scene stays as it was.

        By default (the panel) this returns at once: the next ``poll()`` calls finish the job (kill what
        outlives the grace time, remove the job folder, call ``on_finished``). ``wait=True`` (scripts,
        tests, Slicer closing) blocks until all that is done."""
        if self.done:
            return
        self.cancel_requested = True
        self.worker.cancel(wait=wait)
        if wait:
            self.poll()
            if not self.done:
                self._finish()

    def wait(self, timeout: float | None = None, interval: float = 0.05) -> RunOutcome | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll():
            if deadline is not None and time.monotonic() > deadline:
                self.cancel(wait=True)
                raise TimeoutError(f"the run took longer than {timeout} s and was cancelled")
            time.sleep(interval)
        return self.outcome

    def _finish(self) -> None:
        try:
            if self.cancel_requested:
                self.error_message = "cancelled; the scene was not changed"
            elif self.worker.succeeded:
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


def pick_default_generator(generators: list[dict], modalities: list[str], engine: str) -> dict | None:
    """Among ``generators`` (as :meth:`SynthTrustSlicerLogic.generator_models` lists them), the one the core
    loads when no model is chosen: the same channels and serving ``engine`` (the choice
    ``synthtrust.synthesis.diffusion.model.load_default_generator`` makes), or None."""
    from synthtrust.segmentation.config import canonical_channel

    wanted = sorted(canonical_channel(m) for m in modalities)
    return next((m for m in generators if sorted(m["channels"]) == wanted and engine in m["engines"]), None)


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

    def default_generator(self, task: str, modalities: list[str], engine: str) -> dict | None:
        """The shipped generator the core loads for ``engine`` when no model is chosen, or None."""
        return pick_default_generator(self.generator_models(task), modalities, engine)

    def devices(self) -> list[tuple[str, str]]:
        """(value, label): auto, cpu, and cuda with the GPU's name and memory when one is usable. Nothing
        is installed here, and torch is imported only when it is there (inside Slicer it comes from the
        PyTorch extension, installed on the first Apply); a broken install is named, never raised."""
        cpu_only = [("cpu", "CPU")]
        if importlib.util.find_spec("torch") is None:
            return [("auto", "Auto (CPU until PyTorch is installed on the first Apply)"), *cpu_only]
        try:
            import torch

            if not torch.cuda.is_available():
                why = "CPU-only PyTorch build" if torch.version.cuda is None else \
                    f"PyTorch built for CUDA {torch.version.cuda} finds no usable GPU"
                return [("auto", f"Auto (CPU: {why})"), *cpu_only]
            properties = torch.cuda.get_device_properties(0)
            gpu = f"{properties.name}, {properties.total_memory / 2**30:.1f} GiB"
        except Exception as error:  # noqa: BLE001 - a broken CUDA install raises OSError, RuntimeError, ...
            return [("auto", f"Auto (CPU: PyTorch does not load: {type(error).__name__}: {error})"), *cpu_only]
        return [("auto", f"Auto (GPU: {gpu})"), *cpu_only, ("cuda", f"GPU: {gpu}")]

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

    def show_preview(self, labels: Image, name: str = PREVIEW_NAME):
        """A label map overlay of a placement preview (replacing the previous one). It is transient: hidden
        from node selectors, never saved with the scene, and removed by :meth:`remove_previews` (on Place,
        on leaving the module and when the scene closes)."""
        from synthtrust.scene import add_volume

        self.remove_previews()
        node = add_volume(self.session, labels, name, label_map=True, transient=True)
        node.SetAttribute(PREVIEW_ATTRIBUTE, "1")
        return node

    @staticmethod
    def label_volumes_ml(labels: Image) -> dict[str, float]:
        """Volume per label value of a placement (for the preview's log line)."""
        values, counts = np.unique(labels.array[labels.array > 0], return_counts=True)
        return {f"label {int(v)}": float(c) * labels.voxel_volume_ml for v, c in zip(values, counts, strict=True)}

    def remove_previews(self) -> None:
        from synthtrust.scene import remove_node

        for node in self.session.nodes_by_class("vtkMRMLLabelMapVolumeNode"):
            if node.GetAttribute(PREVIEW_ATTRIBUTE) == "1":
                remove_node(self.session, node)

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
        if request.kind not in ("segment", "sweep") and request.lesion_segmentation_node is None:
            raise InputError("no lesion is selected; draw a lesion or place a tumour or scar first")
        if request.kind == "sweep" and request.anatomy_segmentation_node is None:
            raise InputError("a sweep places scars into the cardiac anatomy: select it (blood pool and myocardium) "
                             "under Inputs")
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
                       seed=request.seed, device=request.device, segmentation_device=request.segmentation_device,
                       segmenters=list(request.segmenters), edit=edit, sweep=dict(request.sweep), **files)
        spec.validate(folder)
        spec.write(folder)

    # ------------------------------------------------------------------ results -> scene
    def import_results(self, request: RunRequest, outputs: Path) -> RunOutcome:
        """New nodes for a finished run, all in one subject-hierarchy folder; on any failure every node
        added here is removed again, so the scene is exactly as before."""
        before = self._node_ids()
        self._importing_folder = None
        try:
            outcome = self._import(request, Path(outputs), json.loads((Path(outputs) / "results.json").read_text()))
        except BaseException:
            self._roll_back(before)
            raise
        self.run_count += 1  # only runs that reached the scene are numbered
        return outcome

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
        detail = "" if results["kind"] == "segment" else f" ({results['engine']}, seed {request.seed})"
        name = request.name or f"SynthTrust {results['kind']} {self.run_count + 1}{detail}"
        edit = results.get("edit") or {}
        common = {"software_version": synthtrust.__version__, "engine": results["engine"], "task": results["task"],
                  "mask_sha256": edit.get("mask_sha256", ""), "edit": {"kind": edit.get("edit"),
                                                                       "parameters": edit.get("parameters")}}
        folder = create_run_folder(self.session, name, {**common, "kind": results["kind"],
                                                        "variants": len(results["variants"])})
        self._importing_folder = folder
        outcome = RunOutcome(folder, results=results)
        if results["kind"] == "sweep":
            return self._import_sweep(outcome, results, name, common, folder)
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

    def _import_sweep(self, outcome: RunOutcome, results: dict, name: str, common: dict, folder) -> RunOutcome:
        """A sweep's tidy table (every edit and variant), Dice per AHA segment as a table and a bar plot."""
        from synthtrust.scene import add_plot, add_table

        sweep = results["sweep"]
        attributes = {**common, "sweep": sweep["parameters"], "dice_region": sweep["region"],
                      "segmenters": [s["model_id"] for s in results["segmenters"]]}
        outcome.table_node = add_table(self.session, sweep_rows(results), f"{name}: sweep", None, attributes, folder)
        rows = dice_per_segment_rows(results)
        if rows:
            table = add_table(self.session, rows, f"{name}: Dice per AHA segment", {
                SEGMENT_COLUMN: "AHA 17-segment model: 1-6 basal, 7-12 mid, 13-16 apical, 17 apex",
                **{c: f"mean {sweep['region']} Dice over the segment's edits and variants" for c in rows[0]
                   if c != SEGMENT_COLUMN}}, attributes, folder)
            outcome.plot_node = add_plot(self.session, table, SEGMENT_COLUMN, [c for c in rows[0] if c != SEGMENT_COLUMN],
                                         "Dice per AHA segment", kind="bar", parent_folder=folder,
                                         name=f"{name}: Dice per AHA segment")
        outcome.segment_dice = segment_dice(results)
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
