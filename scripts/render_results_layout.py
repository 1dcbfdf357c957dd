"""Render the results layout of a real module run headlessly (the README figure).

Usage: .venv/bin/python scripts/render_results_layout.py [--out docs/images/results_layout.png]

The module's own logic (``SynthTrustSlicerLib.logic``) on a slicer-core scene, with the real worker
process, as the panel's Apply runs it: a 96 mm cube of TCGA-FG-6692 (FLAIR + T1c, from ../shared/data) with
its fusion segmentation as the reference, the panel's default tumour placed at the real tumour's centre,
three variants synthesized by the template engine and segmented by the shipped FLAIR+T1c model. The picture
shows the first variant and the module's results table (Dice, HD95, surface Dice, volumes, audits, T1-T5);
Slicer's displayable managers draw the views (EGL, no display needed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY / "Logic"), str(REPOSITORY / "SynthTrustSlicer"), str(REPOSITORY / "scripts")]
# Before vtk is imported: the offscreen EGL window needs no X server.
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

SHARED_DATA = Path(os.environ.get("SYNTHTRUST_SHARED_DATA", REPOSITORY.parent / "shared" / "data"))
CASE = SHARED_DATA / "brainles_tcga" / "TCGA-FG-6692"
# The columns the picture shows; the table node has all of them plus case, seed and segmenter.
# The panel's default parametric tumour (the parameter node's defaults).
PANEL_TUMOUR = {"size_mm": 28.0, "edema_mm": 8.0, "enhancing_rim_mm": 3.0, "necrosis": True, "irregularity": 0.35}
# (the headers come from the core's one table definition, synthtrust.results.table.RESULTS_TABLE)
SHOWN_COLUMNS = ("case", "region", "dice", "hd95", "surface_dice", "reference_volume_ml", "predicted_volume_ml",
                 "fidelity_passed", "hallucinated_ml", "off_target_voxels", "T1", "T2", "T3", "T4", "T5")


def crop(image, start_zyx, size: int):
    """A ``size``-voxel cube of ``image`` from ``start_zyx``, keeping its place in the patient."""
    from synthtrust.imaging.image import Geometry, Image

    box = tuple(slice(s, s + size) for s in start_zyx)
    origin = image.geometry.index_to_physical(start_zyx[::-1])
    geometry = Geometry((size,) * 3, image.geometry.spacing, tuple(origin), image.geometry.direction)
    return Image(image.array[box].copy(), geometry, image.name)


def tcga_case(session, logic):
    """FLAIR and T1c volume nodes of the TCGA crop, the reference segmentation node, the tumour placed (with
    the panel's defaults) at the real tumour's centre as a segmentation node, and that centre (RAS)."""
    import numpy as np

    from synthtrust import scene
    from synthtrust.imaging.io import load_image
    from synthtrust.labels.schema import brats_schema

    if not CASE.is_dir():
        raise SystemExit(f"{CASE} is absent: this figure needs ../shared/data (or SYNTHTRUST_SHARED_DATA)")
    start = (40, 40, 40)
    folder = CASE / "sri24_skullstripped"
    flair = crop(load_image(folder / "TCGA-FG-6692_fla.nii.gz", "FLAIR"), start, 96)
    t1c = crop(load_image(folder / "TCGA-FG-6692_t1c.nii.gz", "T1c"), start, 96)
    reference = crop(load_image(CASE / "algorithm_segmentations" / "fusion_simple.nii.gz"), start, 96)
    volumes = [scene.add_volume(session, image, f"TCGA-FG-6692 {image.name}") for image in (flair, t1c)]
    reference_node = scene.add_segmentation(session, reference.with_array(np.rint(reference.array).astype(np.uint8)),
                                            brats_schema(), "TCGA-FG-6692 fusion reference",
                                            reference_volume=volumes[0])
    center_voxel = np.argwhere(reference.array > 0).mean(axis=0)[::-1]
    center_ras = np.diag([-1.0, -1.0, 1.0]) @ flair.geometry.index_to_physical(center_voxel)
    lesion = logic.place_tumor_segmentation(volumes[0], center_ras, PANEL_TUMOUR, seed=0)
    return volumes, reference_node, lesion, center_ras


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPOSITORY / "docs" / "images" / "results_layout.png")
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--view-size", type=int, default=520, help="3D view size in pixels (slice views: half)")
    arguments = parser.parse_args(argv)

    from headless_render.picture import headless_rendering_problem, render_results_png
    from SynthTrustSlicerLib.logic import RunRequest, SynthTrustSlicerLogic

    from synthtrust import scene
    from synthtrust.results.table import RESULTS_TABLE
    from synthtrust.scene.display import ResultsNodes
    from synthtrust.settings import RunSettings

    problem = headless_rendering_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    started = time.perf_counter()
    session = scene.SceneSession.create()
    with tempfile.TemporaryDirectory() as temporary:
        logic = SynthTrustSlicerLogic(session, temporary_root=temporary)
        volumes, reference, lesion, _ = tcga_case(session, logic)
        settings = RunSettings(kind="run", task="brain-tumor", channels=[], modalities=["flair", "t1c"],
                               engine="template", variants=arguments.variants, seed=0, device="cpu",
                               segmentation_device="cpu")
        outcome = logic.run(RunRequest(settings, volumes, lesion, reference_segmentation_node=reference),
                            on_message=lambda m: None, timeout=600)
    run_done = time.perf_counter()
    folder = session.subject_hierarchy().GetItemName(outcome.folder_item_id)
    nodes = ResultsNodes.of_run(outcome, lesion, title=f"SynthTrust results layout: '{folder}', variant 1 of "
                                f"{arguments.variants} (FLAIR shown), TCGA-FG-6692 crop with its fusion reference",
                                table_columns=[c.header for c in RESULTS_TABLE if c.key in SHOWN_COLUMNS])
    path = render_results_png(session, nodes, arguments.out, view_size=arguments.view_size,
                              table_rows=outcome.table_node.GetNumberOfRows())
    finished = time.perf_counter()
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB): module run {run_done - started:.1f} s, "
          f"render {finished - run_done:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
