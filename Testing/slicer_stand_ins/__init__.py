"""Stand-ins for the Slicer-only widgets of ``Resources/UI/SynthTrustSlicer.ui``, for PySide6 offscreen tests.

These are NOT Slicer's widgets: they are same-named PySide6 classes (QUiLoader matches custom widgets by
class name) that offer the few properties, signals and methods the panel code uses, so the real ``.ui``
loads with the right kinds of widgets and the panel controller can be tested without the Slicer
application. Each class says what it stands in for and what it leaves out.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets
from PySide6.QtUiTools import QUiLoader


class qSlicerWidget(QtWidgets.QWidget):
    """Stand-in for Slicer's qSlicerWidget: holds a scene reference only."""

    @QtCore.Slot("vtkMRMLScene*")
    def setMRMLScene(self, scene) -> None:
        self._scene = scene

    def mrmlScene(self):
        return getattr(self, "_scene", None)


class qMRMLWidget(qSlicerWidget):
    """Stand-in for qMRMLWidget. The real one emits mrmlSceneChanged(vtkMRMLScene*), which the .ui
    connects to every MRML child; PySide6 cannot emit a pointer of an unregistered type, so this one
    hands the scene to its stand-in children directly."""

    mrmlSceneChanged = QtCore.Signal("vtkMRMLScene*")

    @QtCore.Slot("vtkMRMLScene*")
    def setMRMLScene(self, scene) -> None:
        super().setMRMLScene(scene)
        for child in self.findChildren(QtWidgets.QWidget):
            if child is not self and hasattr(child, "setMRMLScene") and not isinstance(child, qMRMLWidget):
                child.setMRMLScene(scene)


class ctkCollapsibleButton(QtWidgets.QGroupBox):
    """Stand-in for ctkCollapsibleButton: a group box whose ``text`` is the title and whose ``collapsed``
    hides the contents (the real one is a button that folds its children away)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._collapsed = False
        self._folded: list = []  # children hidden by collapsing, shown again on expanding (not the others)

    def _get_text(self) -> str:
        return self.title().lstrip("\u25b8\u25be ")

    def _set_text(self, text: str) -> None:
        self.setTitle(text)

    def _get_collapsed(self) -> bool:
        return self._collapsed

    def _set_collapsed(self, collapsed: bool) -> None:
        self._collapsed = bool(collapsed)
        self._apply_collapsed()

    def _apply_collapsed(self) -> None:
        if self._collapsed:
            for child in self.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindDirectChildrenOnly):
                if not child.isHidden():
                    child.hide()
                    self._folded.append(child)
        else:
            for child in self._folded:
                child.show()
            self._folded = []
        self.setTitle(("\u25b8 " if self._collapsed else "\u25be ") + self._get_text())

    def showEvent(self, event) -> None:
        # QUiLoader sets ``collapsed`` before it adds the children: fold them once shown.
        self._apply_collapsed()
        super().showEvent(event)

    text = QtCore.Property(str, _get_text, _set_text)
    collapsed = QtCore.Property(bool, _get_collapsed, _set_collapsed)


class qMRMLNodeComboBox(QtWidgets.QComboBox):
    """Stand-in for qMRMLNodeComboBox: lists the scene's nodes of the ``nodeTypes`` classes (a real
    vtkMRMLScene from slicer-core works) and offers currentNode()/setCurrentNode(); no add/rename menu."""

    currentNodeChanged = QtCore.Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._nodes: list = []
        self.currentIndexChanged.connect(lambda _: self.currentNodeChanged.emit(self.currentNode()))

    @QtCore.Slot("vtkMRMLScene*")
    def setMRMLScene(self, scene) -> None:
        self._scene = scene
        self.refresh()

    def refresh(self) -> None:
        scene = getattr(self, "_scene", None)
        types = self.property("nodeTypes") or []
        nodes = []
        if scene is not None:
            for class_name in types:
                collection = scene.GetNodesByClass(class_name)
                nodes += [collection.GetItemAsObject(i) for i in range(collection.GetNumberOfItems())]
        self.blockSignals(True)
        self.clear()
        self._nodes = ([None] if self.property("noneEnabled") else []) + nodes
        for node in self._nodes:
            self.addItem(self.property("noneDisplay") or "None" if node is None else node.GetName())
        self.blockSignals(False)

    def currentNode(self):
        index = self.currentIndex()
        return self._nodes[index] if 0 <= index < len(self._nodes) else None

    def setCurrentNode(self, node) -> None:
        if node not in self._nodes:
            self.refresh()
        if node in self._nodes:
            self.setCurrentIndex(self._nodes.index(node))


class ctkSliderWidget(QtWidgets.QDoubleSpinBox):
    """Stand-in for ctkSliderWidget (slider + spin box): a spin box with the same value/range properties."""


class ctkPathLineEdit(QtWidgets.QLineEdit):
    """Stand-in for ctkPathLineEdit: a line edit with ``currentPath``; no browse button or history."""

    currentPathChanged = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.textChanged.connect(self.currentPathChanged.emit)

    def _get_path(self) -> str:
        return self.text()

    def _set_path(self, path: str) -> None:
        self.setText(path)

    currentPath = QtCore.Property(str, _get_path, _set_path)


class qMRMLSegmentEditorWidget(qMRMLWidget):
    """Stand-in for Slicer's Segment Editor widget: a placeholder label; remembers the nodes it is given."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        label = QtWidgets.QLabel("Segment Editor (Paint, Draw, Erase, Islands, Smoothing...)\n"
                                 "shown here inside 3D Slicer")
        label.setAlignment(QtCore.Qt.AlignCenter)
        label.setFrameShape(QtWidgets.QFrame.StyledPanel)
        label.setMinimumHeight(70)
        layout.addWidget(label)
        self.segmentationNode = self.sourceVolumeNode = self.segmentEditorNode = None

    def setMRMLSegmentEditorNode(self, node) -> None:
        self.segmentEditorNode = node

    def setSegmentationNode(self, node) -> None:
        self.segmentationNode = node

    def setSourceVolumeNode(self, node) -> None:
        self.sourceVolumeNode = node


class qMRMLTableView(QtWidgets.QTableWidget):
    """Stand-in for qMRMLTableView: copies a vtkMRMLTableNode's cells into a QTableWidget (read-only),
    with column descriptions as header tooltips as Slicer shows them."""

    @QtCore.Slot("vtkMRMLScene*")
    def setMRMLScene(self, scene) -> None:
        self._scene = scene

    def setMRMLTableNode(self, node) -> None:
        self._node = node
        table = node.GetTable()
        rows, columns = table.GetNumberOfRows(), table.GetNumberOfColumns()
        self.setRowCount(rows)
        self.setColumnCount(columns)
        for column in range(columns):
            name = table.GetColumnName(column)
            header = QtWidgets.QTableWidgetItem(name)
            header.setToolTip(node.GetColumnDescription(name) or "")
            self.setHorizontalHeaderItem(column, header)
            for row in range(rows):
                value = table.GetValue(row, column)
                text = f"{value.ToDouble():.3f}" if value.IsNumeric() else value.ToString()
                self.setItem(row, column, QtWidgets.QTableWidgetItem(text))

    def mrmlTableNode(self):
        return getattr(self, "_node", None)


class qMRMLPlotView(QtWidgets.QLabel):
    """Stand-in for qMRMLPlotView: shows the chart's title instead of drawing the plot."""

    def __init__(self, parent=None):
        super().__init__("Plot view (drawn by 3D Slicer)", parent)
        self.setAlignment(QtCore.Qt.AlignCenter)
        self.setFrameShape(QtWidgets.QFrame.StyledPanel)

    @QtCore.Slot("vtkMRMLScene*")
    def setMRMLScene(self, scene) -> None:
        self._scene = scene

    def setMRMLPlotViewNode(self, node) -> None:
        self._view_node = node


class qSlicerMarkupsPlaceWidget(qSlicerWidget):
    """Stand-in for qSlicerMarkupsPlaceWidget: one tool button; placing points needs Slicer's views."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.placeButton = QtWidgets.QToolButton()
        self.placeButton.setText("\u271a")
        layout.addWidget(self.placeButton)
        self.currentNode = None

    def setCurrentNode(self, node) -> None:
        self.currentNode = node


STAND_INS = (qSlicerWidget, qMRMLWidget, ctkCollapsibleButton, qMRMLNodeComboBox, ctkSliderWidget, ctkPathLineEdit,
             qMRMLSegmentEditorWidget, qMRMLTableView, qMRMLPlotView, qSlicerMarkupsPlaceWidget)


class UiNamespace:
    """What ``slicer.util.childWidgetVariables`` returns: each named child widget as an attribute."""

    def __init__(self, root: QtWidgets.QWidget):
        for child in root.findChildren(QtCore.QObject):
            if child.objectName():
                setattr(self, child.objectName(), child)


def load_panel(ui_path: str | Path) -> tuple[QtWidgets.QWidget, UiNamespace]:
    """Load the module's .ui with the stand-ins registered; returns the top widget and its namespace."""
    loader = QUiLoader()
    for cls in STAND_INS:
        loader.registerCustomWidget(cls)
    widget = loader.load(str(ui_path))
    if widget is None:
        raise RuntimeError(f"QUiLoader could not load {ui_path}: {loader.errorString()}")
    return widget, UiNamespace(widget)
