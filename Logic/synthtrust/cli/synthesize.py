"""``synthtrust synthesize``: write a lesion's appearance into an image (one or several channels)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from synthtrust.cli.common import (
    CANDIDATES,
    FRACTION,
    GUIDANCE,
    SEED,
    STEPS,
    THREADS,
    VARIANTS,
    Bounded,
    BoundedList,
    channel_modalities,
    modality_list,
    print_progress,
)
from synthtrust.imaging.io import load_channels, load_image, save_image
from synthtrust.imaging.resample import resample_to
from synthtrust.labels.schema import SCHEMA_NAMES, get_schema
from synthtrust.models.device import DEVICES
from synthtrust.outputs import check_output_folder, publish
from synthtrust.provenance import make_record, write_json
from synthtrust.synthesis.diffusion.config import SCHEDULERS
from synthtrust.synthesis.engines import ENGINE_DESCRIPTIONS, ENGINE_NAMES
from synthtrust.synthesis.options import PRECISIONS, EngineOptions

RESAMPLING = Bounded(int, 1, 20)
GUIDANCE_SHARE = BoundedList(FRACTION, counts=(2,), increasing=True)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "synthesize", help="make a synthetic image carrying the given lesion",
        description="Write the lesion's appearance into a copy of the image, inside the lesion only. --out is a "
                    "folder: it receives variant_<k>_<c>.nii.gz (variant k, input channel c) and synthesis.json.",
    )
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="template",
                        help="; ".join(f"{k}: {v}" for k, v in ENGINE_DESCRIPTIONS.items()))
    parser.add_argument("--image", required=True, action="append", type=Path,
                        help="an input channel; repeat for several (e.g. FLAIR then T1c)")
    parser.add_argument("--modalities", type=modality_list,
                        help="modality of each --image, e.g. flair,t1c (flair, t1, t1c, t2, lge, other); "
                             "default: t1 for brain, lge for cardiac")
    parser.add_argument("--lesion", required=True, type=Path, help="label map with the intended lesion")
    parser.add_argument("--schema", choices=SCHEMA_NAMES, default="brats", help="label schema of --lesion")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    parser.add_argument("--variants", type=VARIANTS, default=1, help="number of variants (seeds seed..seed+K-1)")
    parser.add_argument("--anatomy", type=Path,
                        help="anatomy mask (brain, or myocardium) on the image grid; default: the image foreground "
                             "(brain) or the myocardium labels of --lesion (heart)")
    learned = parser.add_argument_group("learned engines (inpaint, conditional)")
    learned.add_argument("--model", type=Path, help="generator weights (with <name>.json beside) or a MONAI bundle "
                                                   "folder; default: the shipped generator for the task and channels")
    learned.add_argument("--steps", type=STEPS, default=25, help="sampling steps (default 25)")
    learned.add_argument("--scheduler", choices=SCHEDULERS, default="ddim")
    learned.add_argument("--resampling", type=RESAMPLING, default=1,
                         help="inpaint: RePaint resampling passes per step (default 1 = none; 2-5 blend the region "
                              "better at that many times the cost)")
    learned.add_argument("--guidance", type=GUIDANCE, default=0.0,
                         help="segmenter-guidance weight (0 = off; try 1-3)")
    learned.add_argument("--guidance-steps", default=(0.0, 0.5), type=GUIDANCE_SHARE,
                         help="share of the steps that are guided, as start,end (default 0,0.5: the first half)")
    learned.add_argument("--device", choices=DEVICES, default="auto")
    learned.add_argument("--precision", choices=PRECISIONS, default="float32",
                         help="network precision on CUDA (autocast); the CPU always uses float32")
    learned.add_argument("--threads", type=THREADS, help="torch CPU threads")
    learned.add_argument("--whole-image", action="store_true",
                         help="conditional engine: generate the whole image, not a region around the lesion")
    quality = parser.add_argument_group("quality filter (any engine)")
    quality.add_argument("--quality-threshold", type=FRACTION,
                         help="keep candidates whose segmented lesion matches the intended one with Dice >= T "
                              "(default 0.6 when --candidates > 1)")
    quality.add_argument("--candidates", type=CANDIDATES, default=1, help="candidates per variant for the filter (K)")
    quality.add_argument("--segmenter", type=Path,
                         help="segmenter for guidance and the filter (default: the shipped one for the channels)")
    parser.add_argument("--resample", action="store_true",
                        help="resample the lesion onto the image grid (nearest neighbour) when the grids differ, "
                             "instead of refusing")
    parser.set_defaults(run=run)


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """The engine options given on the command line, as the one typed definition the engines read."""
    options = EngineOptions(model=str(args.model) if args.model else "", steps=args.steps, scheduler=args.scheduler,
                            guidance=args.guidance, guidance_steps=list(args.guidance_steps),
                            precision=args.precision, threads=args.threads, resampling=args.resampling,
                            whole_image=args.whole_image, quality_threshold=args.quality_threshold,
                            candidates=args.candidates)
    options.check()
    return options


def run(args: argparse.Namespace) -> int:
    from synthtrust.synthesis.diffusion.engine import SCHEMA_TASKS
    from synthtrust.synthesis.engines import make_synthesizer
    from synthtrust.trust.realism import realism_of

    inputs = [*args.image, args.lesion, args.anatomy, args.model, args.segmenter]
    names = [f"variant_{k}_{c}.nii.gz" for k in range(args.variants) for c in range(len(args.image))]
    check_output_folder(args.out, inputs, "--out", names=[*names, "synthesis.json"])
    schema = get_schema(args.schema)
    channels = load_channels(args.image)
    lesion = load_image(args.lesion, "lesion")
    if args.resample and not lesion.geometry.matches(channels[0].geometry):
        lesion = resample_to(lesion, channels[0].geometry, is_label=True)
    anatomy = load_image(args.anatomy, "anatomy") if args.anatomy else None
    if anatomy is not None and args.resample and not anatomy.geometry.matches(channels[0].geometry):
        anatomy = resample_to(anatomy, channels[0].geometry, is_label=True)
    modalities = channel_modalities(args.modalities, channels, cardiac=schema.name == "emidec")
    segmenter = None
    if args.segmenter:
        from synthtrust.segmentation.loading import load_segmenter

        segmenter = load_segmenter(args.segmenter, args.device)
    options = engine_options(args)
    synthesizer = make_synthesizer(args.engine, options, task=SCHEMA_TASKS.get(schema.name), channels=modalities,
                                   device=args.device, segmenter=segmenter)
    # Refuse bad input (lesion, model, anatomy, region size) before printing progress or writing anything.
    synthesizer.prepare(channels, lesion, schema, modalities, anatomy)
    # Build the whole result in a scratch folder first: a failure or Ctrl-C leaves --out untouched.
    with publish() as outputs:
        scratch = outputs.folder(args.out)
        variants = []
        for k in range(args.variants):
            started = time.perf_counter()
            print(f"variant {k + 1}/{args.variants} ({args.engine}, seed {args.seed + k})", file=sys.stderr, flush=True)
            result = synthesizer.synthesize(channels, lesion, schema, modalities, seed=args.seed + k,
                                            progress=print_progress, anatomy=anatomy)
            for note in result.provenance.get("notes", []):
                print(f"  note: {note}", file=sys.stderr, flush=True)
            realism = realism_of(result.channels, modalities, lesion.array, schema)
            if realism is not None and realism["score"] is not None:
                print(f"  realism {realism['score']:.2f} (least real: {realism['worst_feature']}, z "
                      f"{realism['worst_z']:+.1f})", file=sys.stderr, flush=True)
            files = []
            for c, channel in enumerate(result.channels):
                path = scratch / f"variant_{k}_{c}.nii.gz"
                save_image(channel, path)
                files.append(path.name)
            variants.append({"variant": k, "seed": args.seed + k, "files": files,
                             "seconds": round(time.perf_counter() - started, 3), "provenance": result.provenance,
                             "realism": realism})
        record = make_record("synthesize",
                             inputs={**{f"image_{c}": p for c, p in enumerate(args.image)}, "lesion": args.lesion},
                             parameters={"engine": args.engine, "schema": schema.name, "modalities": modalities,
                                         "seed": args.seed, "variants": args.variants, "device": args.device,
                                         **options.to_json(), "model": options.model or "default"},
                             outputs={"folder": args.out}, variants=variants)
        write_json(record, scratch / "synthesis.json")
    print(f"wrote {args.variants} variant(s) x {len(channels)} channel(s) to {args.out}")
    return 0
