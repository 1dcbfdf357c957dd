"""A scene plus the module logics that MRML needs: owned (headless, slicer-core) or borrowed (inside 3D
Slicer). Only MRML classes present both in 3D Slicer and in the slicer-core wheel are used."""

from __future__ import annotations

import types

import slicer


class SceneSession:
    """The scene and logics the adapter works with; see :meth:`create` and :meth:`from_running_slicer`."""

    def __init__(self, scene, application_logic, logics: dict, owned: bool):
        self.scene = scene
        self.application_logic = application_logic
        self.logics = logics
        self.owned = owned

    @classmethod
    def create(cls) -> SceneSession:
        """A fresh headless scene with volumes, segmentations, tables, plots, subject hierarchy, colors and
        volume rendering logics, and ``slicer.util`` helpers wired to it (as the Slicer application does)."""
        if getattr(slicer, "app", None) is not None and hasattr(slicer.app, "mrmlScene"):
            return cls.from_running_slicer()
        scene = slicer.vtkMRMLScene()
        application = slicer.vtkSlicerApplicationLogic()
        application.SetMRMLScene(scene)
        colors = application.GetColorLogic() or slicer.vtkMRMLColorLogic()
        application.SetColorLogic(colors)
        colors.SetMRMLScene(scene)
        colors.AddDefaultColorNodes()
        logics = {"Colors": colors}
        for name, factory, needs_application in (
            ("Volumes", slicer.vtkSlicerVolumesLogic, True),
            ("Segmentations", slicer.vtkSlicerSegmentationsModuleLogic, True),
            ("Tables", slicer.vtkSlicerTablesLogic, False),
            ("Plots", slicer.vtkSlicerPlotsLogic, True),
            ("SubjectHierarchy", slicer.vtkSlicerSubjectHierarchyModuleLogic, False),
            ("VolumeRendering", slicer.vtkSlicerVolumeRenderingLogic, True),
        ):
            logic = factory()
            if needs_application:
                logic.SetMRMLApplicationLogic(application)
            logic.SetMRMLScene(scene)
            application.SetModuleLogic(name, logic)
            logics[name] = logic
        session = cls(scene, application, logics, owned=True)
        session.activate()
        return session

    @classmethod
    def from_running_slicer(cls) -> SceneSession:
        """Borrow the running application's scene and logics (never replaced, never cleared)."""
        application = slicer.app.applicationLogic()
        logics = {name: application.GetModuleLogic(name) for name in
                  ("Volumes", "Segmentations", "Tables", "Plots", "SubjectHierarchy", "VolumeRendering", "Colors")}
        return cls(slicer.app.mrmlScene(), application, logics, owned=False)

    def activate(self) -> None:
        """Point ``slicer.mrmlScene`` and ``slicer.modules.<name>.logic()`` at this headless session so
        ``slicer.util`` helpers work; a borrowed (real Slicer) session is left alone."""
        if not self.owned:
            return
        slicer.mrmlScene = self.scene
        slicer.app = None
        modules = {name.lower(): types.SimpleNamespace(logic=(lambda logic=logic: logic))
                   for name, logic in self.logics.items()}
        slicer.modules = types.SimpleNamespace(**modules)

    def subject_hierarchy(self):
        return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(self.scene)

    def nodes_by_class(self, class_name: str) -> list:
        collection = self.scene.GetNodesByClass(class_name)
        return [collection.GetItemAsObject(i) for i in range(collection.GetNumberOfItems())]

    def node_by_name(self, name: str, class_name: str = "vtkMRMLNode"):
        for node in self.nodes_by_class(class_name):
            if node.GetName() == name:
                return node
        raise KeyError(f"no {class_name} named {name!r} in the scene")
