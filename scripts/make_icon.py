"""Draw Resources/Icons/SynthTrustSlicer.png (128x128): a lesion inside a bullseye of trust rings, with
a check mark. Drawn in code so the icon can be regenerated and changed without an image editor.

Usage: python scripts/make_icon.py [output.png]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen  # noqa: E402

SIZE = 128
OUTPUT = Path(__file__).resolve().parents[1] / "Resources" / "Icons" / "SynthTrustSlicer.png"


def draw(path: Path) -> Path:
    image = QImage(SIZE, SIZE, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    # Rings: the AHA bullseye the scar task uses, in Slicer's blue.
    for radius, color in ((60, "#1f5fa8"), (46, "#3f86d0"), (32, "#8fbce8"), (18, "#e8f1fb")):
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(QBrush(QColor(color)))
        painter.drawEllipse(QPointF(64, 64), radius, radius)
    # The lesion: an irregular blob, the colour of the intended-lesion overlay.
    blob = QPainterPath()
    blob.moveTo(50, 48)
    blob.cubicTo(62, 34, 84, 42, 80, 58)
    blob.cubicTo(92, 70, 70, 88, 58, 78)
    blob.cubicTo(40, 84, 36, 58, 50, 48)
    painter.setPen(QPen(QColor("#0d5c1f"), 2))
    painter.setBrush(QBrush(QColor(38, 204, 77, 230)))
    painter.drawPath(blob)
    # The check mark: the trust verdict.
    painter.setBrush(QBrush(QColor("#2e7d32")))
    painter.setPen(QPen(QColor("white"), 3))
    painter.drawEllipse(QRectF(84, 84, 40, 40))
    tick = QPainterPath()
    tick.moveTo(93, 104)
    tick.lineTo(101, 112)
    tick.lineTo(115, 95)
    painter.setBrush(Qt.NoBrush)
    painter.setPen(QPen(QColor("white"), 5, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
    painter.drawPath(tick)
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise RuntimeError(f"could not write {path}; check that the folder is writable")
    return path


if __name__ == "__main__":
    app = QGuiApplication.instance() or QGuiApplication([])
    print(draw(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))
