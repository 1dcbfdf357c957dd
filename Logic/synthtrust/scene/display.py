"""How a run's nodes are displayed: the intended and predicted lesions in two colours, a volume rendering of
the synthetic image, and where the lesions are. Display nodes only; segment colours and voxels stay as
imported. Shared by the panel's results layout and the headless picture of it (``scripts/headless_render``),
so a picture shows what a user sees."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import vtk
from vtk.util import numpy_support

from synthtrust.imaging.image import Image
from synthtrust.scene.nodes import add_volume, remove_node
from synthtrust.scene.session import SceneSession

# Green for what was asked for, orange for what the segmenter found: distinct for common colour blindness
# as well, and neither is used by the BraTS or EMIDEC schema colours shown elsewhere in the scene.
INTENDED_COLOR = (0.15, 0.80, 0.30)
PREDICTED_COLOR = (1.00, 0.50, 0.00)
PREVIEW_ATTRIBUTE = "SynthTrust.preview"
# Slicer's slice-view names: their colours (red/green/yellow) are what users recognise.
SLICE_VIEWS = (("Red", "Axial", "#F34A33"), ("Green", "Coronal", "#6EB04B"), ("Yellow", "Sagittal", "#EDD54C"))


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
        """A run's first synthetic volume and first prediction, its results table and plot (``outcome``: a
        :class:`~synthtrust.scene.run_import.RunOutcome`); ``intended``: the lesion segmentation it was given."""
        if not outcome.synthetic_volume_nodes:
            raise ValueError("this run has no synthetic volume to show (a segment-only run or a sweep)")
        predicted = outcome.prediction_segmentation_nodes[0] if outcome.prediction_segmentation_nodes else None
        return cls(volume=outcome.synthetic_volume_nodes[0][0], intended=intended, predicted=predicted,
                   table=outcome.table_node, plot=outcome.plot_node, **options)


def style_results(nodes: ResultsNodes) -> None:
    """Display-only colours (segment colours stay the schema's): intended lesion green, see-through in 3D
    and filled in 2D; prediction orange, opaque in 3D and outlined in 2D, so where they disagree shows."""
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


def lesion_center_ras(nodes: ResultsNodes) -> tuple[float, float, float] | None:
    """The centre of the lesions' bounding box (RAS), where the slice views should cut; None if no lesion.
    Taken from the closed surfaces: a segmentation's own bounds span its whole reference grid."""
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


def show_preview(session: SceneSession, labels: Image, name: str):
    """A label-map overlay of a placement preview, replacing the previous one. It is transient: hidden from
    node selectors, never saved with the scene, and gone after :func:`remove_previews`."""
    remove_previews(session)
    node = add_volume(session, labels, name, label_map=True, transient=True)
    node.SetAttribute(PREVIEW_ATTRIBUTE, "1")
    return node


def remove_previews(session: SceneSession) -> None:
    """Remove every preview overlay with its display nodes."""
    for node in session.nodes_by_class("vtkMRMLLabelMapVolumeNode"):
        if node.GetAttribute(PREVIEW_ATTRIBUTE) == "1":
            remove_node(session, node)
