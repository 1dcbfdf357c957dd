"""The panel's rules without Slicer: when each action is possible, Apply <-> Cancel around a job, progress
with step count and ETA, the log, and how results are shown (table, badges, bullseye, plot, slice views).

The module's widget (``SynthTrustSlicer.py``) builds :class:`PanelController` with the ``ui`` namespace of
the loaded ``.ui``, the module's Logic and the request builder (``parameters.request_for``), binds the
parameter node to it, and snapshots that node into :class:`PanelInputs` for the enabling rules. One Apply
then reads, as in SlicerMONAIAuto3DSeg: Widget -> controller -> ``logic.start_run`` -> worker -> the
adapter's run importer -> the controller shows the outcome; nothing here calls back into the widget.
The offscreen tests drive the same controller on the same ``.ui`` under PySide6, so the rules tested are
the rules Slicer runs. Widgets are touched only by assigning Qt properties as attributes and calling
slots/methods that exist in both PythonQt and PySide6 (``appendPlainText``, ``setMRMLTableNode``,
``start``/``stop``).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from synthtrust.results.records import RunRecord

try:  # PySide6 only: Qt properties as attributes, as in PythonQt (which has no __feature__ module)
    from __feature__ import true_property  # noqa: F401
except ImportError:
    pass

BRAIN_TUMOR, CARDIAC_SCAR = "brain-tumor", "cardiac-scar"
IDLE, RUNNING, CANCELLING = "idle", "running", "cancelling"
APPLY_TEXT, CANCEL_TEXT, CANCELLING_TEXT = "Apply", "Cancel", "Cancelling..."
# Badge colours: the same green/red/grey Slicer's own status colours use, readable on light and dark themes.
BADGE_STYLE = {
    "pass": "QLabel { background-color: #2e7d32; color: white; border-radius: 4px; padding: 2px 6px; }",
    "fail": "QLabel { background-color: #c62828; color: white; border-radius: 4px; padding: 2px 6px; }",
    "none": "QLabel { background-color: #9e9e9e; color: white; border-radius: 4px; padding: 2px 6px; }",
}
# Widgets that hold settings: locked while a job runs so the request on screen is the one running.
SETTINGS_WIDGETS = ("inputsCollapsibleButton", "lesionCollapsibleButton", "segmentCollapsibleButton",
                    "synthesisSettingsWidget")


@dataclass
class PanelInputs:
    """What the enabling rules need, read from the parameter node (names of nodes, not nodes)."""

    channels: list[str] = field(default_factory=list)  # chosen volume names, channel order, None dropped
    task: str = BRAIN_TUMOR
    lesion_segmentation: bool = False
    anatomy_segmentation: bool = False
    tumor_center: bool = False
    scar_segments: list[int] = field(default_factory=list)
    modalities: list[str] = field(default_factory=list)  # one per chosen channel
    engine: str = "template"
    engine_needs_model: bool = False
    model_chosen: bool = False  # a manifest model or a local file is picked
    default_generator: str = ""  # title of the shipped generator used when none is picked ("" = none)
    segmenters: int = 0
    guidance: bool = False


def action_blockers(inputs: PanelInputs) -> dict[str, list[str]]:
    """For each action (apply, tumor, scar, sweep), what stops it; an empty list means it can run."""
    volumes = []
    if not inputs.channels:
        volumes.append("Select at least one input volume under Inputs.")
    duplicates = sorted({name for name in inputs.channels if inputs.channels.count(name) > 1})
    if duplicates:
        volumes.append(f"Each channel needs its own volume: '{duplicates[0]}' is selected twice under Inputs.")
    engine_and_segmenters = []
    if inputs.engine_needs_model and not inputs.model_chosen and not inputs.default_generator:
        channels = "+".join(inputs.modalities) or "no channel"
        engine_and_segmenters.append(
            f"The '{inputs.engine}' engine needs a generator, and none is shipped for {inputs.task} with "
            f"{channels}: pick a model under Synthesis, give a local checkpoint / MONAI bundle folder, change "
            "the channels' modalities, or use the template engine.")
    if inputs.segmenters < 1:
        engine_and_segmenters.append("Tick at least one segmenter under Segment, or give a local checkpoint there.")
    apply = list(volumes)
    if not inputs.lesion_segmentation:
        apply.append("Select the lesion segmentation under Lesion (place a tumour or scar, or draw one "
                     "with the Segment Editor).")
    apply += engine_and_segmenters
    tumor = list(volumes)
    if not inputs.tumor_center:
        tumor.append("Choose the tumour centre: create a point under Lesion > Centre and click it into a "
                     "slice view.")
    scar = list(volumes)
    if not inputs.anatomy_segmentation:
        scar.append("Select the cardiac anatomy segmentation (blood pool and myocardium) under Inputs.")
    if not inputs.scar_segments:
        scar.append("Click at least one AHA segment on the bullseye under Lesion.")
    sweep = scar + engine_and_segmenters
    return {"apply": apply, "tumor": tumor, "scar": scar, "sweep": sweep}


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "estimating"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_display(message: dict) -> tuple[int, str]:
    """(value in 0..1000, text) for a worker ``progress`` message: "synthesis: step 12/50, ETA 0:34"."""
    step, total = int(message.get("step") or 0), int(message.get("total") or 0)
    fraction = message.get("fraction")
    if fraction is None:
        fraction = step / total if total > 0 else 0.0
    stage = message.get("stage") or "working"
    counted = f"step {step}/{total}, " if total > 0 else ""
    text = f"{stage}: {counted}ETA {format_duration(message.get('eta_s'))}"
    return int(round(1000 * min(max(float(fraction), 0.0), 1.0))), text


@dataclass
class ResultSummary:
    """The audits of a run (or of a sweep's edits) reduced to three badges."""

    variants: int = 0
    edits: int = 0  # sweeps: edits placed and run (rows with status ok)
    not_placed: int = 0  # sweeps: edits whose scar could not be placed (or synthesized)
    fidelity_passed: int = 0
    fidelity_known: int = 0
    hallucinated_ml: float | None = None  # largest over variants (or edits)
    off_target_voxels: int | None = None  # largest over variants (or edits)

    def note(self, fidelity_passed, volume_ml, voxels_changed) -> None:
        if fidelity_passed is not None:
            self.fidelity_known += 1
            self.fidelity_passed += bool(fidelity_passed)
        if volume_ml is not None:
            self.hallucinated_ml = max(self.hallucinated_ml or 0.0, float(volume_ml))
        if voxels_changed is not None:
            self.off_target_voxels = max(self.off_target_voxels or 0, int(voxels_changed))


def summarize_results(results: RunRecord | dict | None) -> ResultSummary:
    """Read the run's record (``results.json``): the audits of each prediction of each variant, or for a
    sweep the audits of each edit's row."""
    summary = ResultSummary()
    run = RunRecord.coerce(results)
    if run is None:
        return summary
    summary.variants = len(run.variants)
    for variant in run.variants:
        for prediction in variant.predictions:
            if prediction.audits is not None:
                summary.note(prediction.audits.fidelity_passed, prediction.audits.hallucinated_ml,
                             prediction.audits.off_target_voxels)
    for row in run.sweep.rows if run.sweep else []:
        if not row.ok:
            summary.not_placed += 1
            continue
        summary.edits += 1
        if row.audits is not None:
            summary.note(row.audits.fidelity_passed, row.audits.hallucinated_ml, row.audits.off_target_voxels)
    return summary


def summary_text(summary: ResultSummary, results: RunRecord | dict | None) -> str:
    run = RunRecord.coerce(results)
    if run is not None and run.kind == "sweep":
        segments = (run.sweep.parameters if run.sweep else {}).get("segments") or []
        text = (f"Sweep: {summary.edits} edit(s) over AHA segments {', '.join(str(s) for s in segments)} in a new "
                "run folder; the bullseye shows each segment's own Dice (grey: not swept).")
        return text + (f" {summary.not_placed} edit(s) gave no result: not placed or not synthesized (see the "
                       "table's status)." if summary.not_placed else "")
    if summary.variants:
        return f"{summary.variants} variant(s) in a new run folder; inputs unchanged."
    return "Run finished; see the table."


def badges(summary: ResultSummary) -> dict[str, tuple[str, str]]:
    """(text, style key) for the fidelity, hallucination and off-target badges."""
    if summary.fidelity_known:
        ok = summary.fidelity_passed == summary.fidelity_known
        fidelity = (f"Fidelity {summary.fidelity_passed}/{summary.fidelity_known} pass", "pass" if ok else "fail")
    else:
        fidelity = ("Fidelity: n/a", "none")
    if summary.hallucinated_ml is None:
        hallucination = ("Hallucinated: n/a", "none")
    else:
        # Any predicted lesion away from the intended one counts; 0.1 mL is below a few voxels' noise.
        hallucination = (f"Hallucinated {summary.hallucinated_ml:.2f} mL",
                         "pass" if summary.hallucinated_ml < 0.1 else "fail")
    if summary.off_target_voxels is None:
        off_target = ("Off-target: n/a", "none")
    else:
        off_target = (f"Off-target {summary.off_target_voxels} voxels",
                      "pass" if summary.off_target_voxels == 0 else "fail")
    return {"fidelityBadgeLabel": fidelity, "hallucinationBadgeLabel": hallucination,
            "offTargetBadgeLabel": off_target}


class PanelController:
    """Drives the panel around one job at a time, talking to the module's Logic directly.

    ``logic`` is the module's Logic (``start_run(request, on_message, on_finished)`` returns the job, with
    ``poll()``/``cancel()``; ``panel_plot_view_node()`` and ``session`` for the plot); ``build_request(pn,
    kind)`` turns the bound parameter node (:attr:`parameter_node`) into the request for a ``run`` or a
    ``sweep`` (``parameters.request_for``). Optional: ``choices`` (:class:`~.choices.ChoiceBoxes`, its device
    boxes refilled before each run, as PyTorch may have just been installed, and its status line shown
    above Apply); ``ensure_dependencies()`` asks once for what a run lacks and returns the device line for
    the log (``dependencies.ensure_for_run`` in Slicer); ``guard(text)`` is a context manager that reports
    errors (``slicer.util.tryWithErrorDisplay``); ``timer`` has ``start()``/``stop()`` and calls
    :meth:`poll` on timeout; ``show_volume(node)`` puts a synthetic volume in the slice views
    (``views.show_in_slice_views``)."""

    def __init__(self, ui, logic, build_request: Callable, choices=None,
                 ensure_dependencies: Callable[[], str] | None = None, guard: Callable | None = None, timer=None,
                 show_volume: Callable | None = None, clock: Callable[[], float] = time.monotonic):
        self.ui, self.logic, self.build_request, self.choices = ui, logic, build_request, choices
        self.ensure_dependencies, self.timer, self.show_volume, self.clock = ensure_dependencies, timer, show_volume, clock
        self.guard = guard or (lambda text: contextlib.nullcontext())
        self.state, self.job, self.outcome, self.error = IDLE, None, None, None
        self.last_run = None  # the last outcome with synthetic volumes (Results layout, Compare)
        self.parameter_node = None  # bound by the widget (None while no scene is open)
        self.results_bullseye = None  # set by the widget once the bullseye is in place
        self.inputs = PanelInputs()
        self.started_at, self.kind = 0.0, "run"
        ui.applyButton.clicked.connect(self.on_apply_clicked)
        ui.sweepScarButton.clicked.connect(lambda *unused: self.start("sweep"))
        ui.progressBar.minimum, ui.progressBar.maximum = 0, 1000
        ui.progressBar.visible = False

    @property
    def busy(self) -> bool:
        return self.state != IDLE

    # ----------------------------------------------------------------- enabling rules
    def refresh(self, inputs: PanelInputs | None = None) -> None:
        if inputs is not None:
            self.inputs = inputs
        ui, blockers = self.ui, action_blockers(self.inputs)
        ui.tumorGroupBox.visible = self.inputs.task == BRAIN_TUMOR
        ui.scarGroupBox.visible = self.inputs.task == CARDIAC_SCAR
        ui.guidanceWeightSliderWidget.enabled = self.inputs.guidance
        for button, action, ready_tip in (
            (ui.previewTumorButton, "tumor", "Show the tumour as an overlay without adding it to the scene"),
            (ui.placeTumorButton, "tumor", "Add the tumour as a new segmentation and select it as the lesion"),
            (ui.previewScarButton, "scar", "Show the scar as an overlay without adding it to the scene"),
            (ui.placeScarButton, "scar", "Add the scar as a new segmentation and select it as the lesion"),
            (ui.sweepScarButton, "sweep", "Run one scar edit per selected AHA segment (at this transmurality) "
                                          "through synthesis and segmentation, and colour the Results bullseye "
                                          "by each segment's Dice"),
        ):
            button.enabled = not self.busy and not blockers[action]
            button.toolTip = "\n".join(blockers[action]) or ready_tip
        for name in SETTINGS_WIDGETS:
            getattr(ui, name).enabled = not self.busy
        self._refresh_apply(blockers["apply"])

    def _refresh_apply(self, blockers: list[str]) -> None:
        button = self.ui.applyButton
        if self.state == RUNNING:
            button.text, button.enabled = CANCEL_TEXT, True
            button.toolTip = "Stop the run: the worker and its child processes end, the scene stays as it was"
        elif self.state == CANCELLING:
            button.text, button.enabled = CANCELLING_TEXT, False
            button.toolTip = "Waiting for the worker to stop"
        else:
            button.text, button.enabled = APPLY_TEXT, not blockers
            button.toolTip = "\n".join(blockers) or ("Synthesize the variants, segment them and evaluate; the "
                                                     "results go into a new run folder")

    # ----------------------------------------------------------------- job life cycle
    def on_apply_clicked(self, *unused) -> None:
        if self.state == RUNNING:
            self.cancel()
        elif self.state == IDLE:
            self.start()

    def start(self, kind: str = "run") -> None:
        """Start a job: ``run`` (Apply) or ``sweep`` (the scar sweep); either way Apply turns into Cancel."""
        if self.busy:
            return
        with self.guard("Could not start the run."):
            self.outcome, self.error = None, None
            self.ui.logTextEdit.clear()
            self.job = self._start_job(kind)
            self.state, self.started_at, self.kind = RUNNING, self.clock(), kind
            self.ui.progressBar.value, self.ui.progressBar.format = 0, "starting"
            self.ui.progressBar.visible = True
            self.ui.synthesisCollapsibleButton.collapsed = False  # where progress and Cancel are
            self.log("Sweep started." if kind == "sweep" else "Run started.")
            if self.timer is not None:
                self.timer.start()
        self.refresh()

    def _start_job(self, kind: str):
        if self.parameter_node is None:
            raise ValueError("No scene is open: load or create one, then choose the inputs.")
        if self.ensure_dependencies is not None:  # one question for what a fresh Slicer lacks, then the run
            self.log(self.ensure_dependencies())
        if self.choices is not None:
            self.choices.fill_devices(self.parameter_node)  # PyTorch may have just been installed: list its GPU
            self.show_environment()
        request = self.build_request(self.parameter_node, kind)
        return self.logic.start_run(request, self.on_message, self.on_finished)

    def show_environment(self) -> None:
        """Above Apply: what the first Apply will install, or the device runs use and why (e.g. a GPU this
        PyTorch build cannot run, with the CPU fallback)."""
        status = self.choices.device_status if self.choices is not None else ""
        label = self.ui.environmentStatusLabel
        label.text, label.visible = status, bool(status)

    def cancel(self, wait: bool = False) -> None:
        """Stop the job. By default this returns at once and the timer's polls finish it (the worker's
        tree is killed, nothing is imported); ``wait=True`` blocks until that is done (Slicer closing)."""
        if self.state != RUNNING:
            return
        with self.guard("Could not cancel the run."):
            self.state = CANCELLING
            self.log("Cancelling...")
            self.refresh()
            self.job.cancel(wait=wait)

    def poll(self) -> None:
        """Called by the timer on the main thread: the job forwards worker messages and the end."""
        if self.job is None:
            if self.timer is not None:
                self.timer.stop()
            return
        with self.guard("The run failed while reading its progress."):
            try:
                self.job.poll()
            except Exception:
                self.on_finished(None, "the worker could not be read; see the log")
                raise

    def on_message(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "progress":
            value, text = progress_display(message)
            self.ui.progressBar.value, self.ui.progressBar.format = value, text
            if message.get("message"):
                self.log(message["message"])
        elif kind in ("log", "error", "cancelled"):
            level = message.get("level", kind)
            prefix = "" if level in ("info", "output", None) else f"{str(level).upper()}: "
            self.log(prefix + str(message.get("message", "")))

    def on_finished(self, outcome, error: str | None) -> None:
        if self.job is None:
            return  # already finished (a failing poll reports once)
        elapsed = format_duration(self.clock() - self.started_at)
        was_cancelled = self.state == CANCELLING
        self.job, self.state, self.outcome, self.error = None, IDLE, outcome, error
        if self.timer is not None:
            self.timer.stop()
        self.ui.progressBar.visible = False
        if outcome is not None:
            self.log(f"Finished in {elapsed}.")
            self.show_results(outcome)
        elif was_cancelled:
            self.log("Cancelled; the scene is unchanged.")
        else:
            self.log(f"Failed: {error}. The scene is unchanged.")
        self.refresh()

    # ----------------------------------------------------------------- results
    def show_results(self, outcome) -> None:
        ui = self.ui
        if getattr(outcome, "table_node", None) is not None:
            ui.resultsTableView.setMRMLTableNode(outcome.table_node)
        results = getattr(outcome, "results", None)
        summary = summarize_results(results)
        for name, (text, style) in badges(summary).items():
            label = getattr(ui, name)
            label.text, label.styleSheet = text, BADGE_STYLE[style]
        ui.resultsSummaryLabel.text = summary_text(summary, results)
        if self.results_bullseye is not None:
            # Only a sweep has a Dice per AHA segment; a single scar run has one Dice for the whole scar.
            segment_dice = getattr(outcome, "segment_dice", None) or {}
            self.results_bullseye.visible = bool(segment_dice)
            self.results_bullseye.setValues(segment_dice)
            self.results_bullseye.toolTip = "Dice per AHA segment of the last sweep (grey: not swept)"
        ui.resultsCollapsibleButton.collapsed = False
        self._show_in_views(outcome)

    def _show_in_views(self, outcome) -> None:
        """The first synthetic volume in the slice views and the run's plot in the panel's plot view."""
        volumes = getattr(outcome, "synthetic_volume_nodes", None)
        if volumes:
            self.last_run = outcome
            if self.show_volume is not None:
                self.show_volume(volumes[0][0])
        plot = getattr(outcome, "plot_node", None)
        if plot is not None:
            view = self.logic.panel_plot_view_node()
            view.SetPlotChartNodeID(plot.GetID())
            self.ui.resultsPlotView.setMRMLScene(self.logic.session.scene)
            self.ui.resultsPlotView.setMRMLPlotViewNode(view)

    def forget_results(self) -> None:
        """The scene is closing: its run can no longer be shown or compared."""
        self.last_run = None
        if self.results_bullseye is not None:
            self.results_bullseye.visible = False

    def log(self, text: str) -> None:
        self.ui.logTextEdit.appendPlainText(text)
