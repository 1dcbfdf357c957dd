"""Slice-view arrangements the panel switches to (inside 3D Slicer; needs the application's layout manager)."""

from __future__ import annotations


def show_side_by_side(layout_manager, real_volume, synthetic_volume) -> None:
    """Compare mode: the real image on the left, the synthetic one on the right, both axial and linked, so
    scrolling or zooming one moves the other and the same anatomy stays side by side."""
    import slicer

    layout_manager.setLayout(slicer.vtkMRMLLayoutNode.SlicerLayoutSideBySideView)
    for view_name, volume in (("Red", real_volume), ("Yellow", synthetic_volume)):
        slice_widget = layout_manager.sliceWidget(view_name)
        slice_widget.mrmlSliceNode().SetOrientation("Axial")
        composite = slice_widget.mrmlSliceCompositeNode()
        composite.SetBackgroundVolumeID(volume.GetID())
        composite.SetLinkedControl(True)
        slice_widget.sliceLogic().FitSliceToAll()
