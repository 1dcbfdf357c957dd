"""``synthtrust fill-healthy``: replace a region of an image with generated healthy tissue.

The BraTS local-synthesis task, and the way to take a real lesion out of an image before placing another
one; every voxel outside the region is kept. Brains are filled by default with the mirror fill (the
registered contralateral tissue blended into the region's border), which beats the smooth fill and the
generator on unseen IXI brains (docs/performance.md); hearts, which have no mirror, by the inpainting
generator.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from synthtrust.cli.common import (
    POSITIVE_FRACTION,
    SEED,
    STEPS,
    THREADS,
    channel_modalities,
    modality_list,
    print_progress,
)
from synthtrust.errors import InputError
from synthtrust.imaging.image import require_same_grid
from synthtrust.imaging.io import load_channels, load_image, save_image
from synthtrust.models.device import DEVICES
from synthtrust.outputs import check_output_folder, publish
from synthtrust.provenance import make_record, write_json
from synthtrust.synthesis.healthy_fill import fill_region
from synthtrust.synthesis.options import EngineOptions

TASKS = ("brain-tumor", "cardiac-scar")
ENGINES = ("auto", "mirror", "diffusion", "smooth", "mean")


def chosen_engine(engine: str, task: str, model: Path | None) -> str:
    """``auto``: the inpainting generator for hearts or when --model names one, the mirror fill for brains."""
    if engine != "auto":
        return engine
    return "diffusion" if task == "cardiac-scar" or model is not None else "mirror"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "fill-healthy", help="fill a region (e.g. a real lesion) with generated healthy tissue",
        description="Fill --region with healthy tissue; voxels outside it are kept bit-identical. --out is a "
                    "folder: it receives filled_<c>.nii.gz (input channel c) and fill.json.",
    )
    parser.add_argument("--task", choices=TASKS, default="brain-tumor")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="mirror: the contralateral tissue (registered mirror image) blended into the region's "
                             "border, brains only; diffusion: the inpainting generator (--model, --steps, "
                             "--strength, --device, --threads); smooth: harmonic fill from the border; mean: the "
                             "border's mean. auto (default): mirror for brains, diffusion for hearts or with --model")
    parser.add_argument("--image", required=True, action="append", type=Path,
                        help="an input channel; repeat for several (e.g. FLAIR then T1c)")
    parser.add_argument("--modalities", type=modality_list, help="modality of each --image, e.g. flair,t1c")
    parser.add_argument("--region", required=True, type=Path,
                        help="mask (or label map: every non-zero voxel) of the region to fill, on the image grid")
    parser.add_argument("--anatomy", type=Path, help="anatomy mask (brain, or myocardium) on the image grid")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    parser.add_argument("--steps", type=STEPS, default=25, help="sampling steps (default 25)")
    parser.add_argument("--strength", type=POSITIVE_FRACTION, default=1.0,
                        help="1 = generate from noise; below 1 = start part-way (SDEdit) from a smooth fill of the "
                             "region by its surroundings (0.3-0.6 stays closer to the surroundings)")
    parser.add_argument("--model", type=Path, help="generator weights (default: the shipped one for the task)")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--threads", type=THREADS, help="torch CPU threads")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    engine_name = chosen_engine(args.engine, args.task, args.model)
    if engine_name == "mirror" and args.task == "cardiac-scar":
        raise InputError("the mirror fill needs a left-right symmetric organ (a brain); for a heart use "
                         "--engine diffusion, smooth or mean")
    if engine_name != "diffusion" and args.model is not None:
        raise InputError(f"--model names a generator, which the {engine_name} fill does not use; drop --model "
                         "or choose --engine diffusion")
    names = [f"filled_{c}.nii.gz" for c in range(len(args.image))]
    check_output_folder(args.out, [*args.image, args.region, args.anatomy, args.model], "--out",
                        names=[*names, "fill.json"])
    channels = load_channels(args.image)
    modalities = channel_modalities(args.modalities, channels, cardiac=args.task == "cardiac-scar")
    region = load_image(args.region, "region")
    require_same_grid(channels[0], region, what="region")
    region = region.with_array((region.array > 0).astype(np.uint8))
    anatomy = load_image(args.anatomy, "anatomy") if args.anatomy else None
    # Everything is built in a scratch folder: a refusal, a failure or Ctrl-C leaves --out untouched.
    with publish() as outputs:
        scratch = outputs.folder(args.out)
        if engine_name == "diffusion":
            from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer

            options = EngineOptions(model=str(args.model) if args.model else "", steps=args.steps,
                                    threads=args.threads)
            engine = DiffusionSynthesizer.from_options("inpaint", options, device=args.device)
            result = engine.fill_healthy(channels, region, args.task, modalities, seed=args.seed,
                                         progress=print_progress, anatomy=anatomy, strength=args.strength)
        else:
            result = fill_region(channels, region, engine_name, seed=args.seed)
        provenance = result.provenance
        for note in provenance.get("notes", []):
            print(f"  note: {note}", file=sys.stderr, flush=True)
        files = []
        for c, channel in enumerate(result.channels):
            save_image(channel, scratch / f"filled_{c}.nii.gz")
            files.append(f"filled_{c}.nii.gz")
        parameters = {"task": args.task, "engine": engine_name, "modalities": modalities, "seed": args.seed}
        if engine_name == "diffusion":
            parameters.update({"steps": args.steps, "strength": args.strength, "device": args.device,
                               "model": str(args.model) if args.model else "default"})
        record = make_record("fill-healthy",
                             inputs={**{f"image_{c}": p for c, p in enumerate(args.image)}, "region": args.region},
                             parameters=parameters, outputs={"folder": args.out}, files=files,
                             provenance=provenance)
        write_json(record, scratch / "fill.json")
    print(f"filled {int(region.array.sum())} voxels in {len(channels)} channel(s) by the {engine_name} fill; "
          f"wrote {args.out}")
    return 0
