"""The panel's choice boxes whose items come from the core at run time: engine (with its description),
generator model, the synthesis and segmentation devices, and the segmenter list.

:class:`ChoiceBoxes` fills them from the GUI-free logic (``SynthTrustSlicerLib.logic``) and writes the
user's picks into the parameter node. It keeps to the Qt subset shared by Slicer's PythonQt and PySide6
(properties as attributes), so the offscreen tests drive it on the real ``.ui``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

try:  # PySide6 only: Qt properties as attributes, as in PythonQt (which has no __feature__ module)
    from __feature__ import true_property  # noqa: F401
except ImportError:
    pass

try:  # 3D Slicer
    import qt as _qt

    QListWidgetItem, Qt = _qt.QListWidgetItem, _qt.Qt
except ImportError:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QListWidgetItem

from . import dependencies
from .parameters import channel_pairs

DEFAULT_MODEL_TEXT = "(default for the task)"
NO_DEFAULT_MODEL_TEXT = "(no default for these channels: pick a model or a local file)"
MODEL_WIDGETS = ("modelComboBox", "modelPathLineEdit", "stepsSpinBox", "guidanceCheckBox")


class ChoiceBoxes:
    """``logic``: the GUI-free logic (engines, generator_models, segmenter_models); ``batch()``: a context
    manager grouping parameter-node writes into one modification (Slicer's ``NodeModify``); ``devices()``:
    (choices, status line) for the device boxes, by default ``dependencies.device_choices`` (which also says
    when the GPU cannot be used)."""

    def __init__(self, ui, logic, batch: Callable | None = None, devices: Callable | None = None):
        self.ui, self.logic = ui, logic
        self.batch = batch or (lambda: contextlib.nullcontext())
        self.devices = devices or dependencies.device_choices
        self.device_status = ""
        self.descriptions: dict[str, str] = {}
        self.generators: list[dict] = []
        self.task = None

    def fill(self, pn) -> None:
        """Engines, generators, segmenters (they depend on the task) and devices."""
        ui, self.task = self.ui, pn.task.value
        engines = self.logic.engines()
        self.descriptions = dict(engines)
        self.generators = self.logic.generator_models(self.task)
        refill(ui.engineComboBox, [(name, name) for name, _d in engines], pn.engine)
        refill(ui.modelComboBox, [("", DEFAULT_MODEL_TEXT)] + [(m["id"], m["title"]) for m in self.generators],
               pn.model)
        ui.segmenterListWidget.clear()
        models = self.logic.segmenter_models(self.task)
        # Ticks of another task (the sample heart after a brain run) do not carry over: its first model does.
        chosen = set(filter(None, pn.segmenters.split(","))) & {model["id"] for model in models}
        for index, model in enumerate(models):
            item = QListWidgetItem(f"{model['title']} ({', '.join(model['channels'])})")
            item.setData(Qt.UserRole, model["id"])
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if model["id"] in chosen or (not chosen and index == 0) else Qt.Unchecked)
            ui.segmenterListWidget.addItem(item)
        self.fill_devices(pn)
        self.engine_changed(pn)

    def fill_devices(self, pn) -> None:
        """Both device boxes from the logic; called again once PyTorch is installed (first Apply)."""
        devices, self.device_status = self.devices()
        refill(self.ui.deviceComboBox, devices, pn.device)
        refill(self.ui.segmentDeviceComboBox, devices, pn.segmentationDevice)
        self.store(pn)  # a device no longer offered (e.g. a GPU this PyTorch cannot use) falls back in pn too

    def default_generator(self, pn) -> dict | None:
        """The shipped generator the chosen engine would use for the chosen channels, or None."""
        if pn.engine == "template":
            return None
        from .logic import pick_default_generator  # the logic needs slicer-core; the boxes alone do not

        return pick_default_generator(self.generators, [m for _v, m in channel_pairs(pn)], pn.engine)

    def engine_changed(self, pn) -> None:
        engine = current_value(self.ui.engineComboBox) or "template"
        self.ui.engineDescriptionLabel.text = self.descriptions.get(engine, "")
        for name in MODEL_WIDGETS:
            getattr(self.ui, name).enabled = engine != "template"  # the template engine has no model or steps
        self.store(pn)
        self.describe_default_model(pn)

    def describe_default_model(self, pn) -> None:
        """The first model entry names the generator the core will load when no model is picked."""
        if pn is None or self.ui.modelComboBox.count == 0:
            return
        default = self.default_generator(pn)
        text = f"Default: {default['title']}" if default else DEFAULT_MODEL_TEXT
        if pn.engine != "template" and default is None:
            text = NO_DEFAULT_MODEL_TEXT
        self.ui.modelComboBox.setItemText(0, text)

    def store(self, pn) -> None:
        """The boxes' current picks into the parameter node."""
        if pn is None:
            return
        ui = self.ui
        items = [ui.segmenterListWidget.item(i) for i in range(ui.segmenterListWidget.count)]
        with self.batch():
            pn.engine = current_value(ui.engineComboBox) or "template"
            pn.model = current_value(ui.modelComboBox) or ""
            pn.modelPath = ui.modelPathLineEdit.currentPath
            pn.segmenterPath = ui.segmenterPathLineEdit.currentPath
            pn.segmenters = ",".join(item.data(Qt.UserRole) for item in items if item.checkState() == Qt.Checked)
            pn.device = current_value(ui.deviceComboBox) or "auto"
            pn.segmentationDevice = current_value(ui.segmentDeviceComboBox) or "auto"


def current_value(combo):
    """The current item's data (PySide6 keeps ``currentData`` a method, PythonQt makes it a property)."""
    return combo.itemData(combo.currentIndex) if combo.currentIndex >= 0 else None


def refill(combo, items, current) -> None:
    """Replace a combo box's (value, text) items, keeping ``current`` selected when it is still offered."""
    combo.blockSignals(True)
    combo.clear()
    for value, text in items:
        combo.addItem(text, value)
    index = combo.findData(current)
    combo.currentIndex = index if index >= 0 else 0
    combo.blockSignals(False)
