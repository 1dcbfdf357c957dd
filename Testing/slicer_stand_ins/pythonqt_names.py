"""PythonQt's ``name`` for ``objectName``, in PySide6's true_property mode.

PySide6 keeps one class dictionary per feature selection, so a name added to QObject with the default
selection is missing where ``true_property`` is on (``slicer.util`` under these stand-ins). This module
switches the feature on for itself and adds the name in that selection too.
"""

from __future__ import annotations

from __feature__ import true_property  # noqa: F401
from PySide6 import QtCore


def add_name_property() -> None:
    if not isinstance(QtCore.QObject.__dict__.get("name"), property):
        QtCore.QObject.name = property(lambda self: self.objectName,
                                       lambda self, value: setattr(self, "objectName", value))
