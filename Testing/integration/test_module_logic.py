"""The module logic on a real slicer-core scene, with the real worker process: inputs stay untouched, new
nodes carry provenance in one subject-hierarchy folder, table and plot are filled, the saved scene bundle
reopens with everything, and a failed, cancelled or half-imported run leaves the scene as it was."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

scene = pytest.importorskip("synthtrust.scene", reason="slicer-core is not installed")

from conftest import REPOSITORY, shared_file  # noqa: E402
from synthtrust.errors import InputError  # noqa: E402
from synthtrust.imaging.image import Geometry, Image  # noqa: E402
from synthtrust.imaging.io import load_image, save_image  # noqa: E402
from synthtrust.labels.schema import brats_schema  # noqa: E402
from synthtrust.results.table import DICE, SEGMENT, column  # noqa: E402
from synthtrust.settings import RunSettings  # noqa: E402
from synthtrust.worker.protocol import encode, progress  # noqa: E402

sys.path.insert(0, str(REPOSITORY / "SynthTrustSlicer"))
from SynthTrustSlicerLib.logic import RunRequest, SynthTrustSlicerLogic, pick_default_generator  # noqa: E402
from SynthTrustSlicerLib.process import WorkerProcess  # noqa: E402

TCGA = ("brainles_tcga", "TCGA-FG-6692")


@pytest.fixture
def session():
    return scene.SceneSession.create()


@pytest.fixture
def logic(session, tmp_path):
    return SynthTrustSlicerLogic(session, temporary_root=str(tmp_path))


@pytest.fixture
def brain(session):
    """A 48^3 ellipsoid 'brain' at 2 mm as a volume node."""
    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[:48, :48, :48]
    inside = ((x - 24) ** 2 / 400 + (y - 24) ** 2 / 400 + (z - 24) ** 2 / 324) < 1
    image = Image.from_array(np.where(inside, 100 + 5 * rng.standard_normal(inside.shape), 0).astype(np.float32),
                             (2.0, 2.0, 2.0), name="T1")
    return scene.add_volume(session, image, "T1")


def make_request(volumes, modalities, lesion=None, anatomy=None, reference=None, **settings) -> RunRequest:
    """A request as the panel builds one: the run's settings (a brain-tumour run unless told) and its nodes."""
    settings = {"kind": "run", "task": "brain-tumor", "channels": [], "modalities": modalities, **settings}
    return RunRequest(RunSettings(**settings), volumes, lesion, anatomy, reference)


# The brain's voxel (26, 22, 24) in RAS (LPS origin 0, spacing 2 mm: x and y negated).
TUMOUR_CENTER_RAS = (-52.0, -44.0, 48.0)


def node_ids(session) -> list[str]:
    return sorted(node.GetID() for node in session.nodes_by_class("vtkMRMLNode"))


def folder_children(session, folder) -> list[str]:
    import vtk

    ids = vtk.vtkIdList()
    session.subject_hierarchy().GetItemChildren(folder, ids)
    return sorted(session.subject_hierarchy().GetItemName(ids.GetId(i)) for i in range(ids.GetNumberOfIds()))


def test_the_panel_choices_come_from_the_core_and_the_manifest(logic):
    assert ("template", logic.engines()[0][1]) in logic.engines()
    models = {m["id"]: m for m in logic.segmenter_models("brain-tumor")}
    assert models["brain-tumor-t1-unet"]["channels"] == ["t1"] and Path(models["brain-tumor-t1-unet"]["path"]).is_file()
    assert all(m["channels"] == ["lge"] for m in logic.segmenter_models("cardiac-scar"))
    assert isinstance(logic.generator_models("brain-tumor"), list)
    with pytest.raises(InputError, match="task 'liver' is unknown"):
        logic.segmenter_models("liver")


def test_a_placed_tumour_is_a_new_segmentation_recording_its_edit_and_a_preview_adds_nothing(session, logic, brain):
    before = node_ids(session)
    preview = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14, "edema_mm": 4}, seed=2,
                                             preview=True)
    assert node_ids(session) == before
    assert set(np.unique(preview.array)) == {0, 1, 2, 4} and preview.metadata["edit"]["parameters"]["seed"] == 2
    volumes = logic.label_volumes_ml(preview)  # the preview's log line; 2 mm voxels are 0.008 mL
    assert sorted(volumes) == ["label 1", "label 2", "label 4"]
    assert sum(volumes.values()) == pytest.approx(int((preview.array > 0).sum()) * 0.008)
    node = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14, "edema_mm": 4}, seed=2)
    attributes = scene.get_attributes(node)
    assert attributes["edit"]["kind"] == "tumor" and attributes["seed"] == 2
    assert attributes["mask_sha256"] == preview.metadata["edit"]["mask_sha256"]
    back = scene.labels_from_segmentation(session, node, brats_schema(), brain)
    assert np.array_equal(back.array, preview.array)
    with pytest.raises(InputError, match="outside the image"):
        logic.place_tumor_segmentation(brain, (500.0, 0.0, 0.0), {"size_mm": 14}, seed=2)


def test_a_run_adds_synthetic_volumes_predictions_table_and_plot_in_one_folder_and_the_bundle_keeps_them(
        session, logic, brain, tmp_path):
    lesion = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14, "edema_mm": 4}, seed=2)
    voxels = scene.image_from_volume(brain).array.copy()
    lesion_labels = scene.labels_from_segmentation(session, lesion, brats_schema(), brain).array.copy()
    before = set(node_ids(session))
    messages = []
    outcome = logic.run(make_request([brain], ["t1"], lesion, variants=2, seed=7), on_message=messages.append,
                        timeout=120)
    # Inputs untouched, every new node in the run's folder.
    assert np.array_equal(scene.image_from_volume(brain).array, voxels)
    assert np.array_equal(scene.labels_from_segmentation(session, lesion, brats_schema(), brain).array, lesion_labels)
    assert before < set(node_ids(session))
    assert [m["stage"] for m in messages if m["type"] == "progress"][:2] == ["synthesize", "segment"]
    assert len(outcome.synthetic_volume_nodes) == 2 and len(outcome.prediction_segmentation_nodes) == 2
    synthetic = outcome.synthetic_volume_nodes[1][0]
    attributes = scene.get_attributes(synthetic)
    assert attributes["engine"] == "template" and attributes["seed"] == 8 and attributes["variant"] == 2
    assert attributes["mask_sha256"] == scene.get_attributes(lesion)["mask_sha256"]
    assert attributes["edit"]["kind"] == "tumor" and attributes["software_version"]
    assert {"model_id", "model_sha256", "steps", "synthesis"} <= set(attributes)
    prediction = scene.get_attributes(outcome.prediction_segmentation_nodes[0])
    assert prediction["segmenter_id"] == "brain-tumor-t1-unet" and len(prediction["segmenter_sha256"]) == 64
    assert "conditioning_fidelity" in prediction["audits"]
    children = folder_children(session, outcome.folder_item_id)
    assert synthetic.GetName() in children and outcome.table_node.GetName() in children
    assert outcome.plot_node.GetName() in children
    # The results table: per variant and region, metrics, audits and T1-T5 with their formulas.
    rows = scene.table_rows(outcome.table_node)
    assert len(rows) == 2 * len(brats_schema().regions)
    assert {"Dice", "HD95 (mm)", "Surface Dice", "Fidelity", "Hallucinated (mL)", "Off-target voxels", "T1", "T5"} \
        <= set(rows[0])
    assert all(row["Off-target voxels"] == 0.0 and 0.0 <= row["Dice"] <= 1.0 for row in rows)
    assert "std over cases" in outcome.table_node.GetColumnDescription("T5")
    assert outcome.plot_node.GetNumberOfPlotSeriesNodes() == len(brats_schema().regions)
    # Saved and reopened: the same nodes, attributes and table.
    path = scene.save_bundle(session, tmp_path / "run.mrb")
    reopened = scene.open_bundle(path)
    again = reopened.node_by_name(synthetic.GetName(), "vtkMRMLScalarVolumeNode")
    assert scene.get_attributes(again) == attributes
    assert np.array_equal(scene.image_from_volume(again).array, scene.image_from_volume(synthetic).array)
    # Tables are stored as CSV: six significant digits come back.
    saved_rows = scene.table_rows(reopened.node_by_name(outcome.table_node.GetName(), "vtkMRMLTableNode"))
    assert len(saved_rows) == len(rows)
    for saved, row in zip(saved_rows, rows, strict=True):
        assert saved.keys() == row.keys()
        for key, value in row.items():
            assert saved[key] == (value if isinstance(value, str) else pytest.approx(value, rel=1e-5, nan_ok=True))
    reopened.node_by_name(outcome.prediction_segmentation_nodes[1].GetName(), "vtkMRMLSegmentationNode")
    reopened.node_by_name(outcome.plot_node.GetName(), "vtkMRMLPlotChartNode")
    assert not list(tmp_path.glob("synthtrust-job-*")), "the job folder is removed after the import"


def test_a_failed_run_raises_the_workers_message_and_leaves_the_scene_unchanged(session, logic, brain, tmp_path):
    lesion = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14}, seed=1)
    before = node_ids(session)
    with pytest.raises(InputError, match="no-such-model"):
        logic.run(make_request([brain], ["t1"], lesion, variants=1, segmenters=["no-such-model"]), timeout=120)
    assert node_ids(session) == before
    assert not list(tmp_path.glob("synthtrust-job-*"))
    with pytest.raises(InputError, match="run job needs the intended lesion"):
        logic.run(make_request([brain], ["t1"], None))
    assert node_ids(session) == before and not list(tmp_path.glob("synthtrust-job-*"))


class SleepingWorker(WorkerProcess):
    """Reports one progress line, then works 'forever' (until cancelled)."""

    def command(self) -> list[str]:
        line = encode(progress("synthesize", 1, 50, 0.1, "step 1/50"))
        return [self.python_executable, "-c", f"import time; print({line!r}, flush=True); time.sleep(120)"]


# A worker that ignores SIGTERM (as a process stuck in native code does) and has started a child.
STUBBORN_WORKER = """
import json, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(json.dumps({"type": "log", "level": "info", "message": f"child {child.pid}"}), flush=True)
time.sleep(120)
"""


class StubbornWorker(WorkerProcess):
    def command(self) -> list[str]:
        return [self.python_executable, "-c", STUBBORN_WORKER]


def is_running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        # A killed orphan may stay a zombie until PID 1 reaps it: it is not running.
        return "\nState:\tZ" not in status.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False


def start_job(session, brain, tmp_path, worker_class):
    logic = SynthTrustSlicerLogic(session, launcher=lambda folder: worker_class(folder).start(),
                                  temporary_root=str(tmp_path))
    lesion = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14}, seed=1)
    messages, finished = [], []
    job = logic.start_run(make_request([brain], ["t1"], lesion), messages.append,
                          lambda outcome, error: finished.append((outcome, error)))
    deadline = time.monotonic() + 30
    while not messages:
        assert job.poll() and time.monotonic() < deadline
        time.sleep(0.02)
    return logic, job, messages, finished


def test_a_cancelled_run_reports_it_and_leaves_the_scene_unchanged(session, brain, tmp_path):
    logic, job, messages, finished = start_job(session, brain, tmp_path, SleepingWorker)
    before = node_ids(session)
    assert messages[0]["stage"] == "synthesize"
    job.cancel(wait=True)  # scripts and tests: returns when everything is gone
    assert finished == [(None, "cancelled; the scene was not changed")] and not job.poll()
    assert node_ids(session) == before and not list(tmp_path.glob("synthtrust-job-*"))


@pytest.mark.skipif(sys.platform == "win32", reason="reads /proc; Windows kills the tree with taskkill /T /F")
def test_cancel_returns_at_once_and_the_polls_end_the_process_tree_and_remove_the_job_folder(session, brain,
                                                                                             tmp_path):
    logic, job, messages, finished = start_job(session, brain, tmp_path, StubbornWorker)
    before = node_ids(session)
    child = int(messages[0]["message"].split()[-1])
    worker = job.worker.process.pid
    assert is_running(worker) and is_running(child)
    started = time.monotonic()
    job.cancel()  # the panel's cancel: must not block the GUI thread while the worker ignores SIGTERM
    assert time.monotonic() - started < 0.5
    assert finished == [] and list(tmp_path.glob("synthtrust-job-*")), "the bookkeeping is left to poll()"
    deadline = time.monotonic() + 15
    while job.poll():  # what the panel's 200 ms timer does
        assert time.monotonic() < deadline, "the worker tree outlived the grace time"
        time.sleep(0.05)
    assert finished == [(None, "cancelled; the scene was not changed")]
    assert not is_running(worker) and not is_running(child)
    assert node_ids(session) == before and not list(tmp_path.glob("synthtrust-job-*"))


class FinishedWorker:
    """A worker that already 'succeeded' with the given outputs folder (no process)."""

    def __init__(self, outputs: Path):
        self.result, self.error, self.finished, self.succeeded = {"outputs": str(outputs)}, None, True, True
        self.cleaned = False

    def poll(self):
        return [{"type": "result", "outputs": self.result["outputs"]}]

    def cancel(self, wait=False):
        self.cancelled = True

    def cleanup(self):
        self.cleaned = True


def test_an_import_that_fails_halfway_removes_every_node_it_added(session, brain, tmp_path):
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    save_image(scene.image_from_volume(brain), outputs / "good.nrrd")
    variant = {"seed": 0, "synthesis": {"engine": "template"}, "predictions": []}
    results = {"kind": "synthesize", "task": "brain-tumor", "schema": "brats", "engine": "template",
               "modalities": ["t1"], "seed": 0, "segmenters": [], "trust": [], "edit": None,
               "variants": [{**variant, "index": 0, "channels": ["good.nrrd"]},
                            {**variant, "index": 1, "channels": ["missing.nrrd"]}]}
    (outputs / "results.json").write_text(json.dumps(results), encoding="utf-8")
    worker = FinishedWorker(outputs)
    logic = SynthTrustSlicerLogic(session, launcher=lambda folder: worker, temporary_root=str(tmp_path))
    lesion = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14}, seed=1)
    before = node_ids(session)
    hierarchy_items = session.subject_hierarchy().GetNumberOfItems()
    with pytest.raises(RuntimeError, match="missing.nrrd"):
        logic.run(make_request([brain], ["t1"], lesion, kind="synthesize"))
    assert node_ids(session) == before and worker.cleaned
    assert session.subject_hierarchy().GetNumberOfItems() == hierarchy_items


def test_a_run_cancelled_after_its_worker_finished_imports_nothing(session, brain, tmp_path):
    # What closing the scene during a run does: the results that arrive afterwards are not imported.
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    (outputs / "results.json").write_text("{}", encoding="utf-8")  # never read: a cancelled job does not import
    worker = FinishedWorker(outputs)
    logic = SynthTrustSlicerLogic(session, launcher=lambda folder: worker, temporary_root=str(tmp_path))
    lesion = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14}, seed=1)
    before = node_ids(session)
    finished = []
    job = logic.start_run(make_request([brain], ["t1"], lesion), None, lambda *end: finished.append(end))
    job.cancel()
    assert not job.poll() and worker.cancelled and worker.cleaned
    assert finished == [(None, "cancelled; the scene was not changed")] and node_ids(session) == before
    assert logic.run_count == 0


def crop(image: Image, start_zyx, size: int) -> Image:
    box = tuple(slice(s, s + size) for s in start_zyx)
    origin = image.geometry.index_to_physical(start_zyx[::-1])
    geometry = Geometry((size,) * 3, image.geometry.spacing, tuple(origin), image.geometry.direction)
    return Image(image.array[box].copy(), geometry, image.name)


def test_a_run_on_a_real_tcga_brain_with_its_reference_fills_t3_and_t4(session, logic, tmp_path):
    t1 = load_image(shared_file(*TCGA, "sri24_skullstripped", "TCGA-FG-6692_t1.nii.gz"), "T1")
    reference = load_image(shared_file(*TCGA, "algorithm_segmentations", "fusion_simple.nii.gz"))
    # The 96 mm cube around the tumour keeps the test fast; the voxels are the real ones.
    t1, reference = crop(t1, (40, 40, 40), 96), crop(reference, (40, 40, 40), 96)
    volume = scene.add_volume(session, t1, "TCGA-FG-6692 T1")
    reference_node = scene.add_segmentation(session, reference, brats_schema(), "fusion reference",
                                            reference_volume=volume)
    center = np.argwhere(reference.array > 0).mean(axis=0)[::-1]
    center_ras = np.diag([-1, -1, 1]) @ t1.geometry.index_to_physical(center)
    lesion = logic.place_tumor_segmentation(volume, center_ras, {"size_mm": 30, "edema_mm": 8}, seed=0)
    voxels = t1.array.copy()
    outcome = logic.run(make_request([volume], ["t1"], lesion, reference=reference_node,
                                   variants=1, seed=3), timeout=180)
    assert np.array_equal(scene.image_from_volume(volume).array, voxels)
    names = [node.GetName() for node in outcome.prediction_segmentation_nodes]
    assert names == ["Prediction v1 (brain-tumor-t1-unet)", "Prediction TCGA-FG-6692 T1 (brain-tumor-t1-unet)"]
    rows = scene.table_rows(outcome.table_node)
    assert [row["case"] for row in rows] == ["v1"] * 5 + ["real"] * 5
    real_whole_tumour = next(r for r in rows if r["case"] == "real" and r["region"] == "WT")
    assert real_whole_tumour["Dice"] > 0.3, "the T1 model finds the real tumour"
    assert all(np.isfinite(row["T3"]) and np.isfinite(row["T4"]) for row in rows)
    assert outcome.results.trust[0].report.undefined == []


def test_a_scar_placed_in_aha_segments_is_synthesized_and_segmented_on_a_cardiac_phantom(session, logic):
    from synthtrust.editing.edit import mask_checksum
    from synthtrust.labels.schema import EMIDEC
    from synthtrust.phantoms.cardiac import make_lge_phantom

    image, anatomy = make_lge_phantom(seed=1, shape=(8, 96, 96))
    volume = scene.add_volume(session, image, "LGE")
    anatomy_node = scene.add_segmentation(session, anatomy, EMIDEC, "anatomy", reference_volume=volume)
    before = node_ids(session)
    preview = logic.place_scar_segmentation(volume, anatomy_node, [7, 8], 0.6, extent=0.8, mvo=0.3, seed=4,
                                            preview=True)
    assert node_ids(session) == before and set(np.unique(preview.array)) >= {1, 2, 3}
    scar = logic.place_scar_segmentation(volume, anatomy_node, [7, 8], 0.6, extent=0.8, mvo=0.3, seed=4)
    assert scene.get_attributes(scar)["edit"]["parameters"]["segments"] == [7, 8]
    # A scar drawn on its own is placed into the anatomy by the worker: the same map as the placed one.
    scar_only = scene.add_segmentation(session, preview.with_array(np.where(preview.array >= 3, preview.array, 0)),
                                       EMIDEC, "scar only", reference_volume=volume)
    outcome = logic.run(make_request([volume], ["lge"], scar_only, anatomy_node, task="cardiac-scar",
                                   kind="synthesize", variants=1), timeout=60)
    assert outcome.results.edit["mask_sha256"] == mask_checksum(preview.array)
    assert outcome.table_node is None and len(outcome.synthetic_volume_nodes) == 1
    segmented = logic.run(make_request([volume], ["lge"], reference=scar, task="cardiac-scar",
                                     kind="segment"), timeout=120)
    rows = scene.table_rows(segmented.table_node)
    assert [row["region"] for row in rows] == [region.name for region in EMIDEC.regions]
    assert {row["case"] for row in rows} == {"real"} and segmented.plot_node is None
    assert segmented.prediction_segmentation_nodes[0].GetName() == "Prediction LGE (cardiac-scar-lge-unet)"


def test_the_default_generator_is_the_shipped_one_for_the_task_channels_and_engine(logic):
    def default(task, modalities, engine):
        return pick_default_generator(logic.generator_models(task), modalities, engine)

    assert default("brain-tumor", ["T1c", "FLAIR"], "inpaint")["id"] == "brain-tumor-flair-t1c-diffusion"
    assert default("cardiac-scar", ["lge"], "conditional")["id"] == "cardiac-scar-lge-diffusion"
    assert default("brain-tumor", ["t1"], "inpaint") is None


def test_a_preview_is_hidden_never_saved_with_the_scene_and_removed_with_its_display_nodes(session, logic, brain,
                                                                                           tmp_path):
    before = node_ids(session)
    labels = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14}, seed=2, preview=True)
    first = logic.show_preview(labels)
    node = logic.show_preview(labels)  # a new preview replaces the last one
    assert first.GetScene() is None and node.GetHideFromEditors() and not node.GetSaveWithScene()
    assert node.GetDisplayNode().GetHideFromEditors() and not node.GetDisplayNode().GetSaveWithScene()
    assert sorted(set(node_ids(session)) - set(before)) == sorted([node.GetID(), node.GetDisplayNodeID()])
    logic.remove_previews()
    assert node_ids(session) == before
    logic.show_preview(labels)
    reopened = scene.open_bundle(scene.save_bundle(session, tmp_path / "scene.mrb"))
    assert reopened.nodes_by_class("vtkMRMLLabelMapVolumeNode") == []
    assert reopened.nodes_by_class("vtkMRMLLabelMapVolumeDisplayNode") == []


def test_only_runs_that_reach_the_scene_are_numbered(session, brain, tmp_path, monkeypatch):
    logic = SynthTrustSlicerLogic(session, temporary_root=str(tmp_path))
    lesion = logic.place_tumor_segmentation(brain, TUMOUR_CENTER_RAS, {"size_mm": 14}, seed=1)
    request = make_request([brain], ["t1"], lesion, kind="synthesize", variants=1)
    first = logic.run(request, timeout=60)
    assert session.subject_hierarchy().GetItemName(first.folder_item_id).startswith("SynthTrust synthesize 1 ")

    def broken_import(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr("synthtrust.scene.run_import.add_volume", broken_import)  # the import fails: rolled back
    with pytest.raises(RuntimeError, match="disk full"):
        logic.run(request, timeout=60)
    assert logic.run_count == 1
    monkeypatch.undo()
    third = logic.run(request, timeout=60)
    assert session.subject_hierarchy().GetItemName(third.folder_item_id).startswith("SynthTrust synthesize 2 ")


def test_a_scar_sweep_imports_its_table_and_a_dice_per_aha_segment_plot_and_a_failed_one_leaves_the_scene(
        session, logic, tmp_path):
    from synthtrust.labels.schema import EMIDEC
    from synthtrust.phantoms.cardiac import make_lge_phantom

    image, anatomy = make_lge_phantom(seed=1, shape=(8, 96, 96))
    volume = scene.add_volume(session, image, "LGE")
    anatomy_node = scene.add_segmentation(session, anatomy, EMIDEC, "anatomy", reference_volume=volume)
    voxels = image.array.copy()
    before = node_ids(session)
    request = make_request([volume], ["lge"], anatomy=anatomy_node, task="cardiac-scar",
                         kind="sweep", variants=1, device="cpu", segmentation_device="cpu",
                         sweep={"segments": [7, 10], "transmurality": [0.6], "seed": 4})
    messages = []
    outcome = logic.run(request, on_message=messages.append, timeout=180)
    assert [m["step"] for m in messages if m["type"] == "progress"] == [0, 1, 2]
    assert np.array_equal(scene.image_from_volume(volume).array, voxels)
    rows = scene.table_rows(outcome.table_node)
    assert [(row[SEGMENT.header], row[column("status").header]) for row in rows] == [(7.0, "ok"), (10.0, "ok")]
    chart = outcome.plot_node
    assert chart.IsA("vtkMRMLPlotChartNode") and chart.GetTitle() == "Dice per AHA segment"
    assert chart.GetNumberOfPlotSeriesNodes() == 1
    series = chart.GetNthPlotSeriesNode(0)
    per_segment = scene.table_rows(series.GetTableNode())
    assert [row[SEGMENT.header] for row in per_segment] == [7.0, 10.0]
    assert series.GetXColumnName() == SEGMENT.header and series.GetYColumnName() == DICE.header
    scar_dice = f"scar {DICE.header}"
    assert outcome.segment_dice == {7: pytest.approx(rows[0][scar_dice]), 10: pytest.approx(rows[1][scar_dice])}
    children = folder_children(session, outcome.folder_item_id)
    assert {outcome.table_node.GetName(), chart.GetName(), series.GetTableNode().GetName()} <= set(children)
    assert scene.get_attributes(outcome.table_node)["sweep"]["segments"] == [7, 10]
    # A sweep that fails (a segmenter that does not exist) adds nothing.
    after = node_ids(session)
    with pytest.raises(InputError, match="no-such-model"):
        logic.run(replace(request, settings=replace(request.settings, segmenters=["no-such-model"])), timeout=120)
    assert node_ids(session) == after and set(before) < set(after)
    assert not list(tmp_path.glob("synthtrust-job-*"))
