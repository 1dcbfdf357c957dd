"""The results layout drawn headlessly into one picture (slicer-core with EGL), for the README figure and
the rendering tests; it is not part of the installed module.

:func:`render_results_image` draws the arrangement of the module's results layout through Slicer's own
displayable managers (3D and slice views, :mod:`headless_render.views`) and typesets the results table
(:mod:`headless_render.text`), with the display settings the panel uses (:mod:`synthtrust.scene.display`).
"""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import vtk
from vtk.util import numpy_support

from headless_render.text import MARGIN, compose, legend_image, table_image, title_bar
from headless_render.views import HeadlessViews
from synthtrust.scene.display import (
    SLICE_VIEWS,
    ResultsNodes,
    add_volume_rendering,
    lesion_center_ras,
    style_results,
)


@functools.cache
def headless_rendering_problem() -> str | None:
    """Why offscreen OpenGL rendering cannot work here, or None when it can (probed in a child process,
    because a missing EGL/GL driver can abort the process that tries it)."""
    probe = ("import vtk; w = vtk.vtkRenderWindow(); w.SetOffScreenRendering(1); w.SetMultiSamples(0); "
             "w.SetSize(8, 8); w.AddRenderer(vtk.vtkRenderer()); w.Render(); print('ok', w.GetClassName())")
    environment = {**os.environ, "VTK_DEFAULT_OPENGL_WINDOW": os.environ.get("VTK_DEFAULT_OPENGL_WINDOW",
                                                                             "vtkEGLRenderWindow")}
    try:
        completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                                   env=environment)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the offscreen OpenGL probe could not run: {error}"
    if completed.returncode != 0 or "ok" not in completed.stdout:
        detail = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"offscreen OpenGL (EGL) is unavailable: {detail}; on Debian install libegl1 libegl-mesa0 "
                "libgl1-mesa-dri libgbm1 and set VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow")
    return None


def render_results_png(session, nodes: ResultsNodes, path: str | os.PathLike, view_size: int = 520,
                       table_rows: int = 10) -> Path:
    """Draw the results layout headlessly into one PNG and return its path (see
    :func:`render_results_image`)."""
    image, _ = render_results_image(session, nodes, view_size, table_rows)
    return write_png(image, path)


def render_results_image(session, nodes: ResultsNodes, view_size: int = 520,
                         table_rows: int = 10) -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """The results layout as an (height, width, 3) uint8 image, and where each panel's content lies
    (``3d``, ``axial``, ``coronal``, ``sagittal``, ``legend``, ``table``: top, left, bottom, right).

    ``session`` is a :class:`synthtrust.scene.SceneSession` holding the nodes. The 3D view and the slice
    views are rendered by Slicer's displayable managers (as in Slicer), the table is typeset from the
    table node's rows. Adds view, slice and rendering nodes to the scene, as opening the layout would."""

    problem = headless_rendering_problem()
    if problem:
        raise RuntimeError(problem)
    style_results(nodes)
    add_volume_rendering(session.scene, nodes.volume, logic=session.logics.get("VolumeRendering"))
    center = lesion_center_ras(nodes)
    views = HeadlessViews(session)
    slice_size = view_size // 2
    try:
        three_d = views.render_three_d((view_size, view_size), center)
        slices = [views.render_slice(name, orientation, nodes.volume, (slice_size, slice_size), center)
                  for name, orientation, _ in SLICE_VIEWS]
    finally:
        views.close()
    width = view_size + 2 * slice_size + 2 * MARGIN
    panels = {"3d": title_bar("3D: lesion surfaces, volume rendering", three_d)}
    for (name, orientation, _), image in zip(SLICE_VIEWS, slices, strict=True):
        panels[orientation.lower()] = title_bar(f"{orientation} ({name})", image)
    panels["legend"] = title_bar("Legend", legend_image(nodes.legend, (slice_size, slice_size),
                                                        nodes.volume.GetName()))
    if nodes.table is not None:
        panels["table"] = title_bar(f"Table: {nodes.table.GetName()}",
                                    table_image(nodes.table, width, table_rows, nodes.table_columns))
    return compose(panels, nodes.title or (nodes.table.GetName() if nodes.table is not None else ""))


def write_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """An (height, width, 3) uint8 array (row 0 at the top) as PNG, written through VTK."""

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = image.shape[:2]
    data = vtk.vtkImageData()
    data.SetDimensions(width, height, 1)
    flipped = np.ascontiguousarray(image[::-1, :, :3], dtype=np.uint8).reshape(-1, 3)
    data.GetPointData().SetScalars(numpy_support.numpy_to_vtk(flipped, deep=True))
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(data)
    writer.SetCompressionLevel(9)
    writer.Write()
    if writer.GetErrorCode():
        raise RuntimeError(f"writing {path} failed (VTK error code {writer.GetErrorCode()})")
    return path


def distinct_colors(image: np.ndarray) -> int:
    """How many distinct RGB colours an image region holds (a blank render has one or two)."""
    flat = np.ascontiguousarray(image[..., :3]).reshape(-1, 3).astype(np.uint32)
    return int(np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]).size)


def color_fraction(image: np.ndarray, color: tuple[float, float, float], tolerance: float = 0.12) -> float:
    """Fraction of pixels whose chromaticity (colour with brightness divided out) is ``color``'s; shading
    changes brightness, not chromaticity, so shaded surfaces still count."""
    rgb = image[..., :3].astype(np.float64)
    total = rgb.sum(axis=-1, keepdims=True)
    chroma = np.divide(rgb, total, out=np.zeros_like(rgb), where=total > 60)
    target = np.asarray(color, float) / max(sum(color), 1e-9)
    close = np.linalg.norm(chroma - target, axis=-1) < tolerance * math.sqrt(2)
    return float((close & (total[..., 0] > 60)).mean())
