"""The module's one Logic class, ``SynthTrustSlicerLogic`` (``SynthTrustSlicer.py`` imports it under that
name, Slicer's naming contract): lists what can be chosen (engines, models; the devices come from
``.dependencies``, which knows what Slicer's PyTorch can run), places lesions as new segmentation nodes,
and runs synthesis/segmentation/evaluation in a worker process.

One Apply reads, as in SlicerMONAIAuto3DSeg: the Widget's panel controller (:mod:`.panel_state`, which
holds this Logic) builds a :class:`RunRequest` from the parameter node (:func:`.parameters.request_for`) and
calls :meth:`SynthTrustSlicerLogic.start_run`, which exports the inputs through the MRML adapter
(:func:`synthtrust.scene.export_run_inputs`) and starts the worker (:mod:`.process`); the panel's timer
calls :meth:`RunJob.poll`, which forwards progress and, once the worker succeeded, hands its outputs to the
adapter's run importer (:func:`synthtrust.scene.import_run`, all or nothing); ``on_finished`` then gives
the controller the :class:`~synthtrust.scene.RunOutcome` to show. :meth:`SynthTrustSlicerLogic.run` is the same
run, blocking, for scripts and tests (``waitForCompletion``).

The scene comes in as a :class:`synthtrust.scene.SceneSession` and the worker launcher as a callable, so the
same class serves the Slicer panel, scripts and tests: no qt, ctk or ``slicer.app`` here, and ``slicer``
only through the adapter. It does not derive from Slicer's ``ScriptedLoadableModuleLogic``: that base
reaches the scene through ``slicer.mrmlScene`` only, and the one thing the module used from it, the
parameter node, the adapter keeps the same way (:func:`synthtrust.scene.module_parameter_node`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import synthtrust
from synthtrust import scene
from synthtrust.errors import InputError
from synthtrust.imaging.image import LPS_TO_RAS, Image
from synthtrust.labels.schema import EMIDEC, TASK_SCHEMAS, LabelSchema, brats_schema, get_schema
from synthtrust.scene import display
from synthtrust.settings import RunSettings

from .paths import MODULE_NAME

PREVIEW_NAME = "SynthTrust lesion preview"
TUMOR_PARAMETERS = ("size_mm", "edema_mm", "enhancing_rim_mm", "necrosis", "irregularity")


@dataclass
class RunRequest:
    """What one Apply asks for: the run's settings and the scene's input nodes (read, never modified).

    ``settings`` is the core's one typed definition of a run (:class:`synthtrust.settings.RunSettings`,
    the worker's ``job.json``); its file names (``channels``, ``lesion``, ``anatomy``, ``reference``) and
    the lesion's ``edit`` are filled in from the nodes when the job is written, whatever they held."""

    settings: RunSettings
    volume_nodes: list  # image channels (vtkMRMLScalarVolumeNode), all on one grid, one per modality
    lesion_segmentation_node: object = None  # the intended lesion (required for synthesize/run)
    anatomy_segmentation_node: object = None  # brain mask or cardiac anatomy (optional; sweeps need it)
    reference_segmentation_node: object = None  # real-image ground truth: adds T3/T4 (optional)
    name: str = ""  # run folder name; default "SynthTrust <kind> <number> (<engine>, seed <seed>)"

    def job_settings(self) -> RunSettings:
        """The settings with the file names the exported nodes get, checked as the worker will check them
        (so a request the worker would refuse is refused before anything is written)."""
        names = scene.input_file_names(len(self.volume_nodes), self.lesion_segmentation_node,
                                       self.anatomy_segmentation_node, self.reference_segmentation_node)
        files = {"lesion": "", "anatomy": "", "reference": "", **names.files}
        settings = replace(self.settings, channels=names.channels, **files)
        settings.validate()
        return settings


class RunJob:
    """A started run. ``poll()`` from a main-thread timer; ``cancel()``; ``wait()`` blocks (scripts)."""

    def __init__(self, logic: SynthTrustSlicerLogic, request: RunRequest, worker, on_message=None,
                 on_finished=None):
        self.logic, self.request, self.worker = logic, request, worker
        self.on_message, self.on_finished = on_message, on_finished
        self.outcome: scene.RunOutcome | None = None
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

    def wait(self, timeout: float | None = None, interval: float = 0.05) -> scene.RunOutcome | None:
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
                except Exception as error:  # noqa: BLE001 - reported through on_finished; the import rolled back
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
    from synthtrust.models.channels import canonical_channel

    wanted = sorted(canonical_channel(m) for m in modalities)
    return next((m for m in generators if sorted(m["channels"]) == wanted and engine in m["engines"]), None)


class SynthTrustSlicerLogic:
    """GUI-free logic; ``session`` is the scene (default: Slicer's, or a new headless one) and ``launcher``
    starts a worker on a job folder and returns it (default: :class:`WorkerProcess` with Slicer's Python)."""

    def __init__(self, session: scene.SceneSession | None = None, launcher: Callable | None = None,
                 manifest=None, python_executable: str | None = None, temporary_root: str | None = None):
        self.session = session if session is not None else scene.SceneSession.create()
        self.manifest = manifest
        self.temporary_root = temporary_root
        self.python_executable = python_executable
        self.launcher = launcher or self._start_worker
        self.run_count = 0

    def _start_worker(self, folder: Path):
        from .process import WorkerProcess  # threads and subprocesses: only once a run starts

        return WorkerProcess(folder, self.python_executable).start()

    # ------------------------------------------------------------------ nodes the panel keeps in the scene
    def getParameterNode(self):  # noqa: N802 - the name Slicer's scripted-module template gives it
        """The module's parameter node (wrap it in the module's ``@parameterNodeWrapper`` class)."""
        return scene.module_parameter_node(self.session, MODULE_NAME)

    def segment_editor_node(self):
        return scene.singleton_node(self.session, "vtkMRMLSegmentEditorNode", "SynthTrustSegmentEditor")

    def panel_plot_view_node(self):
        return scene.singleton_node(self.session, "vtkMRMLPlotViewNode", "SynthTrustPanelPlot")

    def load_sample(self, which: str):
        """``brain`` or ``heart``: (volume node, anatomy segmentation node) added to the scene."""
        from . import sample_data

        return sample_data.load_sample(which, self.session)

    # ------------------------------------------------------------------ choices for the panel
    def engines(self) -> list[tuple[str, str]]:
        """(name, description) of every synthesis engine the core offers."""
        from synthtrust.synthesis.engines import ENGINE_DESCRIPTIONS

        return list(ENGINE_DESCRIPTIONS.items())

    def _models(self, task: str, kind: str) -> list[dict]:
        from synthtrust.models.manifest import read_manifest

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
        unknown = sorted(set(parameters) - set(TUMOR_PARAMETERS))
        if unknown:
            raise InputError(f"tumour parameters {unknown} are unknown; use {sorted(TUMOR_PARAMETERS)}")
        image = scene.image_from_volume(reference_volume_node)
        brain = None if mask_node is None else scene.segmentation_mask(self.session, mask_node, reference_volume_node)
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

        anatomy = scene.segmentation_labels(self.session, anatomy_segmentation_node, EMIDEC, reference_volume_node)
        edit = place_scar(anatomy, segments, transmurality, extent, irregularity, mvo, seed)
        name = f"Scar AHA {','.join(str(s) for s in edit.parameters['segments'])} (seed {seed})"
        return self._edit_result(edit, EMIDEC, reference_volume_node, name, preview)

    def _edit_result(self, edit, schema: LabelSchema, reference_volume_node, name: str, preview: bool):
        provenance = edit.provenance()
        if preview:
            labels = edit.labels.with_array(edit.labels.array)
            labels.metadata["edit"] = provenance
            return labels
        attributes = {"edit": {"kind": edit.kind, "parameters": edit.parameters}, "mask_sha256":
                      provenance["mask_sha256"], "seed": edit.parameters.get("seed"),
                      "software_version": synthtrust.__version__}
        return scene.add_segmentation(self.session, edit.labels, schema, name, reference_volume=reference_volume_node,
                                      attributes=attributes, closed_surface=True)

    def show_preview(self, labels: Image, name: str = PREVIEW_NAME):
        """A label map overlay of a placement preview (replacing the previous one). It is transient: hidden
        from node selectors, never saved with the scene, and removed by :meth:`remove_previews` (on Place,
        on leaving the module and when the scene closes)."""
        return display.show_preview(self.session, labels, name)

    @staticmethod
    def label_volumes_ml(labels: Image) -> dict[str, float]:
        """Volume per label value of a placement (for the preview's log line)."""
        values, counts = np.unique(labels.array[labels.array > 0], return_counts=True)
        voxel_ml = labels.geometry.voxel_volume_ml
        return {f"label {int(v)}": float(c) * voxel_ml for v, c in zip(values, counts, strict=True)}

    def remove_previews(self) -> None:
        display.remove_previews(self.session)

    # ------------------------------------------------------------------ runs
    def start_run(self, request: RunRequest, on_message: Callable[[dict], None] | None = None,
                  on_finished: Callable[[scene.RunOutcome | None, str | None], None] | None = None) -> RunJob:
        """Export the inputs, start the worker and return the job at once. Call ``job.poll()`` from a
        main-thread timer: it forwards worker messages to ``on_message`` and, at the end, imports the
        results and calls ``on_finished(outcome, None)``, or ``on_finished(None, error_message)`` after a
        failure or cancel (the scene is then unchanged). ``job.cancel()`` kills the worker's process tree."""
        settings = request.job_settings()
        folder = Path(tempfile.mkdtemp(prefix="synthtrust-job-", dir=self.temporary_root))
        try:
            self.write_job(request, folder, settings)
            worker = self.launcher(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return RunJob(self, request, worker, on_message, on_finished)

    def run(self, request: RunRequest, on_message: Callable[[dict], None] | None = None,
            timeout: float | None = None) -> scene.RunOutcome:
        """Blocking :meth:`start_run` for scripts and tests (``waitForCompletion``); raises on failure (the
        scene is then unchanged)."""
        job = self.start_run(request, on_message)
        outcome = job.wait(timeout)
        if outcome is None:
            raise (InputError if job.input_error else RuntimeError)(job.error_message)
        return outcome

    def write_job(self, request: RunRequest, folder: Path, settings: RunSettings | None = None) -> None:
        """The inputs (through the adapter, on the first volume's grid) and ``job.json`` into ``folder``."""
        settings = settings or request.job_settings()
        exported = scene.export_run_inputs(self.session, folder, request.volume_nodes, get_schema(settings.schema),
                                           lesion=request.lesion_segmentation_node,
                                           anatomy=request.anatomy_segmentation_node,
                                           reference=request.reference_segmentation_node)
        settings = replace(settings, edit=exported.edit)
        settings.validate(folder)
        settings.write(folder)

    def import_results(self, request: RunRequest, outputs: Path) -> scene.RunOutcome:
        """The finished run's outputs into the scene through the adapter's run importer (all or nothing);
        only runs that reach the scene are numbered."""
        record = scene.read_run_record(outputs)
        name = request.name or scene.default_run_name(record, self.run_count + 1)
        input_names = [node.GetName() for node in request.volume_nodes]
        outcome = scene.import_run(self.session, outputs, record, name, input_names, request.volume_nodes[0])
        self.run_count += 1
        return outcome
