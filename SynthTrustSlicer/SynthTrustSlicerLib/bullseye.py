"""The AHA 17-segment bullseye: click segments to choose where a scar goes, or show a value per segment
(Dice per AHA segment after a scar sweep).

Orientation is the standard polar map (Cerqueira et al. 2002): anterior at the top, septum on the left,
inferior at the bottom, lateral on the right; basal ring outside, apex (17) in the centre. Angles follow
the core's convention (``synthtrust.editing.cardiac``: 0 deg anterior, 90 deg septum, counter-clockwise on
screen), so a segment clicked here is the segment the core edits; a test checks the two agree.

The widget runs under 3D Slicer's PythonQt and under PySide6 (offscreen tests, screenshots). It keeps to
the subset both share: Qt properties assigned as attributes, QPainter drawing calls, and a plain Python
callback instead of a new Qt signal (PythonQt cannot declare signals in Python).
"""

from __future__ import annotations

import math
from collections.abc import Callable

try:  # PySide6 only: make Qt properties attributes, as PythonQt does (there __feature__ does not exist)
    from __feature__ import true_property  # noqa: F401
except ImportError:
    pass

try:  # 3D Slicer: one namespace holds QtCore, QtGui and QtWidgets
    import qt as _qt

    QWidget, QVBoxLayout, QPainter, QColor, QPen, QBrush, QRectF, QSize, QMargins, Qt = (
        _qt.QWidget, _qt.QVBoxLayout, _qt.QPainter, _qt.QColor, _qt.QPen, _qt.QBrush, _qt.QRectF, _qt.QSize,
        _qt.QMargins, _qt.Qt)
except ImportError:
    from PySide6.QtCore import QMargins, QRectF, QSize, Qt
    from PySide6.QtGui import QBrush, QColor, QPainter, QPen
    from PySide6.QtWidgets import QVBoxLayout, QWidget

SEGMENT_NAMES = {
    1: "basal anterior", 2: "basal anteroseptal", 3: "basal inferoseptal", 4: "basal inferior",
    5: "basal inferolateral", 6: "basal anterolateral", 7: "mid anterior", 8: "mid anteroseptal",
    9: "mid inferoseptal", 10: "mid inferior", 11: "mid inferolateral", 12: "mid anterolateral",
    13: "apical anterior", 14: "apical septal", 15: "apical inferior", 16: "apical lateral", 17: "apex",
}
# Outer radius of each ring as a fraction of the bullseye radius: basal, mid, apical, apex.
RING_OUTER = (1.0, 0.75, 0.5, 0.25)
MARGIN_PX = 4.0


def segment_sector(segment: int) -> tuple[float, float]:
    """(centre angle, half width) in degrees, core convention (0 anterior, 90 septum); 17 is a disc.

    The same as ``synthtrust.editing.cardiac.segment_center_deg`` (a test checks it), repeated because the
    panel is built when Slicer starts, before SciPy (which the core's editing module needs) may be installed."""
    if 1 <= segment <= 12:
        return ((segment - 1) % 6) * 60.0, 30.0
    if 13 <= segment <= 16:
        return (segment - 13) * 90.0, 45.0
    if segment == 17:
        return 0.0, 180.0
    raise ValueError(f"AHA segment {segment} does not exist; segments are numbered 1-17")


def segment_at(x: float, y: float, width: float, height: float) -> int | None:
    """The segment under widget pixel (x, y), or None outside the bullseye."""
    radius = min(width, height) / 2.0 - MARGIN_PX
    if radius <= 0:
        return None
    dx, dy = x - width / 2.0, height / 2.0 - y  # y up, as on a polar map
    distance = math.hypot(dx, dy) / radius
    if distance > RING_OUTER[0]:
        return None
    if distance <= RING_OUTER[3]:
        return 17
    # Screen angle 90 deg (straight up) is anterior, 0 deg in the core's frame.
    angle = (math.degrees(math.atan2(dy, dx)) - 90.0) % 360.0
    if distance <= RING_OUTER[2]:
        return 13 + int(((angle + 45.0) % 360.0) // 90.0)
    first = 7 if distance <= RING_OUTER[1] else 1
    return first + int(((angle + 30.0) % 360.0) // 60.0)


def parse_segments(text: str) -> list[int]:
    """Segments from "7, 8,13" (the parameter node stores them as text); bad entries name the fix."""
    segments = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 17:
            raise ValueError(f"AHA segment {part!r} is not a number from 1 to 17; click segments on the bullseye")
        segments.append(int(part))
    return sorted(set(segments))


def format_segments(segments) -> str:
    return ",".join(str(s) for s in sorted(set(segments)))


def value_color(value: float | None) -> tuple[int, int, int]:
    """Red (0) through amber (0.5) to green (1) for a score in [0, 1]; grey when there is none."""
    if value is None or not math.isfinite(value):
        return (200, 200, 200)
    v = min(max(value, 0.0), 1.0)
    if v < 0.5:
        return (215, 48 + int(2 * v * 150), 39)
    return (215 - int((v - 0.5) * 2 * 189), 198 - int((v - 0.5) * 2 * 46), 39 + int((v - 0.5) * 2 * 57))


class BullseyeWidget(QWidget):
    """Click to toggle segments (``selection``), or call :meth:`setValues` to colour them by a score.
    ``onSelectionChanged`` (a callable taking the sorted list) is called after each click."""

    SELECTED = (180, 30, 60)
    UNSELECTED = (236, 236, 236)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.selection: set[int] = set()
        self.values: dict[int, float] = {}
        self.interactive = True
        self.onSelectionChanged: Callable[[list[int]], None] | None = None
        self.minimumSize = QSize(170, 170)
        self.toolTip = "AHA 17-segment bullseye: anterior at the top, septum on the left. Click to choose segments."

    # ----------------------------------------------------------------- state
    def setSelection(self, segments) -> None:
        self.selection = {int(s) for s in segments}
        self.update()

    def selectedSegments(self) -> list[int]:
        return sorted(self.selection)

    def setValues(self, values: dict) -> None:
        """Colour segments by a score in [0, 1] (e.g. Dice per segment) and stop reacting to clicks."""
        self.values = {int(k): (float(v) if v is not None else float("nan")) for k, v in values.items()}
        self.interactive = False
        self.update()

    def toggle(self, segment: int) -> None:
        self.selection.symmetric_difference_update({segment})
        self.update()
        if self.onSelectionChanged is not None:
            self.onSelectionChanged(self.selectedSegments())

    # ----------------------------------------------------------------- Qt events
    def mousePressEvent(self, event) -> None:
        if not self.interactive:
            return
        # Qt 6 (PySide6, Slicer's Qt 6 builds) has position(); Qt 5 PythonQt only pos().
        position = event.position() if hasattr(event, "position") else event.pos()
        segment = segment_at(position.x(), position.y(), self.width, self.height)
        if segment is not None:
            self.toggle(segment)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.Antialiasing)
            self._paint(painter)
        finally:
            painter.end()  # PythonQt keeps the painter alive otherwise and Qt warns on the next paint

    def _fill(self, segment: int) -> tuple[int, int, int]:
        if self.values:
            return value_color(self.values.get(segment))
        return self.SELECTED if segment in self.selection else self.UNSELECTED

    def _paint(self, painter) -> None:
        radius = min(self.width, self.height) / 2.0 - MARGIN_PX
        cx, cy = self.width / 2.0, self.height / 2.0
        painter.setPen(QPen(QColor(90, 90, 90)))
        # Rings from the outside in: each inner ring's pies cover the centre of the previous ring.
        rings = ((range(1, 7), RING_OUTER[0]), (range(7, 13), RING_OUTER[1]), (range(13, 17), RING_OUTER[2]))
        for segments, outer in rings:
            r = radius * outer
            box = QRectF(cx - r, cy - r, 2 * r, 2 * r)
            for segment in segments:
                centre, half = segment_sector(segment)
                painter.setBrush(QBrush(QColor(*self._fill(segment))))
                # Qt angles: 1/16 deg, 0 at 3 o'clock, counter-clockwise; anterior (0 deg) is at 12 o'clock.
                painter.drawPie(box, int((90.0 + centre - half) * 16), int(2 * half * 16))
        r = radius * RING_OUTER[3]
        painter.setBrush(QBrush(QColor(*self._fill(17))))
        painter.drawEllipse(QRectF(cx - r, cy - r, 2 * r, 2 * r))
        self._paint_labels(painter, radius, cx, cy)

    def _paint_labels(self, painter, radius: float, cx: float, cy: float) -> None:
        painter.setPen(QPen(QColor(20, 20, 20)))
        for segment in range(1, 18):
            if segment == 17:
                x, y = cx, cy
            else:
                ring = 0 if segment <= 6 else 1 if segment <= 12 else 2
                middle = radius * (RING_OUTER[ring] + RING_OUTER[ring + 1]) / 2.0
                angle = math.radians(90.0 + segment_sector(segment)[0])
                x, y = cx + middle * math.cos(angle), cy - middle * math.sin(angle)
            value = self.values.get(segment)
            text = str(segment) if value is None or not math.isfinite(value) else f"{value:.2f}"
            painter.drawText(QRectF(x - 20, y - 8, 40, 16), int(Qt.AlignCenter), text)


def place_bullseye(placeholder) -> BullseyeWidget:
    """A bullseye filling ``placeholder`` (an empty QWidget of the .ui)."""
    layout = QVBoxLayout(placeholder)
    if hasattr(layout, "setContentsMargins"):  # PythonQt keeps the setter beside the property
        layout.setContentsMargins(0, 0, 0, 0)
    else:  # PySide6's true_property replaces the setter by the property
        layout.contentsMargins = QMargins(0, 0, 0, 0)
    bullseye = BullseyeWidget()
    layout.addWidget(bullseye)
    return bullseye
