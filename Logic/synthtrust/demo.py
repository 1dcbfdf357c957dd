"""The one-command demo: the whole loop on a real brain and on a generated heart.

Brain: the MNI ICBM152 2009a T1 template (an average of 152 real brains) shipped inside the ``nilearn``
wheel, so a fresh machine gets it from PyPI. Heart: an LGE-like short-axis phantom the project generates.
For each: place a lesion, synthesize variants, segment them with the shipped default model, evaluate,
audit, read trust over the variants; then write ``report.html``, ``metrics.json`` and ``scene.mrb``.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import EMIDEC, brats_schema
from synthtrust.loop import LoopResult, run_loop

MNI_T1 = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
MNI_GM = "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz"
MNI_WM = "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"

# Right frontal white matter (RAS mm, MNI space): away from the ventricles, fully inside the brain.
BRAIN_TUMOR_CENTER_RAS = (26.0, 20.0, 24.0)
BRAIN_TUMOR_SIZE_MM = 28.0
# LAD territory: mid anterior, mid anteroseptal, apical anterior.
SCAR_SEGMENTS = [7, 8, 13]


def mni_data_folder() -> Path:
    """The folder of the MNI template inside the installed nilearn wheel (found without importing it)."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the demo brain comes from the 'nilearn' package, which is not installed; run "
                         "'make demo' (it installs it) or 'pip install nilearn'")
    folder = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    if not (folder / MNI_T1).exists():
        raise InputError(f"the MNI T1 template is missing from {folder}; reinstall nilearn")
    return folder


def load_demo_brain() -> tuple[Image, Image]:
    """The MNI T1 and a brain mask from its grey + white matter probability maps."""
    folder = mni_data_folder()
    t1 = load_image(folder / MNI_T1, "MNI152 T1")
    t1 = t1.with_array(t1.array.astype(np.float32))
    grey = load_image(folder / MNI_GM).array.astype(np.float32)
    white = load_image(folder / MNI_WM).array.astype(np.float32)
    if grey.max() > 1.5:  # the wheel stores probabilities as uint8 0-255
        grey, white = grey / 255.0, white / 255.0
    brain = t1.with_array(((grey + white) > 0.5).astype(np.uint8), name="brain mask")
    return t1, brain


def run_brain(n_variants: int, seed: int, device: str, progress) -> LoopResult:
    from synthtrust.editing.tumor import place_tumor
    from synthtrust.imaging.image import LPS_TO_RAS
    from synthtrust.segmentation import load_default_segmenter
    from synthtrust.synthesis.template import TemplateSynthesizer

    t1, brain = load_demo_brain()
    schema = brats_schema(2021)
    center_lps = tuple(LPS_TO_RAS @ np.asarray(BRAIN_TUMOR_CENTER_RAS))
    edit = place_tumor(t1, center_lps, BRAIN_TUMOR_SIZE_MM, edema_mm=8.0, enhancing_rim_mm=3.0,
                       necrosis=True, irregularity=0.35, seed=seed, brain_mask=brain, schema=schema)
    segmenter = load_default_segmenter("brain-tumor", ["t1"], device=device)
    return run_loop("brain tumour", [t1], ["t1"], edit, schema, segmenter, TemplateSynthesizer(),
                    n_variants=n_variants, seed=seed, progress=progress)


def run_heart(n_variants: int, seed: int, device: str, progress) -> LoopResult:
    from synthtrust.editing.scar import place_scar
    from synthtrust.phantoms.cardiac import make_lge_phantom
    from synthtrust.segmentation import load_default_segmenter
    from synthtrust.synthesis.template import TemplateSynthesizer

    image, anatomy = make_lge_phantom(seed=seed + 1000)
    edit = place_scar(anatomy, segments=SCAR_SEGMENTS, transmurality=0.6, extent=0.9, irregularity=0.3,
                      mvo=0.3, seed=seed)
    segmenter = load_default_segmenter("cardiac-scar", ["lge"], device=device)
    return run_loop("cardiac scar", [image], ["lge"], edit, EMIDEC, segmenter, TemplateSynthesizer(),
                    n_variants=n_variants, seed=seed, progress=progress)


def run_demo(out: Path, fast: bool = False, seed: int = 0, device: str = "auto",
             progress: Callable[[str], None] | None = print) -> dict:
    """Run both demo cases and write the report, metrics and scene bundle into ``out``."""
    from synthtrust.demo_outputs import write_outputs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n_variants = 2 if fast else 4
    started = time.perf_counter()
    results = [run_brain(n_variants, seed, device, progress), run_heart(n_variants, seed, device, progress)]
    if progress:
        progress("writing report.html, metrics.json and scene.mrb")
    summary = write_outputs(out, results, {"fast": fast, "seed": seed, "variants": n_variants,
                                           "device": device})
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary
