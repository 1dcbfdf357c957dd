"""Render the results layout of a real case headlessly (the README figure).

Usage: .venv/bin/python scripts/render_results_layout.py [--out docs/images/results_layout.png]

The demo's brain case: the MNI ICBM152 T1 (from the nilearn wheel) with a placed tumour, one variant
synthesized by the template engine and segmented by the shipped default model, evaluated against the
intended lesion. The nodes go into a slicer-core scene through the MRML adapter, exactly as the panel
puts them into Slicer's scene, and Slicer's displayable managers draw them (EGL, no display needed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY / "Logic"), str(REPOSITORY / "SynthTrustSlicer")]
# Before vtk is imported: the offscreen EGL window needs no X server.
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def build_results_scene(result):
    """A headless scene with the first variant of ``result``: synthetic volume, intended and predicted
    lesion segmentations (closed surfaces), and the metrics table."""
    from SynthTrustSlicerLib.render import ResultsNodes

    from synthtrust import scene
    from synthtrust.demo_outputs import _metric_titles, metric_rows

    session = scene.SceneSession.create()
    first = result.variants[0]
    folder = scene.create_run_folder(session, result.task, {"task": result.task, "edit": result.edit.provenance()})
    synthetic = scene.add_volume(session, first.channels[0], f"{result.task}: synthetic (seed {first.seed})",
                                 attributes={"synthesis": first.synthesis_provenance}, parent_folder=folder)
    intended = scene.add_segmentation(session, result.edit.labels, result.schema, f"{result.task}: intended lesion",
                                      reference_volume=synthetic, parent_folder=folder, closed_surface=True)
    predicted = scene.add_segmentation(session, first.prediction, result.schema, f"{result.task}: prediction",
                                       reference_volume=synthetic, parent_folder=folder, closed_surface=True)
    table = scene.add_table(session, metric_rows(result), f"{result.task}: metrics",
                            column_descriptions=_metric_titles(), parent_folder=folder)
    title = (f"SynthTrust results: {result.task}, synthetic variant seed {first.seed} "
             f"({first.synthesis_provenance.get('engine', 'engine ?')} engine), "
             f"per-region metrics of the prediction vs the intended lesion")
    # The picture leaves out columns that are the same in every row of one variant (case, seed).
    columns = ["region", "Dice", "HD95 mm", "MSD mm", "NSD", "ref mL", "pred mL", "diff mL", "TP", "FN", "FP"]
    return session, ResultsNodes(volume=synthetic, intended=intended, predicted=predicted, table=table, title=title,
                                 table_columns=[c for c in columns if table.GetTable().GetColumnByName(c)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPOSITORY / "docs" / "images" / "results_layout.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--view-size", type=int, default=520, help="3D view size in pixels (slice views: half)")
    arguments = parser.parse_args(argv)

    from SynthTrustSlicerLib.render import headless_rendering_problem, render_results_png

    from synthtrust.demo import run_brain

    problem = headless_rendering_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = run_brain(1, arguments.seed, "cpu", print)
    loop_done = time.perf_counter()
    session, nodes = build_results_scene(result)
    path = render_results_png(session, nodes, arguments.out, view_size=arguments.view_size)
    finished = time.perf_counter()
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB): loop {loop_done - started:.1f} s, "
          f"scene and render {finished - loop_done:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
