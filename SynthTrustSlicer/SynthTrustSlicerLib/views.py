"""The slice views inside 3D Slicer: a run's synthetic volume shown in them, and Compare mode (the real and
the synthetic image side by side in linked axial views; needs the application's layout manager, or anything
with ``layout``, ``setLayout`` and ``sliceWidget``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

COMPARE_VIEWS = ("Red", "Yellow")  # left: real image, right: synthetic


def show_in_slice_views(volume_node) -> None:
    """``volume_node`` as the background of every slice view, fitted (the panel controller's
    ``show_volume``)."""
    import slicer

    slicer.util.setSliceViewerLayers(background=volume_node, fit=True)


class CompareMode:
    """Drives the checkable Compare button. Checking it shows the two volumes in linked views (scrolling or
    zooming one moves the other); unchecking it restores the layout and each view's own linking. When it
    cannot start (no run yet), the error is reported through ``guard`` (Slicer's ``tryWithErrorDisplay``:
    it shows the error, then re-raises it) and the button unchecks itself before the error goes on."""

    def __init__(self, button, layout_manager: Callable, guard: Callable | None = None):
        self.button, self.layout_manager = button, layout_manager
        self.guard = guard or (lambda text: contextlib.nullcontext())
        self.previous_layout = None
        self.previous_linked: dict[str, bool] = {}

    @property
    def active(self) -> bool:
        return self.previous_layout is not None

    def toggled(self, on: bool, volumes: Callable[[], tuple]) -> None:
        """The button's ``toggled`` slot; ``volumes()`` gives (real, synthetic) or raises ValueError."""
        if not on:
            self.stop()
            return
        try:
            with self.guard("Could not switch the compare mode."):
                real, synthetic = volumes()
                self.start(real, synthetic)
        except Exception:
            self.stop()
            self.uncheck()
            raise

    def start(self, real_volume, synthetic_volume) -> None:
        import slicer

        manager = self.layout_manager()
        if not self.active:
            self.previous_layout = manager.layout
        manager.setLayout(slicer.vtkMRMLLayoutNode.SlicerLayoutSideBySideView)
        for view_name, volume in zip(COMPARE_VIEWS, (real_volume, synthetic_volume), strict=True):
            slice_widget = manager.sliceWidget(view_name)
            slice_widget.mrmlSliceNode().SetOrientation("Axial")
            composite = slice_widget.mrmlSliceCompositeNode()
            self.previous_linked.setdefault(view_name, bool(composite.GetLinkedControl()))
            composite.SetBackgroundVolumeID(volume.GetID())
            composite.SetLinkedControl(True)
            slice_widget.sliceLogic().FitSliceToAll()

    def stop(self) -> None:
        """Unlink the views (back to how they were) and restore the layout; nothing when not active."""
        if not self.active and not self.previous_linked:
            return
        manager = self.layout_manager()
        for view_name, linked in self.previous_linked.items():
            slice_widget = manager.sliceWidget(view_name)
            if slice_widget is not None:
                slice_widget.mrmlSliceCompositeNode().SetLinkedControl(linked)
        if self.previous_layout is not None:
            manager.setLayout(self.previous_layout)
        self.previous_layout, self.previous_linked = None, {}

    def uncheck(self) -> None:
        """Show the button off without calling ``toggled`` again."""
        self.button.blockSignals(True)
        self.button.checked = False
        self.button.blockSignals(False)
