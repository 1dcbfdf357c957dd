"""The scene side of a run on a real slicer-core scene, without a worker: exporting a run's inputs leaves the
scene as it was, the run importer turns a typed run record into nodes with provenance in one folder, and a
failed import or block leaves every node and subject-hierarchy item as before."""

from __future__ import annotations

import numpy as np
import pytest

scene = pytest.importorskip("synthtrust.scene", reason="slicer-core is not installed")

from synthtrust.errors import InputError  # noqa: E402
from synthtrust.imaging.image import Image  # noqa: E402
from synthtrust.imaging.io import load_image, save_image  # noqa: E402
from synthtrust.labels.schema import LabelSchema, brats_schema  # noqa: E402
from synthtrust.metrics import evaluate_labels  # noqa: E402
from synthtrust.results.records import (  # noqa: E402
    Audits,
    EvaluationRecord,
    Prediction,
    RunRecord,
    SegmenterInfo,
    Variant,
)
from synthtrust.results.table import RESULTS_TABLE  # noqa: E402


@pytest.fixture
def session():
    return scene.SceneSession.create()


@pytest.fixture
def brain(rng):
    image = Image.from_array((rng.random((10, 12, 14)) * 100).astype(np.float32), (1.0, 1.0, 2.0), name="T1")
    tumour = np.zeros(image.array.shape, np.uint8)
    tumour[3:7, 4:8, 5:9] = 2
    tumour[4:6, 5:7, 6:8] = 4
    return image, image.with_array(tumour, name="tumour")


def state(session) -> tuple[list[str], int]:
    """Every node id and the number of subject-hierarchy items: what "the scene as it was" compares."""
    ids = sorted(node.GetID() for node in session.nodes_by_class("vtkMRMLNode"))
    return ids, session.subject_hierarchy().GetNumberOfItems()


def test_exporting_a_runs_inputs_writes_the_workers_files_and_leaves_the_scene_as_it_was(session, brain, tmp_path):
    image, tumour = brain
    volume = scene.add_volume(session, image, "T1")
    lesion = scene.add_segmentation(session, tumour, brats_schema(), "drawn tumour", reference_volume=volume)
    mask = image.with_array((image.array > 30).astype(np.uint8))
    any_name = LabelSchema("any", {7: "brain"}, (), {})
    anatomy = scene.add_segmentation(session, mask.with_array(mask.array * 7), any_name, "brain", reference_volume=volume)
    before = state(session)
    exported = scene.export_run_inputs(session, tmp_path, [volume], brats_schema(), lesion=lesion, anatomy=anatomy)
    assert state(session) == before, "the temporary label maps and their display/colour nodes are removed"
    assert exported.channels == ["channel_0.nrrd"] and exported.files == {"lesion": "lesion.nrrd",
                                                                          "anatomy": "anatomy.nrrd"}
    assert exported.edit == {"kind": "drawn", "parameters": {}}, "a drawn lesion has no placement to record"
    assert np.array_equal(load_image(tmp_path / "channel_0.nrrd").array, image.array)
    assert np.array_equal(load_image(tmp_path / "lesion.nrrd").array, tumour.array)
    # A brain anatomy is a mask whatever its segments are called: any segment counts as brain.
    assert np.array_equal(load_image(tmp_path / "anatomy.nrrd").array, mask.array)


def test_a_segment_that_is_not_a_label_of_the_schema_is_refused_naming_the_labels(session, brain, tmp_path):
    image, tumour = brain
    volume = scene.add_volume(session, image, "T1")
    blob = scene.add_segmentation(session, tumour.with_array((tumour.array > 0).astype(np.uint8)),
                                  LabelSchema("other", {1: "blob"}, (), {}), "blob", reference_volume=volume)
    blob.GetSegmentation().GetNthSegment(0).RemoveTag("SynthTrust.LabelValue")  # matched by name, like a drawn one
    before = state(session)
    with pytest.raises(InputError, match=r"segment named 'blob' that is not a brats label; rename each segment"):
        scene.export_run_inputs(session, tmp_path, [volume], brats_schema(), lesion=blob)
    assert state(session) == before


def test_all_or_nothing_removes_what_a_failed_block_added_and_keeps_what_was_there(session, brain):
    image, tumour = brain
    folder = scene.create_run_folder(session, "earlier run")
    earlier = scene.add_volume(session, image, "earlier", parent_folder=folder)
    before = state(session)
    with pytest.raises(RuntimeError, match="disk full"), scene.all_or_nothing(session):
        new_folder = scene.create_run_folder(session, "new run")
        volume = scene.add_volume(session, image, "new", parent_folder=new_folder)
        scene.add_segmentation(session, tumour, brats_schema(), "new lesion", reference_volume=volume,
                               parent_folder=new_folder)
        scene.add_volume(session, image, "also new", parent_folder=folder)  # into a folder that stays
        raise RuntimeError("disk full")
    assert state(session) == before
    hierarchy = session.subject_hierarchy()
    assert hierarchy.GetItemParent(hierarchy.GetItemByDataNode(earlier)) == folder and earlier.GetScene() is not None


def worker_outputs(tmp_path, image: Image, tumour: Image, variants: int) -> RunRecord:
    """What a worker's outputs folder holds for a template run with one segmenter: per variant a channel and
    a prediction file, their metrics and audits against the intended lesion."""
    schema = brats_schema()
    record = RunRecord("run", "brain-tumor", schema.name, "template", ["t1"], seed=5,
                       segmenters=[SegmenterInfo(0, "brain-tumor-t1-unet", "ab" * 32)],
                       edit={"edit": "tumor", "parameters": {"seed": 2}, "mask_sha256": "cd" * 32})
    for k in range(variants):
        predicted = tumour.with_array(np.roll(tumour.array, k, axis=2))
        save_image(image.with_array(image.array + k), tmp_path / f"variant_{k}_0.nrrd")
        save_image(predicted, tmp_path / f"variant_{k}_prediction_0.nrrd")
        metrics = EvaluationRecord.from_evaluation(evaluate_labels(tumour.array, predicted.array, schema,
                                                                   image.spacing_zyx))
        audits = Audits({"dice": 0.9, "threshold": 0.6, "passed": True}, {"volume_ml": 0.0},
                        {"voxels_changed": 0})
        record.variants.append(Variant(k, 5 + k, [f"variant_{k}_0.nrrd"], {"engine": "template", "seed": 5 + k},
                                       [Prediction(0, f"variant_{k}_prediction_0.nrrd", metrics, audits)]))
    return record


def test_the_importer_adds_a_runs_volumes_predictions_table_and_plot_with_provenance_in_one_folder(session, brain,
                                                                                                  tmp_path):
    image, tumour = brain
    record = worker_outputs(tmp_path, image, tumour, variants=2)
    outcome = scene.import_run(session, tmp_path, record, "SynthTrust run 1", ["T1"])
    hierarchy = session.subject_hierarchy()
    assert hierarchy.GetItemName(outcome.folder_item_id) == "SynthTrust run 1" and outcome.results is record
    second = outcome.synthetic_volume_nodes[1][0]
    assert second.GetName() == "T1 synthetic v2 (seed 6)"
    assert np.array_equal(scene.image_from_volume(second).array, image.array + 1)
    attributes = scene.get_attributes(second)
    assert (attributes["variant"], attributes["seed"], attributes["modality"], attributes["mask_sha256"]) == \
        (2, 6, "t1", "cd" * 32)
    assert attributes["model_id"] == "none (template)" and attributes["software_version"]
    prediction = outcome.prediction_segmentation_nodes[0]
    assert prediction.GetName() == "Prediction v1 (brain-tumor-t1-unet)"
    assert scene.get_attributes(prediction)["audits"]["conditioning_fidelity"]["passed"] is True
    assert np.array_equal(scene.labels_from_segmentation(session, prediction, brats_schema(), second).array,
                          tumour.array)
    rows = scene.table_rows(outcome.table_node)
    assert len(rows) == 2 * len(brats_schema().regions) and list(rows[0]) == [c.header for c in RESULTS_TABLE]
    assert outcome.plot_node.GetNumberOfPlotSeriesNodes() == len(brats_schema().regions)
    nodes_in_folder = [node for node in session.nodes_by_class("vtkMRMLNode")
                       if hierarchy.GetItemParent(hierarchy.GetItemByDataNode(node)) == outcome.folder_item_id]
    assert {second, prediction, outcome.table_node, outcome.plot_node} <= set(nodes_in_folder)


def test_an_import_that_fails_half_way_leaves_the_scene_as_it_was(session, brain, tmp_path):
    image, tumour = brain
    record = worker_outputs(tmp_path, image, tumour, variants=2)
    (tmp_path / "variant_1_prediction_0.nrrd").unlink()  # the second variant's prediction is missing
    scene.add_volume(session, image, "T1")
    before = state(session)
    with pytest.raises(Exception, match="variant_1_prediction_0.nrrd"):
        scene.import_run(session, tmp_path, record, "SynthTrust run 1", ["T1"])
    assert state(session) == before


def test_the_parameter_node_is_the_modules_singleton_and_gets_its_module_name_back(session):
    node = scene.module_parameter_node(session, "SynthTrustSlicer")
    assert node.IsA("vtkMRMLScriptedModuleNode") and node.GetAttribute("ModuleName") == "SynthTrustSlicer"
    node.RemoveAttribute("ModuleName")  # what closing a scene does to a singleton that survives it
    again = scene.module_parameter_node(session, "SynthTrustSlicer")
    assert again is node and again.GetAttribute("ModuleName") == "SynthTrustSlicer"
    assert len(session.nodes_by_class("vtkMRMLScriptedModuleNode")) == 1
