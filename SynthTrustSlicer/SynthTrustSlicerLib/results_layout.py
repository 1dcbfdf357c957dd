"""The results layout inside 3D Slicer: a 3D view (lesion surfaces over a volume rendering of the synthetic
image) above the three slice views with lesion overlays, and the results table above the plot beside them.

The display settings come from the adapter (:mod:`synthtrust.scene.display`); this module only registers
the layout and points Slicer's views at one run's nodes. No Qt here: ``layout_manager`` is passed in.
"""

from __future__ import annotations

from synthtrust.scene.display import (
    SLICE_VIEWS,
    ResultsNodes,
    add_volume_rendering,
    lesion_center_ras,
    style_results,
)

# Outside Slicer's built-in range (< 1000) and unlikely to collide with other extensions.
RESULTS_LAYOUT_ID = 7401


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
