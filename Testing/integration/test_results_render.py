"""The results layout on a real brain: rendered headlessly through slicer-core's displayable managers
(EGL), and the Slicer layout (XML, views pointed at the run's nodes) driven by MRML's layout logic."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from conftest import REPOSITORY, shared_file

sys.path[:0] = [str(REPOSITORY / "SynthTrustSlicer"), str(REPOSITORY / "scripts")]

pytest.importorskip("slicer", reason="the results layout needs the slicer-core wheel")

from headless_render import picture  # noqa: E402
from SynthTrustSlicerLib import results_layout  # noqa: E402

from synthtrust import scene  # noqa: E402
from synthtrust.demo_outputs import METRIC_COLUMNS  # noqa: E402
from synthtrust.editing.tumor import place_tumor  # noqa: E402
from synthtrust.imaging.image import LPS_TO_RAS, Image  # noqa: E402
from synthtrust.imaging.io import load_image  # noqa: E402
from synthtrust.labels.schema import brats_schema  # noqa: E402
from synthtrust.metrics import evaluate_labels  # noqa: E402
from synthtrust.scene import display  # noqa: E402
from synthtrust.synthesis.template import TemplateSynthesizer  # noqa: E402

pytestmark = pytest.mark.integration
MNI = "nilearn_mni152"
TUMOR_CENTER_RAS = (26.0, 20.0, 24.0)  # right frontal white matter, as in the demo
VIEW_SIZE = 300


def half_resolution(image: Image) -> Image:
    """Every second voxel (2 mm): the rendering, not the resolution, is under test, and it is 8x faster."""
    geometry = image.geometry
    return Image.from_array(np.ascontiguousarray(image.array[::2, ::2, ::2]),
                            spacing=tuple(2 * s for s in geometry.spacing), origin=geometry.origin,
                            direction=geometry.direction, name=image.name)


def build_case():
    """The MNI brain with a synthesized tumour; the 'prediction' is the intended lesion moved 4 mm to the
    patient's left (a stand-in, so intended and predicted surfaces differ visibly; no segmenter needed)."""
    t1 = half_resolution(load_image(shared_file(MNI, "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")))
    t1 = t1.with_array(t1.array.astype(np.float32))
    schema = brats_schema(2021)
    center_lps = tuple(LPS_TO_RAS @ np.asarray(TUMOR_CENTER_RAS))
    edit = place_tumor(t1, center_lps, 28.0, seed=0, schema=schema,
                       brain_mask=t1.with_array((t1.array > np.percentile(t1.array, 60)).astype(np.uint8)))
    synthetic = TemplateSynthesizer().synthesize([t1], edit.labels, schema, ["t1"], seed=0).channels[0]
    predicted = edit.labels.with_array(np.roll(edit.labels.array, 2, axis=2), name="prediction")
    evaluation = evaluate_labels(edit.labels.array, predicted.array, schema, t1.spacing_zyx).to_dict()
    rows = [{"region": region, **{title: values[name] for name, title in METRIC_COLUMNS.items() if name in values}}
            for region, values in evaluation["regions"].items()]
    session = scene.SceneSession.create()
    volume = scene.add_volume(session, synthetic, "synthetic T1")
    nodes = display.ResultsNodes(
        volume=volume,
        intended=scene.add_segmentation(session, edit.labels, schema, "intended lesion", reference_volume=volume),
        predicted=scene.add_segmentation(session, predicted, schema, "prediction", reference_volume=volume),
        table=scene.add_table(session, rows, "metrics"),
        title="results layout test")
    nodes.plot = scene.add_plot(session, nodes.table, "region", ["Dice"], "Dice per region", kind="bar")
    return session, nodes


@pytest.fixture(scope="module")
def case():
    return build_case()


def crop(image: np.ndarray, box) -> np.ndarray:
    top, left, bottom, right = box
    return image[top:bottom, left:right]


def test_the_rendered_results_layout_shows_lesions_in_3d_and_in_every_slice_and_the_table_text(case, tmp_path):
    problem = picture.headless_rendering_problem()
    if problem:
        pytest.skip(problem)
    session, nodes = case
    started = time.perf_counter()
    image, boxes = picture.render_results_image(session, nodes, view_size=VIEW_SIZE)
    seconds = time.perf_counter() - started
    path = picture.write_png(image, tmp_path / "results.png")
    assert 0 < path.stat().st_size < 1_000_000
    assert {"3d", "axial", "coronal", "sagittal", "legend", "table"} <= set(boxes)

    three_d = crop(image, boxes["3d"])
    assert three_d.shape[:2] == (VIEW_SIZE, VIEW_SIZE)
    assert picture.distinct_colors(three_d) > 2000, "3D view looks blank (background gradient only)"
    assert picture.color_fraction(three_d, display.PREDICTED_COLOR) > 0.005, "predicted lesion surface missing"
    for orientation in ("axial", "coronal", "sagittal"):
        view = crop(image, boxes[orientation])
        assert picture.distinct_colors(view) > 100, f"{orientation} view shows no image"
        assert picture.color_fraction(view, display.PREDICTED_COLOR) > 0.001, f"no prediction outline in {orientation}"
        assert picture.color_fraction(view, display.INTENDED_COLOR, 0.2) > 0.002, f"no intended fill in {orientation}"
    table = crop(image, boxes["table"])
    ink = (table.max(axis=-1) < 110).mean()
    assert 0.01 < ink < 0.3, f"table region has {ink:.1%} text pixels"
    print(f"render {seconds:.1f} s")


def test_rendering_twice_in_one_scene_gives_the_same_picture(case):
    if picture.headless_rendering_problem():
        pytest.skip(picture.headless_rendering_problem())
    session, nodes = case
    first, _ = picture.render_results_image(session, nodes, view_size=160)
    second, _ = picture.render_results_image(session, nodes, view_size=160)
    assert np.array_equal(first, second)


class LayoutManagerStandIn:
    """Declared stand-in for Slicer's Qt ``qSlicerLayoutManager`` (not in slicer-core): the two methods
    show_results_layout calls. MRML's own layout logic builds the view nodes from the XML; a slice logic
    per slice view stands in for the slice widgets the Qt manager would create."""

    def __init__(self, session):
        import slicer
        import vtk

        self.session = session
        self.logic = slicer.vtkMRMLLayoutLogic()
        self.logic.SetMRMLScene(session.scene)
        if session.application_logic.GetSliceLogics() is None:
            session.application_logic.SetSliceLogics(vtk.vtkCollection())
        self.slice_logics = []

    def layoutLogic(self):  # noqa: N802 - Slicer's name
        return self.logic

    def setLayout(self, layout_id: int) -> None:  # noqa: N802 - Slicer's name
        import slicer

        self.logic.GetLayoutNode().SetViewArrangement(layout_id)
        for slice_node in self.session.nodes_by_class("vtkMRMLSliceNode"):
            logic = slicer.vtkMRMLSliceLogic()
            logic.SetMRMLApplicationLogic(self.session.application_logic)
            self.session.application_logic.GetSliceLogics().AddItem(logic)
            logic.SetMRMLScene(self.session.scene)
            logic.SetSliceNode(slice_node)
            self.slice_logics.append(logic)


def test_show_results_layout_builds_3d_slice_table_and_plot_views_showing_the_run(case):
    session, nodes = case
    manager = LayoutManagerStandIn(session)
    results_layout.show_results_layout(manager, nodes, application_logic=session.application_logic)

    layout = manager.logic.GetLayoutNode()
    assert layout.GetViewArrangement() == results_layout.RESULTS_LAYOUT_ID
    assert layout.GetLayoutDescription(results_layout.RESULTS_LAYOUT_ID) == results_layout.results_layout_xml()
    table_views = session.nodes_by_class("vtkMRMLTableViewNode")
    plot_views = session.nodes_by_class("vtkMRMLPlotViewNode")
    assert [v.GetTableNodeID() for v in table_views] == [nodes.table.GetID()]
    assert [v.GetPlotChartNodeID() for v in plot_views] == [nodes.plot.GetID()]
    for name, orientation, _ in display.SLICE_VIEWS:
        assert session.scene.GetSingletonNode(name, "vtkMRMLSliceNode").GetOrientation() == orientation
        composite = next(c for c in session.nodes_by_class("vtkMRMLSliceCompositeNode") if c.GetLayoutName() == name)
        assert composite.GetBackgroundVolumeID() == nodes.volume.GetID()
    axial = session.scene.GetSingletonNode("Red", "vtkMRMLSliceNode")
    assert axial.GetSliceToRAS().GetElement(2, 3) == pytest.approx(display.lesion_center_ras(nodes)[2], abs=2.0), \
        "the axial view should cut through the lesion"
    renderings = [nodes.volume.GetNthDisplayNode(i) for i in range(nodes.volume.GetNumberOfDisplayNodes())]
    assert any(d.IsA("vtkMRMLGPURayCastVolumeRenderingDisplayNode") for d in renderings)
    segment_id = nodes.predicted.GetSegmentation().GetNthSegmentID(0)
    assert nodes.predicted.GetDisplayNode().GetSegmentOverrideColor(segment_id) == pytest.approx(display.PREDICTED_COLOR)
