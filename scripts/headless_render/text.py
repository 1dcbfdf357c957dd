"""Typesetting for the headless results picture: text, panel titles, the legend, the results table, and
the composition of all panels into one image. VTK's FreeType text renderer draws the glyphs (no
matplotlib or Qt needed); everything else is numpy. Images are (height, width, 3) uint8, row 0 on top.
"""

from __future__ import annotations

import math

import numpy as np
import vtk
from vtk.util import numpy_support

CANVAS = (240, 240, 240)
INK = (30, 30, 30)
TITLE_BAND = (205, 212, 228)
HEADER_BAND = (226, 230, 240)
STRIPE = (244, 246, 250)
WHITE = (255, 255, 255)
MARGIN = 8
TITLE_HEIGHT = 24
ROW_HEIGHT = 24
CELL_PADDING = 10


def text_image(text: str, size: int = 13, bold: bool = False, color=INK) -> np.ndarray:
    """The text as an (height, width, 4) uint8 RGBA array cropped to its extent (alpha = coverage)."""

    properties = vtk.vtkTextProperty()
    properties.SetFontFamilyToArial()
    properties.SetFontSize(size)
    properties.SetBold(bold)
    properties.SetColor(*(c / 255 for c in color))
    data = vtk.vtkImageData()
    extent = [0, 0]
    if not text or not vtk.vtkTextRenderer().RenderString(properties, text, data, extent, 72):
        return np.zeros((1, 1, 4), np.uint8)
    width, height, _ = data.GetDimensions()
    pixels = numpy_support.vtk_to_numpy(data.GetPointData().GetScalars()).reshape(height, width, 4)
    return np.ascontiguousarray(pixels[:extent[1], :extent[0]][::-1])


def paste_text(canvas: np.ndarray, text: np.ndarray, top: int, left: int) -> None:
    """Alpha-blend RGBA ``text`` onto ``canvas`` at (top, left), clipped to the canvas."""
    height = min(text.shape[0], canvas.shape[0] - top)
    width = min(text.shape[1], canvas.shape[1] - left)
    if height <= 0 or width <= 0:
        return
    alpha = text[:height, :width, 3:4].astype(np.float32) / 255
    region = canvas[top:top + height, left:left + width].astype(np.float32)
    blended = region * (1 - alpha) + text[:height, :width, :3].astype(np.float32) * alpha
    canvas[top:top + height, left:left + width] = np.round(blended).astype(np.uint8)


def title_bar(title: str, image: np.ndarray) -> np.ndarray:
    """``image`` with a title strip above it (the view's name, as Slicer's view controllers show)."""
    bar = np.full((TITLE_HEIGHT, image.shape[1], 3), TITLE_BAND, np.uint8)
    text = text_image(title, 13, bold=True)
    paste_text(bar, text, max((TITLE_HEIGHT - text.shape[0]) // 2, 0), 6)
    return np.concatenate([bar, image[..., :3]], axis=0)


def legend_image(entries: dict, size: tuple[int, int], volume_name: str = "") -> np.ndarray:
    """Colour swatches with their meaning, how each is drawn, and which volume is shown; lines wrap to
    the panel's width (the font is smaller in small pictures)."""
    width, height = size
    font = 12 if width >= 240 else 10
    characters = max((width - 24) * 16 // (9 * font), 10)  # Arial averages ~0.56 em per character
    image = np.full((height, width, 3), WHITE, np.uint8)
    top = 12
    for label, color in entries.items():
        image[top:top + font + 4, 12:34] = tuple(int(round(255 * c)) for c in color)
        for line in _wrap(label, characters - 5):
            paste_text(image, text_image(line, font), top + 1, 42)
            top += font + 6
        top += 8
    notes = [("Volume shown:", True), *((line, False) for line in _wrap(volume_name, characters))] if volume_name else []
    notes += [(line, False) for text in ("2D: intended filled, prediction outlined",
                                         "3D: intended see-through, prediction solid")
              for line in _wrap(text, characters)]
    top += 4
    for text, bold in notes:
        if top + font + 4 > height:
            break  # a half-drawn line reads worse than a missing note
        paste_text(image, text_image(text, font, bold=bold), top, 12)
        top += font + 6
    return image


def format_value(value, counts: bool = False) -> str:
    """Numbers as a person reads them in a table: counts plain, other values with 3 decimals below 10
    and 1 above; NaN (an undefined metric, e.g. HD95 of an empty region) as 'n/a'."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if counts:
        return str(int(value))
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def table_cells(table_node, max_rows: int, columns: list[str] | None = None) -> tuple[list[str], list[list[str]], int]:
    """Header, formatted rows (at most ``max_rows``) and the total row count of a vtkMRMLTableNode;
    ``columns`` picks and orders columns by name (default: all)."""
    table = table_node.GetTable()
    arrays = {table.GetColumn(index).GetName(): table.GetColumn(index) for index in range(table.GetNumberOfColumns())}
    missing = [name for name in columns or () if name not in arrays]
    if missing:
        raise ValueError(f"table {table_node.GetName()!r} has no column(s) {missing}; it has {list(arrays)}")
    header = list(columns) if columns else list(arrays)
    total = table.GetNumberOfRows()
    values = [[_cell(arrays[name], row) for name in header] for row in range(min(total, max_rows))]
    # A column whose values are all whole numbers holds counts (TP, seeds): shown without decimals.
    counts = [all(isinstance(row[c], float) and (math.isnan(row[c]) or row[c].is_integer()) for row in values)
              for c in range(len(header))]
    rows = [[format_value(value, counts[c]) for c, value in enumerate(row)] for row in values]
    return header, rows, total


def table_image(table_node, width: int, max_rows: int = 10, columns: list[str] | None = None,
                font_size: int = 13) -> np.ndarray:
    """The table node's rows typeset as an image ``width`` pixels wide (font shrinks to fit)."""
    header, rows, total = table_cells(table_node, max_rows, columns)
    while True:
        header_texts = [text_image(name, font_size, bold=True) for name in header]
        row_texts = [[text_image(cell, font_size) for cell in row] for row in rows]
        column_widths = [max([header_texts[c].shape[1]] + [r[c].shape[1] for r in row_texts]) + 2 * CELL_PADDING
                         for c in range(len(header))]
        if sum(column_widths) <= width - 2 * MARGIN or font_size <= 8:
            break
        font_size -= 1
    note = f"{total - len(rows)} more rows in the table node" if total > len(rows) else ""
    height = ROW_HEIGHT * (len(rows) + 1) + (ROW_HEIGHT if note else 0) + MARGIN
    image = np.full((height, width, 3), WHITE, np.uint8)
    image[:ROW_HEIGHT] = HEADER_BAND
    for index in range(len(rows)):
        if index % 2:
            image[ROW_HEIGHT * (index + 1):ROW_HEIGHT * (index + 2)] = STRIPE
    for line_index, texts in enumerate([header_texts, *row_texts]):
        left = MARGIN
        for column_index, text in enumerate(texts):
            top = line_index * ROW_HEIGHT + max((ROW_HEIGHT - text.shape[0]) // 2, 0)
            # Text columns read left-aligned, numbers right-aligned so their decimals line up.
            numeric = line_index > 0 and _is_number(rows[line_index - 1][column_index])
            offset = column_widths[column_index] - CELL_PADDING - text.shape[1] if numeric else CELL_PADDING
            paste_text(image, text, top, left + offset)
            left += column_widths[column_index]
    if note:
        paste_text(image, text_image(note, font_size - 1), ROW_HEIGHT * (len(rows) + 1) + 4, MARGIN)
    return image


def compose(panels: dict[str, np.ndarray], title: str) -> tuple[np.ndarray, dict]:
    """The results picture: the ``3d`` panel on the left, the next four in a 2x2 grid on its right, a
    ``table`` panel below across the full width, the title on top (the arrangement of the Slicer
    layout). Returns the image and each panel's content box (top, left, bottom, right), title strip
    excluded."""
    panels = dict(panels)
    three_d, table = panels.pop("3d"), panels.pop("table", None)
    grid = list(panels.items())[:4]
    cell_height, cell_width = grid[0][1].shape[:2]
    width = three_d.shape[1] + 2 * cell_width + 4 * MARGIN
    heading = text_image(title, 16, bold=True) if title else None
    top = MARGIN + (heading.shape[0] + MARGIN if heading is not None else 0)
    views_height = max(three_d.shape[0], 2 * cell_height + MARGIN)
    height = top + views_height + MARGIN + ((table.shape[0] + MARGIN) if table is not None else 0)
    canvas = np.full((height, width, 3), CANVAS, np.uint8)
    if heading is not None:
        paste_text(canvas, heading, MARGIN, MARGIN)
    boxes = {"3d": _paste(canvas, three_d, top, MARGIN)}
    for index, (name, panel) in enumerate(grid):
        row, column = divmod(index, 2)
        boxes[name] = _paste(canvas, panel, top + row * (cell_height + MARGIN),
                             2 * MARGIN + three_d.shape[1] + column * (cell_width + MARGIN))
    if table is not None:
        boxes["table"] = _paste(canvas, table[:, :width - 2 * MARGIN], top + views_height + MARGIN, MARGIN)
    return canvas, boxes


def _paste(canvas: np.ndarray, image: np.ndarray, top: int, left: int) -> tuple[int, int, int, int]:
    """Copy a titled panel onto the canvas; returns its content box (below the title strip)."""
    height = min(image.shape[0], canvas.shape[0] - top)
    width = min(image.shape[1], canvas.shape[1] - left)
    canvas[top:top + height, left:left + width] = image[:height, :width, :3]
    return top + TITLE_HEIGHT, left, top + height, left + width


def _cell(column, row: int):
    value = column.GetValue(row)
    return value if isinstance(value, str) else float(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == "n/a"
    return True


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines
