"""The MRML adapter on a real slicer-core scene: exact round trips, provenance, bundles."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

scene = pytest.importorskip("synthtrust.scene", reason="slicer-core is not installed")

from conftest import shared_file  # noqa: E402
from synthtrust.imaging.image import Image  # noqa: E402
from synthtrust.imaging.io import load_image  # noqa: E402
from synthtrust.labels.schema import EMIDEC, brats_schema  # noqa: E402

OBLIQUE = (0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0)


@pytest.fixture
def session():
    return scene.SceneSession.create()


@pytest.fixture
def image_and_labels(rng):
    image = Image.from_array((rng.random((6, 7, 8)) * 100).astype(np.float32), (0.8, 0.9, 2.5), (10, -5, 3),
                             OBLIQUE, "MRI")
    labels = np.zeros((6, 7, 8), np.uint8)
    labels[1:4, 2:5, 2:6] = 2
    labels[2, 3, 3:5] = 4
    labels[2, 3, 3] = 1
    return image, image.with_array(labels, name="labels")


def test_a_volume_keeps_voxels_and_oblique_anisotropic_geometry(session, image_and_labels):
    image, _ = image_and_labels
    node = scene.add_volume(session, image, "MRI")
    back = scene.image_from_volume(node)
    assert np.array_equal(back.array, image.array)
    assert back.geometry.matches(image.geometry)
    # MRML is RAS: the node's origin is the LPS origin with x and y negated.
    assert np.allclose(node.GetOrigin(), (-10, 5, 3))


def test_a_segmentation_round_trips_to_the_same_label_map(session, image_and_labels):
    image, labels = image_and_labels
    volume = scene.add_volume(session, image, "MRI")
    node = scene.add_segmentation(session, labels, brats_schema(), "tumour", reference_volume=volume)
    names = [node.GetSegmentation().GetNthSegment(i).GetName()
             for i in range(node.GetSegmentation().GetNumberOfSegments())]
    assert names == ["NCR", "ED", "ET"]
    back = scene.labels_from_segmentation(session, node, brats_schema(), volume)
    assert np.array_equal(back.array, labels.array)


def node_names_by_class(session) -> list[tuple[str, str]]:
    return sorted((node.GetClassName(), node.GetName()) for node in session.nodes_by_class("vtkMRMLNode"))


def test_a_segmentation_import_and_export_leave_no_orphan_display_or_colour_nodes(session, image_and_labels):
    image, labels = image_and_labels
    volume = scene.add_volume(session, image, "MRI")
    before = node_names_by_class(session)
    node = scene.add_segmentation(session, labels, brats_schema(), "tumour", reference_volume=volume)
    added = sorted(set(node_names_by_class(session)) - set(before))
    assert added == [("vtkMRMLSegmentationDisplayNode", node.GetDisplayNode().GetName()),
                     ("vtkMRMLSegmentationNode", "tumour")]
    # Every display node left belongs to a node still in the scene.
    displayed = {node.GetDisplayNode().GetID(), volume.GetDisplayNode().GetID()}
    assert {d.GetID() for d in session.nodes_by_class("vtkMRMLDisplayNode")} == displayed
    after_import = node_names_by_class(session)
    scene.labels_from_segmentation(session, node, brats_schema(), volume)
    assert node_names_by_class(session) == after_import, "exporting left label map or colour nodes behind"


def test_removing_a_node_takes_its_display_nodes_along(session, image_and_labels):
    image, labels = image_and_labels
    before = node_names_by_class(session)
    node = scene.add_volume(session, labels, "preview", label_map=True)
    assert node.GetDisplayNode() is not None
    scene.remove_node(session, node)
    assert node_names_by_class(session) == before


def test_inputs_given_to_the_adapter_are_never_modified(session, image_and_labels):
    image, labels = image_and_labels
    before_image, before_labels = image.array.copy(), labels.array.copy()
    volume = scene.add_volume(session, image, "MRI")
    scene.add_segmentation(session, labels, brats_schema(), "tumour", reference_volume=volume)
    assert np.array_equal(image.array, before_image) and np.array_equal(labels.array, before_labels)


def test_tables_keep_types_values_and_column_descriptions(session):
    rows = [{"region": "WT", "dice": 0.5, "passed": True}, {"region": "TC", "dice": 0.75, "passed": False}]
    node = scene.add_table(session, rows, "metrics", column_descriptions={"dice": "Dice overlap"})
    assert scene.table_rows(node) == [{"region": "WT", "dice": 0.5, "passed": "True"},
                                      {"region": "TC", "dice": 0.75, "passed": "False"}]
    assert node.GetColumnDescription("dice") == "Dice overlap"


def test_a_run_folder_groups_its_nodes_and_carries_provenance(session, image_and_labels):
    image, _ = image_and_labels
    folder = scene.create_run_folder(session, "run 1", {"seed": 7})
    volume = scene.add_volume(session, image, "synthetic", attributes={"engine": {"name": "template"}},
                              parent_folder=folder)
    table = scene.add_table(session, [{"x": 1.0, "dice": 0.5}], "t", parent_folder=folder)
    chart = scene.add_plot(session, table, "x", ["dice"], "Dice", parent_folder=folder)
    hierarchy = session.subject_hierarchy()
    for node in (volume, table, chart):
        assert hierarchy.GetItemParent(hierarchy.GetItemByDataNode(node)) == folder
    assert hierarchy.GetItemAttribute(folder, "SynthTrust.seed") == "7"
    assert scene.get_attributes(volume) == {"engine": {"name": "template"}}
    assert chart.GetNumberOfPlotSeriesNodes() == 1


def test_undefined_numbers_in_node_and_folder_attributes_are_stored_as_json_null(session, image_and_labels):
    image, _ = image_and_labels
    undefined = {"dice": float("nan"), "hd95": np.float32("inf"), "per_region": [np.float64("nan"), 0.5]}
    folder = scene.create_run_folder(session, "run", {"metrics": undefined})
    volume = scene.add_volume(session, image, "synthetic", attributes={"metrics": undefined})
    folder_text = session.subject_hierarchy().GetItemAttribute(folder, "SynthTrust.metrics")
    assert "NaN" not in folder_text and "Infinity" not in folder_text
    expected = {"dice": None, "hd95": None, "per_region": [None, 0.5]}
    assert json.loads(folder_text) == expected
    assert scene.get_attributes(volume) == {"metrics": expected}


def test_a_saved_bundle_reopens_with_everything_voxel_for_voxel(session, image_and_labels, tmp_path):
    image, labels = image_and_labels
    volume = scene.add_volume(session, image, "MRI", attributes={"seed": 3})
    scene.add_segmentation(session, labels, brats_schema(), "tumour", reference_volume=volume)
    scene.add_table(session, [{"region": "WT", "dice": 0.5}], "metrics")
    path = scene.save_bundle(session, tmp_path / "scene.mrb")
    assert os.listdir(tmp_path) == ["scene.mrb"]
    reopened = scene.open_bundle(path)
    volume2 = reopened.node_by_name("MRI")
    back = scene.image_from_volume(volume2)
    assert np.array_equal(back.array, image.array) and back.geometry.matches(image.geometry)
    assert scene.get_attributes(volume2) == {"seed": 3}
    labels2 = scene.labels_from_segmentation(reopened, reopened.node_by_name("tumour"), brats_schema(), volume2)
    assert np.array_equal(labels2.array, labels.array)
    assert scene.table_rows(reopened.node_by_name("metrics")) == [{"region": "WT", "dice": 0.5}]


def test_a_failed_bundle_save_leaves_no_file(session, image_and_labels, tmp_path, monkeypatch):
    scene.add_volume(session, image_and_labels[0], "MRI")
    monkeypatch.setattr(session.application_logic, "Zip", lambda *args: False, raising=False)
    with pytest.raises(RuntimeError, match="zipping"):
        scene.save_bundle(session, tmp_path / "scene.mrb")
    assert os.listdir(tmp_path) == []


@pytest.mark.integration
def test_a_real_lge_case_with_scar_round_trips_through_a_bundle(session, tmp_path):
    image = load_image(shared_file("emidec_Case_P100", "Case_P100_image.nii.gz"))
    labels = load_image(shared_file("emidec_Case_P100", "Case_P100_label.nii.gz"))
    labels = labels.with_array(labels.array.astype(np.uint8))
    volume = scene.add_volume(session, image, "LGE")
    scene.add_segmentation(session, labels, EMIDEC, "EMIDEC labels", reference_volume=volume)
    reopened = scene.open_bundle(scene.save_bundle(session, tmp_path / "lge.mrb"))
    volume2 = reopened.node_by_name("LGE")
    assert np.array_equal(scene.image_from_volume(volume2).array, image.array)
    back = scene.labels_from_segmentation(reopened, reopened.node_by_name("EMIDEC labels"), EMIDEC, volume2)
    assert np.array_equal(back.array, labels.array)
