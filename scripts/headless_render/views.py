"""Offscreen 3D and slice views driven by Slicer's displayable managers (slicer-core, EGL).

What Slicer's Qt view widgets do, without Qt: a render window per view, a displayable-manager group
bound to a view or slice node, and for slice views the slice logic's blended image as the background
(CTK's light-box manager is not in slicer-core). Images come back as (height, width, 3) uint8 arrays.
"""

from __future__ import annotations

import numpy as np
import slicer
import vtk
from vtk.util import numpy_support

THREE_D_MANAGERS = ("vtkMRMLCameraDisplayableManager", "vtkMRMLViewDisplayableManager",
                    "vtkMRMLModelDisplayableManager", "vtkMRMLSegmentationsDisplayableManager3D",
                    "vtkMRMLVolumeRenderingDisplayableManager")
SLICE_MANAGERS = ("vtkMRMLSegmentationsDisplayableManager2D",)
THREE_D_VIEW_NAME = "1"  # Slicer's main 3D view
# Slicer's default 3D background gradient, so the picture looks like the application.
THREE_D_BACKGROUND = ((0.76, 0.77, 0.91), (1.0, 1.0, 1.0))


class HeadlessViews:
    """Renders views of ``session``'s scene; call :meth:`close` when done (releases GL contexts)."""

    def __init__(self, session):
        self.scene = session.scene
        self.application = session.application_logic
        # The managers look views up in these collections; a bare application logic has none.
        if self.application.GetSliceLogics() is None:
            self.application.SetSliceLogics(vtk.vtkCollection())
        if self.application.GetViewLogics() is None:
            self.application.SetViewLogics(vtk.vtkCollection())
        for factory in (slicer.vtkMRMLThreeDViewDisplayableManagerFactory.GetInstance(),
                        slicer.vtkMRMLSliceViewDisplayableManagerFactory.GetInstance()):
            factory.SetMRMLApplicationLogic(self.application)
        # The managers read the mouse mode from the interaction node; Slicer's application creates it.
        if self.scene.GetFirstNodeByClass("vtkMRMLInteractionNode") is None:
            interaction = slicer.vtkMRMLInteractionNode()
            interaction.SetSingletonTag("Singleton")
            self.scene.AddNode(interaction)
        if self.scene.GetFirstNodeByClass("vtkMRMLCrosshairNode") is None:
            crosshair = slicer.vtkMRMLCrosshairNode()
            crosshair.SetCrosshairName("default")
            self.scene.AddNode(crosshair)
        # Slice nodes take their axial/coronal/sagittal matrices from these presets.
        slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(self.scene, True)
        self._closers = []

    def render_three_d(self, size: tuple[int, int], center_ras=None, zoom: float = 1.7) -> np.ndarray:
        """The 3D view (lesion surfaces, volume rendering), seen from the side of the scene where the
        lesion is, so the volume rendering does not stand between the camera and the lesion."""

        window, renderer = _offscreen_window(size)
        # Depth peeling sorts the see-through intended lesion against the opaque prediction and the
        # ray-cast volume; it is only correct with multisampling off (set in _offscreen_window).
        renderer.SetUseDepthPeeling(True)
        renderer.SetUseDepthPeelingForVolumes(True)
        group = _manager_group(slicer.vtkMRMLThreeDViewDisplayableManagerFactory.GetInstance(),
                               THREE_D_MANAGERS, renderer)
        logic = slicer.vtkMRMLViewLogic()
        logic.SetMRMLApplicationLogic(self.application)
        self.application.GetViewLogics().AddItem(logic)
        # A second AddViewNode for the same name returns a node outside the scene: reuse the existing one.
        logic.SetName(THREE_D_VIEW_NAME)
        logic.SetMRMLScene(self.scene)
        view = logic.GetViewNode() or logic.AddViewNode(THREE_D_VIEW_NAME)
        view.SetBoxVisible(False)
        view.SetAxisLabelsVisible(False)
        view.SetBackgroundColor(*THREE_D_BACKGROUND[0])
        view.SetBackgroundColor2(*THREE_D_BACKGROUND[1])
        group.SetMRMLDisplayableNode(view)
        # No render before the camera is placed: VTK's default camera sits inside the volume, where one
        # ray-cast frame on the CPU takes ten times longer than from outside.
        bounds = np.array(renderer.ComputeVisiblePropBounds())
        middle = (bounds[0::2] + bounds[1::2]) / 2
        camera = renderer.GetActiveCamera()
        camera.SetFocalPoint(*middle)
        camera.SetPosition(*(middle + _view_direction(middle, center_ras)))
        camera.SetViewUp(0.0, 0.0, 1.0)
        renderer.ResetCamera()
        camera.Zoom(zoom)
        renderer.ResetCameraClippingRange()
        window.Render()
        image = _grab(window)
        self._closers.append(lambda: self._release(window, group, logic, self.application.GetViewLogics()))
        return image

    def render_slice(self, name: str, orientation: str, volume_node, size: tuple[int, int],
                     center_ras=None) -> np.ndarray:
        """One slice view (``name`` as in Slicer: Red, Green, Yellow) of ``volume_node`` with the
        segmentation overlays, cutting through ``center_ras`` when given."""

        window, renderer = _offscreen_window(size)
        renderer.GetActiveCamera().ParallelProjectionOn()
        group = _manager_group(slicer.vtkMRMLSliceViewDisplayableManagerFactory.GetInstance(),
                               SLICE_MANAGERS, renderer)
        logic = slicer.vtkMRMLSliceLogic()
        logic.SetMRMLApplicationLogic(self.application)
        self.application.GetSliceLogics().AddItem(logic)
        logic.SetMRMLScene(self.scene)
        slice_node = self.scene.GetSingletonNode(name, "vtkMRMLSliceNode")
        if slice_node is None:
            slice_node = logic.AddSliceNode(name)
        else:
            logic.SetSliceNode(slice_node)
        slice_node.SetOrientation(orientation)
        group.SetMRMLDisplayableNode(slice_node)
        logic.GetSliceCompositeNode().SetBackgroundVolumeID(volume_node.GetID())
        logic.ResizeSliceNode(*size)
        logic.FitSliceToBackground()
        if center_ras is not None:
            slice_node.JumpSliceByOffsetting(*center_ras)
        mapper = vtk.vtkImageMapper()
        mapper.SetColorWindow(255)
        mapper.SetColorLevel(127.5)
        mapper.SetInputConnection(logic.GetImageDataConnection())
        actor = vtk.vtkActor2D()
        actor.SetMapper(mapper)
        actor.GetProperty().SetDisplayLocationToBackground()
        renderer.AddViewProp(actor)
        window.Render()
        image = _grab(window)
        self._closers.append(lambda: self._release(window, group, logic, self.application.GetSliceLogics()))
        return image

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers = []

    @staticmethod
    def _release(window, group, logic, collection) -> None:
        group.SetMRMLDisplayableNode(None)
        collection.RemoveItem(logic)
        logic.SetMRMLScene(None)
        window.Finalize()


def _offscreen_window(size: tuple[int, int]):
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(*size)
    # Offscreen on Mesa llvmpipe, multisampling with depth peeling draws nothing but the outline box.
    window.SetMultiSamples(0)
    window.SetAlphaBitPlanes(1)
    renderer = vtk.vtkRenderer()
    window.AddRenderer(renderer)
    # The displayable managers attach observers to the interactor; it is never started.
    interactor = vtk.vtkRenderWindowInteractor()
    interactor.SetRenderWindow(window)
    interactor.Initialize()
    return window, renderer


def _manager_group(factory, names, renderer):
    for name in names:
        if not factory.IsDisplayableManagerRegistered(name):
            factory.RegisterDisplayableManager(name)
    group = slicer.vtkMRMLDisplayableManagerGroup()
    group.Initialize(factory, renderer)
    return group


def _view_direction(middle: np.ndarray, center_ras) -> np.ndarray:
    """Unit vector from the scene's middle towards the camera: mostly towards the lesion, partly from the
    front and above (Slicer's anterior default), which keeps a familiar orientation."""
    default = np.array([0.35, 0.85, 0.4]) / np.linalg.norm([0.35, 0.85, 0.4])
    if center_ras is None:
        return default
    towards = np.asarray(center_ras, float) - middle
    towards[2] = max(towards[2], 0.0)  # never from below: the head's underside is unfamiliar
    if np.linalg.norm(towards) < 1e-6:
        return default
    direction = 0.6 * towards / np.linalg.norm(towards) + 0.4 * default
    return direction / np.linalg.norm(direction)


def _grab(window) -> np.ndarray:
    grabber = vtk.vtkWindowToImageFilter()
    grabber.SetInput(window)
    grabber.SetInputBufferTypeToRGB()
    grabber.ReadFrontBufferOff()
    grabber.ShouldRerenderOff()  # the frame is already drawn; a re-render would cost a second ray cast
    grabber.Update()
    data = grabber.GetOutput()
    width, height, _ = data.GetDimensions()
    pixels = numpy_support.vtk_to_numpy(data.GetPointData().GetScalars()).reshape(height, width, -1)
    return np.ascontiguousarray(pixels[::-1, :, :3])
