"""Core objects <-> MRML nodes: volumes, segmentations, tables, plots, subject-hierarchy folders and
provenance attributes. Geometry is exact: RAS in MRML, LPS in the core (``diag(-1, -1, 1)``)."""

from __future__ import annotations

import json

import numpy as np
import slicer
import vtk
from vtk.util import numpy_support

from synthtrust.imaging.image import Geometry, Image
from synthtrust.labels.schema import LabelSchema
from synthtrust.provenance import json_text
from synthtrust.scene.session import SceneSession
from synthtrust.scene.transactions import scratch_nodes

ATTRIBUTE_PREFIX = "SynthTrust."


def attribute_text(value) -> str:
    """An attribute's text: strings as they are, anything else as strict JSON (NaN becomes null, so the
    value reads back with any JSON parser; objects JSON has no type for are written as their ``str``)."""
    return value if isinstance(value, str) else json_text(value, indent=None, default=str)


def set_attributes(node, attributes: dict | None) -> None:
    """Store provenance as node attributes (``SynthTrust.<key>``; nested values as JSON); saved with the scene."""
    for key, value in (attributes or {}).items():
        node.SetAttribute(ATTRIBUTE_PREFIX + key, attribute_text(value))


def get_attributes(node) -> dict:
    result = {}
    for name in node.GetAttributeNames() or ():
        if name.startswith(ATTRIBUTE_PREFIX):
            text = node.GetAttribute(name)
            try:
                result[name[len(ATTRIBUTE_PREFIX):]] = json.loads(text)
            except (TypeError, json.JSONDecodeError):
                result[name[len(ATTRIBUTE_PREFIX):]] = text
    return result


def remove_node(session: SceneSession, node) -> None:
    """Remove ``node`` with the display and storage nodes only it uses."""
    helpers = []
    for getter, count in (("GetNthDisplayNode", "GetNumberOfDisplayNodes"),
                          ("GetNthStorageNode", "GetNumberOfStorageNodes")):
        if hasattr(node, count):
            helpers += [getattr(node, getter)(i) for i in range(getattr(node, count)())]
    session.scene.RemoveNode(node)
    for helper in helpers:
        if helper is not None and helper.GetScene() is not None:
            session.scene.RemoveNode(helper)


def singleton_node(session: SceneSession, class_name: str, tag: str):
    """The scene's node of ``class_name`` with singleton ``tag``, created (empty) when absent."""
    node = session.scene.GetSingletonNode(tag, class_name)
    if node is None:
        node = session.scene.CreateNodeByClass(class_name)
        node.UnRegister(None)  # CreateNodeByClass hands over a reference; the scene keeps its own
        node.SetSingletonTag(tag)
        node = session.scene.AddNode(node)
    return node


def module_parameter_node(session: SceneSession, module_name: str):
    """The scene's parameter node of a scripted module, as Slicer's ``ScriptedLoadableModuleLogic``
    keeps it: a ``vtkMRMLScriptedModuleNode`` with singleton tag and ``ModuleName`` attribute set to the
    module's name (restored when a scene close removed it), created when absent."""
    node = session.scene.GetSingletonNode(module_name, "vtkMRMLScriptedModuleNode")
    if node is None:
        node = session.scene.CreateNodeByClass("vtkMRMLScriptedModuleNode")
        node.UnRegister(None)  # CreateNodeByClass hands over a reference; the scene keeps its own
        node.SetName(session.scene.GenerateUniqueName(module_name))
        node.SetSingletonTag(module_name)
        node.SetAttribute("ModuleName", module_name)
        node = session.scene.AddNode(node)
    elif node.GetAttribute("ModuleName") != module_name:
        node.SetAttribute("ModuleName", module_name)
    return node


def _matrix(array: np.ndarray) -> vtk.vtkMatrix4x4:
    matrix = vtk.vtkMatrix4x4()
    for row in range(4):
        for column in range(4):
            matrix.SetElement(row, column, float(array[row, column]))
    return matrix


def _place(session: SceneSession, node, parent_folder) -> None:
    if parent_folder is not None:
        hierarchy = session.subject_hierarchy()
        item = hierarchy.GetItemByDataNode(node)
        # Slicer's subject-hierarchy plugins add items for new nodes; headless (slicer-core) we add them.
        if item == hierarchy.GetInvalidItemID():
            hierarchy.CreateItem(parent_folder, node)
        else:
            hierarchy.SetItemParent(item, parent_folder)


def _image_data(array: np.ndarray) -> vtk.vtkImageData:
    data = vtk.vtkImageData()
    data.SetDimensions(array.shape[2], array.shape[1], array.shape[0])
    scalars = numpy_support.numpy_to_vtk(np.ascontiguousarray(array).ravel(), deep=True)
    data.GetPointData().SetScalars(scalars)
    return data


def add_volume(session: SceneSession, image: Image, name: str, attributes: dict | None = None,
               parent_folder=None, label_map: bool = False, transient: bool = False):
    """A new scalar (or label map) volume node holding a copy of ``image``. ``transient``: a display-only
    node (e.g. a preview overlay), hidden from node selectors and the Data module and never saved with
    the scene, nor are its display nodes."""
    class_name = "vtkMRMLLabelMapVolumeNode" if label_map else "vtkMRMLScalarVolumeNode"
    node = session.scene.CreateNodeByClass(class_name)
    node.UnRegister(None)  # CreateNodeByClass hands over a reference; the scene keeps its own
    node.SetName(session.scene.GenerateUniqueName(name))
    if transient:
        # Before AddNode: Slicer's subject hierarchy adds no item for a node hidden from editors.
        node.SetHideFromEditors(True)
        node.SetSaveWithScene(False)
    node = session.scene.AddNode(node)
    node.SetIJKToRASMatrix(_matrix(image.geometry.ijk_to_ras()))
    node.SetAndObserveImageData(_image_data(image.array))
    node.CreateDefaultDisplayNodes()
    if transient:
        for index in range(node.GetNumberOfDisplayNodes()):
            node.GetNthDisplayNode(index).SetHideFromEditors(True)
            node.GetNthDisplayNode(index).SetSaveWithScene(False)
    set_attributes(node, attributes)
    _place(session, node, parent_folder)
    return node


def image_from_volume(node) -> Image:
    """The volume's voxels and geometry as a core image (a copy)."""
    data = node.GetImageData()
    dimensions = data.GetDimensions()
    array = numpy_support.vtk_to_numpy(data.GetPointData().GetScalars()).reshape(dimensions[::-1]).copy()
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    ras = np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])
    return Image(array, Geometry.from_ijk_to_ras(ras, dimensions), node.GetName())


def add_segmentation(session: SceneSession, labels: Image, schema: LabelSchema, name: str, reference_volume=None,
                     attributes: dict | None = None, parent_folder=None, closed_surface: bool = False):
    """A segmentation node with one segment per label value present (names and colours from the schema)."""
    node = session.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    node.CreateDefaultDisplayNodes()
    if reference_volume is not None:
        node.SetReferenceImageGeometryParameterFromVolumeNode(reference_volume)
    segmentation = node.GetSegmentation()
    for value in sorted(int(v) for v in np.unique(labels.array) if v != 0):
        label_name = schema.labels.get(value, f"label {value}")
        segment_id = segmentation.AddEmptySegment(label_name.replace(" ", "_"), label_name,
                                                  schema.colors.get(value, (0.5, 0.5, 0.5)))
        with scratch_nodes(session):
            single = labels.with_array((labels.array == value).astype(np.uint8))
            mask_node = add_volume(session, single, f"{name} {label_name}", label_map=True)
            ids = vtk.vtkStringArray()
            ids.InsertNextValue(segment_id)
            session.logics["Segmentations"].ImportLabelmapToSegmentationNode(mask_node, node, ids)
        segmentation.GetSegment(segment_id).SetTag("SynthTrust.LabelValue", str(value))
    if closed_surface:
        node.CreateClosedSurfaceRepresentation()
    set_attributes(node, {"schema": schema.name, **(attributes or {})})
    _place(session, node, parent_folder)
    return node


def labels_from_segmentation(session: SceneSession, node, schema: LabelSchema, reference_volume) -> Image:
    """Back to a label map on the reference volume's grid (each segment's label value from its tag or name)."""
    reference = image_from_volume(reference_volume)
    result = np.zeros(reference.array.shape, np.uint8)
    segmentation = node.GetSegmentation()
    by_name = {name: value for value, name in schema.labels.items()}
    for index in range(segmentation.GetNumberOfSegments()):
        segment_id = segmentation.GetNthSegmentID(index)
        segment = segmentation.GetSegment(segment_id)
        tag = vtk.mutable("")
        value = int(str(tag)) if segment.GetTag("SynthTrust.LabelValue", tag) else by_name[segment.GetName()]
        with scratch_nodes(session):
            exported = session.scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "export")
            ids = vtk.vtkStringArray()
            ids.InsertNextValue(segment_id)
            session.logics["Segmentations"].ExportSegmentsToLabelmapNode(node, ids, exported, reference_volume)
            mask = image_from_volume(exported).array > 0
        result[mask] = value
    return reference.with_array(result, name=node.GetName())


def add_table(session: SceneSession, rows: list[dict], name: str, column_descriptions: dict | None = None,
              attributes: dict | None = None, parent_folder=None):
    """A table node: numeric columns as doubles, everything else as strings; descriptions become tooltips."""
    node = session.scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    table = node.GetTable()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    def all_of(column, kinds) -> bool:
        return all(isinstance(r.get(column), kinds) and not isinstance(r.get(column), bool) for r in rows
                   if column in r)

    for column in columns:
        # Whole numbers (seeds, voxel counts) stay integers, so the table shows 3, not 3.000.
        integer = all_of(column, (int, np.integer)) and all(column in r for r in rows)
        numeric = integer or all_of(column, (int, float, np.number))
        array = vtk.vtkIntArray() if integer else vtk.vtkDoubleArray() if numeric else vtk.vtkStringArray()
        array.SetName(column)
        array.SetNumberOfValues(len(rows))
        for index, row in enumerate(rows):
            value = row.get(column, float("nan") if numeric else "")
            array.SetValue(index, int(value) if integer else float(value) if numeric else str(value))
        table.AddColumn(array)
    for column, description in (column_descriptions or {}).items():
        if column in columns:
            node.SetColumnDescription(column, description)
    set_attributes(node, attributes)
    node.Modified()
    _place(session, node, parent_folder)
    return node


def table_rows(node) -> list[dict]:
    table = node.GetTable()
    rows = []
    for index in range(table.GetNumberOfRows()):
        row = {}
        for column in range(table.GetNumberOfColumns()):
            array = table.GetColumn(column)
            value = array.GetValue(index)
            row[array.GetName()] = (int(value) if isinstance(array, vtk.vtkIntArray) else
                                    float(value) if isinstance(array, vtk.vtkDoubleArray) else str(value))
        rows.append(row)
    return rows


def add_plot(session: SceneSession, table_node, x_column: str, y_columns: list[str], title: str,
             kind: str = "scatter", parent_folder=None, name: str = ""):
    """A plot chart with one series per y column, drawn from ``table_node``; ``name`` (default: the
    title) names the chart and series nodes, so several runs' charts can share one title."""
    name = name or title
    chart = session.scene.AddNewNodeByClass("vtkMRMLPlotChartNode", name)
    chart.SetTitle(title)
    chart.SetXAxisTitle(x_column)
    for column in y_columns:
        series = session.scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode", f"{name}: {column}")
        series.SetAndObserveTableNodeID(table_node.GetID())
        series.SetXColumnName(x_column)
        series.SetYColumnName(column)
        series.SetPlotType(slicer.vtkMRMLPlotSeriesNode.PlotTypeBar if kind == "bar"
                           else slicer.vtkMRMLPlotSeriesNode.PlotTypeScatter)
        chart.AddAndObservePlotSeriesNodeID(series.GetID())
        _place(session, series, parent_folder)
    _place(session, chart, parent_folder)
    return chart


def create_run_folder(session: SceneSession, name: str, attributes: dict | None = None) -> int:
    """A subject-hierarchy folder grouping one run's nodes; its attributes hold the run's provenance."""
    hierarchy = session.subject_hierarchy()
    item = hierarchy.CreateFolderItem(hierarchy.GetSceneItemID(), name)
    for key, value in (attributes or {}).items():
        hierarchy.SetItemAttribute(item, ATTRIBUTE_PREFIX + key, attribute_text(value))
    return item
