"""The results layout: a 3D view (lesion surfaces over a volume rendering of the synthetic image), three
slice views with lesion overlays, and the results table (and plot) side by side.

Inside 3D Slicer :func:`show_results_layout` switches the application to :func:`results_layout_xml` and
points its views at one run's nodes. Headless (slicer-core with EGL) :func:`render_results_png` draws the
same arrangement through Slicer's own displayable managers into one PNG, for the README and the tests.
Both use :func:`style_results`, so a picture shows what a user sees. No Qt here: the panel and plain
Python import this module alike, and ``slicer``/``vtk`` are imported inside the functions.
"""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Outside Slicer's built-in range (< 1000) and unlikely to collide with other extensions.
RESULTS_LAYOUT_ID = 7401
# Green for what was asked for, orange for what the segmenter found: distinct for common colour blindness
# as well, and neither is used by the BraTS or EMIDEC schema colours shown elsewhere in the scene.
INTENDED_COLOR = (0.15, 0.80, 0.30)
PREDICTED_COLOR = (1.00, 0.50, 0.00)
# Slicer's slice-view names: their colours (red/green/yellow) are what users recognise.
SLICE_VIEWS = (("Red", "Axial", "#F34A33"), ("Green", "Coronal", "#6EB04B"), ("Yellow", "Sagittal", "#EDD54C"))
CANVAS_COLOR = (240, 240, 240)
TEXT_COLOR = (30, 30, 30)


@dataclass
class ResultsNodes:
    """The nodes of one run that the results layout shows; any but ``volume`` may be absent."""

    volume: object
    intended: object | None = None
    predicted: object | None = None
    table: object | None = None
    plot: object | None = None
    title: str = ""
    table_columns: list[str] | None = None  # which table columns the picture shows (default: all)
    legend: dict = field(default_factory=lambda: {"intended lesion (synthetic)": INTENDED_COLOR,
                                                  "predicted lesion (segmenter)": PREDICTED_COLOR})

    @classmethod
    def of_run(cls, outcome, intended=None, **options) -> ResultsNodes:
        """A run's first synthetic volume and first prediction, its results table and plot
        (``outcome``: the logic's ``RunOutcome``); ``intended``: the lesion segmentation it was given."""
        if not outcome.synthetic_volume_nodes:
            raise ValueError("this run has no synthetic volume to show (a segment-only run or a sweep)")
        predicted = outcome.prediction_segmentation_nodes[0] if outcome.prediction_segmentation_nodes else None
        return cls(volume=outcome.synthetic_volume_nodes[0][0], intended=intended, predicted=predicted,
                   table=outcome.table_node, plot=outcome.plot_node, **options)


def results_layout_xml() -> str:
    """Slicer layout: 3D view above the three slice views on the left, table above plot on the right."""
    slices = "".join(
        f'<item><view class="vtkMRMLSliceNode" singletontag="{name}">'
        f'<property name="orientation" action="default">{orientation}</property>'
        f'<property name="viewlabel" action="default">{name[0]}</property>'
        f'<property name="viewcolor" action="default">{color}</property></view></item>'
        for name, orientation, color in SLICE_VIEWS)
    return (
        '<layout type="horizontal" split="true">'
        '<item splitSize="600"><layout type="vertical" split="true">'
        '<item splitSize="600"><view class="vtkMRMLViewNode" singletontag="1">'
        '<property name="viewlabel" action="default">1</property></view></item>'
        f'<item splitSize="300"><layout type="horizontal">{slices}</layout></item>'
        '</layout></item>'
        '<item splitSize="400"><layout type="vertical" split="true">'
        '<item splitSize="500"><view class="vtkMRMLTableViewNode" singletontag="TableView1">'
        '<property name="viewlabel" action="default">T</property></view></item>'
        '<item splitSize="400"><view class="vtkMRMLPlotViewNode" singletontag="PlotView1">'
        '<property name="viewlabel" action="default">P</property></view></item>'
        '</layout></item>'
        '</layout>')


def style_results(nodes: ResultsNodes) -> None:
    """Display-only colours (segment colours stay the schema's): intended lesion green, see-through in 3D
    and filled in 2D; prediction orange, opaque in 3D and outlined in 2D, so where they disagree shows."""
    import vtk

    for node, color, opacity_3d, fill in ((nodes.intended, INTENDED_COLOR, 0.4, True),
                                          (nodes.predicted, PREDICTED_COLOR, 1.0, False)):
        if node is None:
            continue
        if node.GetDisplayNode() is None:
            node.CreateDefaultDisplayNodes()
        node.CreateClosedSurfaceRepresentation()
        display = node.GetDisplayNode()
        display.SetPreferredDisplayRepresentationName3D("Closed surface")
        segment_ids = vtk.vtkStringArray()
        node.GetSegmentation().GetSegmentIDs(segment_ids)
        for index in range(segment_ids.GetNumberOfValues()):
            display.SetSegmentOverrideColor(segment_ids.GetValue(index), *color)
        display.SetVisibility(True)
        display.SetOpacity3D(opacity_3d)
        display.SetVisibility2DFill(fill)
        display.SetOpacity2DFill(0.35)
        display.SetVisibility2DOutline(True)
        display.SetOpacity2DOutline(1.0)


def add_volume_rendering(scene, volume_node, opacity: float = 0.12, logic=None):
    """Volume rendering of ``volume_node`` with a transfer function from its own intensities.

    MR intensities have no unit, so a fixed preset cannot fit them (and slicer-core ships no presets):
    the ramp starts above the median of the non-zero voxels, which hides air and most soft tissue and
    leaves the bright tissue as a faint cloud the lesion surfaces show through. With the Volume Rendering
    ``logic`` the display node follows the user's renderer setting (and gets its ROI); without it, a GPU
    ray-cast node (the CPU ray caster tiles offscreen on llvmpipe). Reuses an existing display node."""
    for index in range(volume_node.GetNumberOfDisplayNodes()):
        existing = volume_node.GetNthDisplayNode(index)
        if existing is not None and existing.IsA("vtkMRMLVolumeRenderingDisplayNode"):
            existing.SetVisibility(True)
            return existing
    if logic is not None:
        display = logic.CreateDefaultVolumeRenderingNodes(volume_node)
        property_node = display.GetVolumePropertyNode()
    else:
        property_node = scene.AddNewNodeByClass("vtkMRMLVolumePropertyNode")
        display = scene.AddNewNodeByClass("vtkMRMLGPURayCastVolumeRenderingDisplayNode")
        display.SetAndObserveVolumePropertyNodeID(property_node.GetID())
        volume_node.AddAndObserveDisplayNodeID(display.GetID())
    property_node.SetName(f"{volume_node.GetName()} rendering")
    _set_transfer_functions(property_node.GetVolumeProperty(), volume_node, opacity)
    display.SetVisibility(True)
    return display


def _set_transfer_functions(volume_property, volume_node, opacity: float) -> None:
    import vtk
    from vtk.util import numpy_support

    voxels = numpy_support.vtk_to_numpy(volume_node.GetImageData().GetPointData().GetScalars())
    foreground = voxels[voxels > voxels.min()].astype(np.float64)
    if foreground.size == 0:
        raise ValueError(f"volume {volume_node.GetName()!r} is constant; nothing to volume-render")
    low, middle, high = np.percentile(foreground, [50.0, 80.0, 99.5])
    high = max(high, low + 1e-3)
    scalar_opacity = vtk.vtkPiecewiseFunction()
    scalar_opacity.AddPoint(float(voxels.min()), 0.0)
    scalar_opacity.AddPoint(float(low), 0.0)
    scalar_opacity.AddPoint(float(min(max(middle, low + 5e-4), high - 5e-4)), opacity * 0.4)
    scalar_opacity.AddPoint(float(high), opacity)
    colors = vtk.vtkColorTransferFunction()
    colors.AddRGBPoint(float(low), 0.55, 0.45, 0.40)
    colors.AddRGBPoint(float(high), 1.0, 0.97, 0.92)
    volume_property.SetScalarOpacity(scalar_opacity)
    volume_property.SetColor(colors)
    volume_property.SetInterpolationTypeToLinear()
    volume_property.ShadeOff()  # unshaded keeps the cloud from hiding the surfaces behind highlights


def show_results_layout(layout_manager, nodes: ResultsNodes, application_logic=None) -> None:
    """Inside Slicer: switch to the results layout and show the run's volume, overlays, table and plot.

    ``layout_manager`` is ``slicer.app.layoutManager()`` (anything with ``layoutLogic()`` and
    ``setLayout(id)``); ``application_logic`` defaults to ``slicer.app.applicationLogic()``."""
    layout_node = layout_manager.layoutLogic().GetLayoutNode()
    if layout_node.IsLayoutDescription(RESULTS_LAYOUT_ID):
        layout_node.SetLayoutDescription(RESULTS_LAYOUT_ID, results_layout_xml())
    else:
        layout_node.AddLayoutDescription(RESULTS_LAYOUT_ID, results_layout_xml())
    layout_manager.setLayout(RESULTS_LAYOUT_ID)
    if application_logic is None:
        import slicer

        application_logic = slicer.app.applicationLogic()
    scene = nodes.volume.GetScene()
    style_results(nodes)
    add_volume_rendering(scene, nodes.volume, logic=application_logic.GetModuleLogic("VolumeRendering"))
    selection = application_logic.GetSelectionNode()
    selection.SetActiveVolumeID(nodes.volume.GetID())
    selection.SetActiveLabelVolumeID(None)
    application_logic.PropagateVolumeSelection(1)  # 1: fit the slice views to the volume
    if nodes.table is not None:
        selection.SetActiveTableID(nodes.table.GetID())
        application_logic.PropagateTableSelection()
    if nodes.plot is not None:
        selection.SetActivePlotChartID(nodes.plot.GetID())
        application_logic.PropagatePlotChartSelection()
    center = lesion_center_ras(nodes)
    if center is not None:
        for name, _, _ in SLICE_VIEWS:
            slice_node = scene.GetSingletonNode(name, "vtkMRMLSliceNode")
            if slice_node is not None:
                slice_node.JumpSliceByOffsetting(*center)
    if hasattr(layout_manager, "resetThreeDViews"):
        layout_manager.resetThreeDViews()


def lesion_center_ras(nodes: ResultsNodes) -> tuple[float, float, float] | None:
    """The centre of the lesions' bounding box (RAS), where the slice views should cut; None if no lesion.
    Taken from the closed surfaces: a segmentation's own bounds span its whole reference grid."""
    import vtk

    boxes = []
    for node in (nodes.intended, nodes.predicted):
        if node is None:
            continue
        node.CreateClosedSurfaceRepresentation()
        segmentation = node.GetSegmentation()
        for index in range(segmentation.GetNumberOfSegments()):
            surface = vtk.vtkPolyData()
            node.GetClosedSurfaceRepresentation(segmentation.GetNthSegmentID(index), surface)
            if surface.GetNumberOfPoints():
                boxes.append(surface.GetBounds())
    if not boxes:
        return None
    box = np.array(boxes)
    low, high = box[:, 0::2].min(axis=0), box[:, 1::2].max(axis=0)
    return tuple(float(v) for v in (low + high) / 2)


@functools.cache
def headless_rendering_problem() -> str | None:
    """Why offscreen OpenGL rendering cannot work here, or None when it can (probed in a child process,
    because a missing EGL/GL driver can abort the process that tries it)."""
    probe = ("import vtk; w = vtk.vtkRenderWindow(); w.SetOffScreenRendering(1); w.SetMultiSamples(0); "
             "w.SetSize(8, 8); w.AddRenderer(vtk.vtkRenderer()); w.Render(); print('ok', w.GetClassName())")
    environment = {**os.environ, "VTK_DEFAULT_OPENGL_WINDOW": os.environ.get("VTK_DEFAULT_OPENGL_WINDOW",
                                                                             "vtkEGLRenderWindow")}
    try:
        completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                                   env=environment)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the offscreen OpenGL probe could not run: {error}"
    if completed.returncode != 0 or "ok" not in completed.stdout:
        detail = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"offscreen OpenGL (EGL) is unavailable: {detail}; on Debian install libegl1 libegl-mesa0 "
                "libgl1-mesa-dri libgbm1 and set VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow")
    return None


def render_results_png(session, nodes: ResultsNodes, path: str | os.PathLike, view_size: int = 520,
                       table_rows: int = 10) -> Path:
    """Draw the results layout headlessly into one PNG and return its path (see
    :func:`render_results_image`)."""
    image, _ = render_results_image(session, nodes, view_size, table_rows)
    return write_png(image, path)


def render_results_image(session, nodes: ResultsNodes, view_size: int = 520,
                         table_rows: int = 10) -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """The results layout as an (height, width, 3) uint8 image, and where each panel's content lies
    (``3d``, ``axial``, ``coronal``, ``sagittal``, ``legend``, ``table``: top, left, bottom, right).

    ``session`` is a :class:`synthtrust.scene.SceneSession` holding the nodes. The 3D view and the slice
    views are rendered by Slicer's displayable managers (as in Slicer), the table is typeset from the
    table node's rows. Adds view, slice and rendering nodes to the scene, as opening the layout would."""
    from .render_text import MARGIN, compose, legend_image, table_image, title_bar
    from .render_views import HeadlessViews

    problem = headless_rendering_problem()
    if problem:
        raise RuntimeError(problem)
    style_results(nodes)
    add_volume_rendering(session.scene, nodes.volume, logic=session.logics.get("VolumeRendering"))
    center = lesion_center_ras(nodes)
    views = HeadlessViews(session)
    slice_size = view_size // 2
    try:
        three_d = views.render_three_d((view_size, view_size), center)
        slices = [views.render_slice(name, orientation, nodes.volume, (slice_size, slice_size), center)
                  for name, orientation, _ in SLICE_VIEWS]
    finally:
        views.close()
    width = view_size + 2 * slice_size + 2 * MARGIN
    panels = {"3d": title_bar("3D: lesion surfaces, volume rendering", three_d)}
    for (name, orientation, _), image in zip(SLICE_VIEWS, slices, strict=True):
        panels[orientation.lower()] = title_bar(f"{orientation} ({name})", image)
    panels["legend"] = title_bar("Legend", legend_image(nodes.legend, (slice_size, slice_size),
                                                        nodes.volume.GetName()))
    if nodes.table is not None:
        panels["table"] = title_bar(f"Table: {nodes.table.GetName()}",
                                    table_image(nodes.table, width, table_rows, nodes.table_columns))
    return compose(panels, nodes.title or (nodes.table.GetName() if nodes.table is not None else ""))


def write_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """An (height, width, 3) uint8 array (row 0 at the top) as PNG, written through VTK."""
    import vtk
    from vtk.util import numpy_support

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = image.shape[:2]
    data = vtk.vtkImageData()
    data.SetDimensions(width, height, 1)
    flipped = np.ascontiguousarray(image[::-1, :, :3], dtype=np.uint8).reshape(-1, 3)
    data.GetPointData().SetScalars(numpy_support.numpy_to_vtk(flipped, deep=True))
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(data)
    writer.SetCompressionLevel(9)
    writer.Write()
    if writer.GetErrorCode():
        raise RuntimeError(f"writing {path} failed (VTK error code {writer.GetErrorCode()})")
    return path


def distinct_colors(image: np.ndarray) -> int:
    """How many distinct RGB colours an image region holds (a blank render has one or two)."""
    flat = np.ascontiguousarray(image[..., :3]).reshape(-1, 3).astype(np.uint32)
    return int(np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]).size)


def color_fraction(image: np.ndarray, color: tuple[float, float, float], tolerance: float = 0.12) -> float:
    """Fraction of pixels whose chromaticity (colour with brightness divided out) is ``color``'s; shading
    changes brightness, not chromaticity, so shaded surfaces still count."""
    rgb = image[..., :3].astype(np.float64)
    total = rgb.sum(axis=-1, keepdims=True)
    chroma = np.divide(rgb, total, out=np.zeros_like(rgb), where=total > 60)
    target = np.asarray(color, float) / max(sum(color), 1e-9)
    close = np.linalg.norm(chroma - target, axis=-1) < tolerance * math.sqrt(2)
    return float((close & (total[..., 0] > 60)).mean())
