"""``slicer.parameterNodeWrapper`` as Slicer 5.10 has it (``Base/Python/slicer/parameterNodeWrapper``), for
the types the module declares: bool, int, float, str, enums and MRML nodes, with ``WithinRange``.

Kept from Slicer: values live in the ``vtkMRMLScriptedModuleNode`` (numbers and strings as parameters,
enums by member name, nodes as node references); a missing parameter is written with its default when the
wrapper is made; a validator refuses a bad value with ValueError and the node keeps its old value;
``connectGui(ui)`` binds every widget whose ``SlicerParameterName`` property names a parameter, choosing the
connector by the widget's exact class and the parameter's type (an unsupported pair is a RuntimeError, as
in Slicer), writes the node's values into the widgets, and from then on keeps both in step; the wrapper
forwards ``AddObserver``/``RemoveObserver``/``StartModify``/``EndModify`` to the node.
Left out: parameter packs, caching, Path/QColor/list/union types.
"""

from __future__ import annotations

import enum
import types
import typing

import vtk
from PySide6 import QtWidgets

from . import widgets

SLICER_PARAMETER_NAME = "SlicerParameterName"


# ------------------------------------------------------------------------------------------- validators
class WithinRange:
    def __init__(self, minimum, maximum):
        self.minimum, self.maximum = minimum, maximum

    def validate(self, value) -> None:
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"Value must be within range [{self.minimum}, {self.maximum}], is {value}")


class Minimum:
    def __init__(self, minimum):
        self.minimum = minimum

    def validate(self, value) -> None:
        if value < self.minimum:
            raise ValueError(f"Value must be greater than or equal to {self.minimum}, is {value}")


class Maximum:
    def __init__(self, maximum):
        self.maximum = maximum

    def validate(self, value) -> None:
        if value > self.maximum:
            raise ValueError(f"Value must be less than or equal to {self.maximum}, is {value}")


# ------------------------------------------------------------------------------------------- serializers
def _is_node_type(kind) -> bool:
    import slicer

    return isinstance(kind, type) and issubclass(kind, slicer.vtkMRMLNode)


class Parameter:
    """One declared field: its type, validators and default; reads and writes the parameter node."""

    def __init__(self, name: str, annotation):
        self.name = name
        self.annotation = annotation
        self.kind, extras = annotation, ()
        if typing.get_origin(annotation) is typing.Annotated:
            self.kind, *extras = typing.get_args(annotation)
        self.validators = [extra for extra in extras if hasattr(extra, "validate")]
        if self.kind not in (bool, int, float, str) and not _is_node_type(self.kind) and not (
                isinstance(self.kind, type) and issubclass(self.kind, enum.Enum)):
            raise Exception(f"Unable to create serializer for member {name} of type {self.kind}")
        self.default = None

    def default_default(self):
        if isinstance(self.kind, type) and issubclass(self.kind, enum.Enum):
            return next(iter(self.kind))
        return None if _is_node_type(self.kind) else self.kind()

    def validate(self, value) -> None:
        if isinstance(self.kind, type) and issubclass(self.kind, enum.Enum) or _is_node_type(self.kind):
            if value is not None and not isinstance(value, self.kind):
                raise TypeError(f"Value must be of type '{self.kind}', is type '{type(value)}' value '{value}'")
        for validator in self.validators:
            validator.validate(value)

    def is_in(self, node) -> bool:
        return node.GetParameterNames() is not None and self.name in list(node.GetParameterNames())

    def write(self, node, value) -> None:
        self.validate(value)
        if _is_node_type(self.kind):
            node.SetParameter(self.name, "")  # so is_in finds it, as Slicer does
            node.SetNodeReferenceID(self.name, value.GetID() if value is not None else None)
        elif isinstance(self.kind, type) and issubclass(self.kind, enum.Enum):
            node.SetParameter(self.name, value.name)
        elif self.kind is bool:
            node.SetParameter(self.name, "True" if value else "False")
        else:
            node.SetParameter(self.name, str(value))

    def read(self, node):
        if not self.is_in(node):
            self.write(node, self.default)
        if _is_node_type(self.kind):
            return node.GetNodeReference(self.name)
        text = node.GetParameter(self.name)
        if isinstance(self.kind, type) and issubclass(self.kind, enum.Enum):
            try:
                return self.kind[text]
            except KeyError as error:
                raise ValueError(f"Found {text!r} in parameter node but it is not a name in {self.kind!r}") from error
        if self.kind is bool:
            return text == "True"
        return self.kind(text)


# ------------------------------------------------------------------------------------------- GUI connectors
class Connector:
    """Keeps one widget and one parameter in step; ``changed`` is called when the user edits the widget."""

    def __init__(self, widget, parameter: Parameter):
        self.widget, self.parameter = widget, parameter
        self.callback = None

    def signal(self):
        raise NotImplementedError

    def on_changed(self, callback) -> None:
        if self.callback is not None:
            self.signal().disconnect(self._changed)
        self.callback = callback
        if callback is not None:
            self.signal().connect(self._changed)

    def _changed(self, *unused) -> None:
        if self.callback is not None:
            self.callback()


def _range(parameter: Parameter):
    limits = [v for v in parameter.validators if isinstance(v, WithinRange)]
    return (limits[0].minimum, limits[0].maximum) if limits else None


class CheckBoxConnector(Connector):
    def signal(self):
        return self.widget.stateChanged

    def read(self):
        return self.widget.isChecked()

    def write(self, value) -> None:
        self.widget.setChecked(bool(value))


class NumberConnector(Connector):
    """QSpinBox/QSlider for int, QDoubleSpinBox/ctkSliderWidget for float (or int with 0 decimals)."""

    def __init__(self, widget, parameter):
        super().__init__(widget, parameter)
        bounds = _range(parameter)
        if bounds is None and type(widget) in (QtWidgets.QSlider, widgets.ctkSliderWidget):
            raise RuntimeError(f"Cannot have a connection to {type(widget).__name__} where the number is unbounded.")
        if isinstance(widget, QtWidgets.QDoubleSpinBox) and parameter.kind is int:
            widget.setDecimals(0)
        low, high = bounds or ((-(2**31), 2**31 - 1) if parameter.kind is int else (float("-inf"), float("inf")))
        widget.setRange(low, high)

    def signal(self):
        return self.widget.valueChanged

    def read(self):
        return self.parameter.kind(self.widget.value())

    def write(self, value) -> None:
        self.widget.setValue(value)


class EnumConnector(Connector):
    def __init__(self, widget, parameter):
        super().__init__(widget, parameter)
        label = getattr(parameter.kind, "label", lambda member: member.name)
        self.members = list(parameter.kind)
        widget.clear()
        for member in self.members:
            widget.addItem(label(member))

    def signal(self):
        return self.widget.currentIndexChanged

    def read(self):
        return self.members[self.widget.currentIndex()]

    def write(self, value) -> None:
        self.widget.setCurrentIndex(self.members.index(value))


class NodeConnector(Connector):
    def __init__(self, widget, parameter):
        super().__init__(widget, parameter)
        widget.nodeTypes = [parameter.kind.__name__]

    def signal(self):
        return self.widget.currentNodeChanged

    def read(self):
        return self.widget.currentNode()

    def write(self, value) -> None:
        self.widget.setCurrentNode(value)


class LineEditConnector(Connector):
    def signal(self):
        return self.widget.textChanged

    def read(self):
        return self.widget.text()

    def write(self, value) -> None:
        self.widget.setText(value)


def create_connector(widget, parameter: Parameter) -> Connector:
    kind, widget_type = parameter.kind, type(widget)
    if kind is bool and widget_type is QtWidgets.QCheckBox:
        return CheckBoxConnector(widget, parameter)
    if kind is int and widget_type in (QtWidgets.QSpinBox, QtWidgets.QSlider):
        return NumberConnector(widget, parameter)
    if kind in (int, float) and widget_type in (QtWidgets.QDoubleSpinBox, widgets.ctkSliderWidget):
        return NumberConnector(widget, parameter)
    if isinstance(kind, type) and issubclass(kind, enum.Enum) and widget_type is QtWidgets.QComboBox:
        return EnumConnector(widget, parameter)
    if _is_node_type(kind) and widget_type is widgets.qMRMLNodeComboBox:
        return NodeConnector(widget, parameter)
    if kind is str and widget_type is QtWidgets.QLineEdit:
        return LineEditConnector(widget, parameter)
    raise RuntimeError(f"Unable to create GUI connector from datatype '{parameter.annotation}' to widget type "
                       f"'{widget_type}'.")


# ------------------------------------------------------------------------------------------- the wrapper
class _WrapperMethods:
    """Methods every wrapped class gets (Slicer adds the same names to the class)."""

    def __init__(self, parameterNode):  # noqa: N803 - Slicer's name
        self.parameterNode = parameterNode
        self._guis: dict[int, dict[str, Connector]] = {}
        self._gui_observers: dict[int, int] = {}
        self._next_tag = 0
        self._updating_gui = False
        for parameter in self.allParameters.values():
            if not parameter.is_in(parameterNode):
                parameter.write(parameterNode, parameter.default)

    def getValue(self, name: str):  # noqa: N802
        return self._parameter(name).read(self.parameterNode)

    def setValue(self, name: str, value) -> None:  # noqa: N802
        self._parameter(name).write(self.parameterNode, value)

    def default(self, name: str):
        return self._parameter(name).default

    def _parameter(self, name: str) -> Parameter:
        if name not in self.allParameters:
            raise ValueError(f"Cannot find a param with the given name: {name}")
        return self.allParameters[name]

    def connectGui(self, gui) -> int:  # noqa: N802
        found = gui.findChildren(QtWidgets.QWidget) if isinstance(gui, QtWidgets.QWidget) else gui.__dict__.values()
        mapping = {}
        for widget in found:
            name = widget.property(SLICER_PARAMETER_NAME) if hasattr(widget, "property") else None
            if name:
                mapping[name] = create_connector(widget, self._parameter(name))
        tag, self._next_tag = self._next_tag, self._next_tag + 1
        self._guis[tag] = mapping
        for name, connector in mapping.items():
            connector.write(self.getValue(name))
            connector.on_changed(lambda name=name, connector=connector: self._gui_changed(name, connector))
        self._gui_observers[tag] = self.AddObserver(vtk.vtkCommand.ModifiedEvent, lambda caller, event: self._update_gui())
        return tag

    def disconnectGui(self, tag) -> None:  # noqa: N802
        for connector in self._guis.pop(tag, {}).values():
            connector.on_changed(None)
        if tag in self._gui_observers:
            self.RemoveObserver(self._gui_observers.pop(tag))

    def _gui_changed(self, name: str, connector: Connector) -> None:
        import slicer

        with slicer.util.NodeModify(self):
            if not self._updating_gui:
                self.setValue(name, connector.read())

    def _update_gui(self) -> None:
        import slicer

        if self._updating_gui:
            return
        self._updating_gui = True
        try:
            with slicer.util.NodeModify(self):
                for mapping in self._guis.values():
                    for name, connector in mapping.items():
                        connector.write(self.getValue(name))
        finally:
            self._updating_gui = False

    def StartModify(self):  # noqa: N802
        return self.parameterNode.StartModify()

    def EndModify(self, was_modifying):  # noqa: N802
        return self.parameterNode.EndModify(was_modifying)

    def AddObserver(self, event, callback, priority=0.0):  # noqa: N802
        return self.parameterNode.AddObserver(event, callback, priority)

    def RemoveObserver(self, tag):  # noqa: N802
        self.parameterNode.RemoveObserver(tag)

    def Modified(self):  # noqa: N802
        self.parameterNode.Modified()


def _field_property(name: str) -> property:
    return property(lambda self: self.getValue(name), lambda self, value: self.setValue(name, value))


def parameterNodeWrapper(classtype=None):  # noqa: N802 - Slicer's name
    """Class decorator: typed access to a scripted module node and GUI binding (see the module docstring)."""

    def wrap(cls):
        hints = typing.get_type_hints(cls, include_extras=True)
        parameters = {}
        for name, annotation in hints.items():
            parameter = Parameter(name, annotation)
            parameter.default = getattr(cls, name) if hasattr(cls, name) else parameter.default_default()
            parameters[name] = parameter
        namespace = {name: _field_property(name) for name in parameters}
        namespace["allParameters"] = parameters
        namespace["_is_parameter_node_wrapper"] = True
        return type(cls.__name__, (_WrapperMethods,), {**namespace, "__doc__": cls.__doc__,
                                                        "__module__": cls.__module__})

    return wrap if classtype is None else wrap(classtype)


def isParameterNodeWrapper(classOrObj) -> bool:  # noqa: N802, N803
    return getattr(classOrObj, "_is_parameter_node_wrapper", False)


def parameter_node_wrapper_module() -> types.ModuleType:
    module = types.ModuleType("slicer.parameterNodeWrapper", __doc__)
    for item in (parameterNodeWrapper, isParameterNodeWrapper, WithinRange, Minimum, Maximum):
        setattr(module, item.__name__, item)
    module.SlicerParameterNamePropertyName = SLICER_PARAMETER_NAME
    return module
