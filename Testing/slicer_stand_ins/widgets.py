"""Stand-ins for the Slicer-only widgets of ``Resources/UI/SynthTrustSlicer.ui``, for PySide6 offscreen tests.

These are NOT Slicer's widgets: they are same-named PySide6 classes (QUiLoader matches custom widgets by
class name) that offer the few properties, signals and methods the panel code uses, so the real ``.ui``
loads with the right kinds of widgets and the panel and widget can be tested without the Slicer
application. Each class says what it stands in for and what it leaves out.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


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
    vtkMRMLScene from slicer-core) and follows the scene as the real one does: added nodes appear, removed
    nodes disappear (a removed current node is deselected), nodes hidden from editors are not listed, and
    with ``noneEnabled`` false the first node is selected when there is one. No add/rename/delete menu."""

    currentNodeChanged = QtCore.Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._nodes: list = []
        self._scene = None
        self._observations: list[int] = []
        self._current = None
        self.currentIndexChanged.connect(self._on_index_changed)

    # PythonQt style ``combo.nodeTypes = [...]`` (the parameter-node connector sets it); the .ui sets the
    # same names as dynamic properties.
    def _get_node_types(self) -> list:
        return list(self.property("nodeTypes") or [])

    def _set_node_types(self, types) -> None:
        self.setProperty("nodeTypes", list(types))
        self.refresh()

    nodeTypes = property(_get_node_types, _set_node_types)

    @QtCore.Slot("vtkMRMLScene*")
    def setMRMLScene(self, scene) -> None:
        if self._scene is not None:
            for tag in self._observations:
                self._scene.RemoveObserver(tag)
        self._scene, self._observations = scene, []
        if scene is not None:
            for event in (scene.NodeAddedEvent, scene.NodeRemovedEvent, scene.EndCloseEvent, scene.EndImportEvent):
                self._observations.append(scene.AddObserver(event, lambda caller, event: self.refresh()))
        self.refresh()

    def mrmlScene(self):
        return self._scene

    def _listed(self, node) -> bool:
        return node.GetScene() is not None and not node.GetHideFromEditors()

    def refresh(self) -> None:
        """Rebuild the list from the scene, keeping the current node while it is still there."""
        nodes = []
        if self._scene is not None:
            for class_name in self.nodeTypes:
                collection = self._scene.GetNodesByClass(class_name)
                nodes += [collection.GetItemAsObject(i) for i in range(collection.GetNumberOfItems())]
        nodes = [node for node in nodes if self._listed(node)]
        none_enabled = bool(self.property("noneEnabled"))
        previous = self._current
        self.blockSignals(True)
        self.clear()
        self._nodes = ([None] if none_enabled else []) + nodes
        for node in self._nodes:
            self.addItem(self.property("noneDisplay") or "None" if node is None else node.GetName())
        current = previous if previous in self._nodes else (None if none_enabled or not nodes else nodes[0])
        self.setCurrentIndex(self._nodes.index(current) if current in self._nodes else -1)
        self.blockSignals(False)
        self._set_current(current)

    def _on_index_changed(self, index: int) -> None:
        self._set_current(self._nodes[index] if 0 <= index < len(self._nodes) else None)

    def _set_current(self, node) -> None:
        if node is not self._current:
            self._current = node
            self.currentNodeChanged.emit(node)

    def currentNode(self):
        return self._current

    def currentNodeID(self) -> str:
        return self._current.GetID() if self._current is not None else ""

    def setCurrentNode(self, node) -> None:
        if node is not None and node not in self._nodes:
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

    # What the module calls on enter/exit (as Slicer's Segment Editor module does); recorded so tests can
    # check that nothing stays installed while another module is shown.
    shortcutsInstalled = False
    activeEffect = None
    viewsObserved = False

    def installKeyboardShortcuts(self) -> None:
        self.shortcutsInstalled = True

    def uninstallKeyboardShortcuts(self) -> None:
        self.shortcutsInstalled = False

    def setActiveEffect(self, effect) -> None:
        self.activeEffect = effect

    def setActiveEffectByName(self, name: str) -> None:
        self.activeEffect = name

    def updateWidgetFromMRML(self) -> None:
        self.viewsObserved = True  # the real one (re)observes the slice views here

    def removeViewObservations(self) -> None:
        self.viewsObserved = False


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
    """Stand-in for qMRMLPlotView: a placeholder label where Slicer draws the plot; it keeps the scene and
    the plot view node it was given (the tests read them)."""

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


