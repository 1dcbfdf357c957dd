"""``synthtrust sweep``: run edit -> synthesize -> segment -> evaluate over a grid of edits; write a tidy table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synthtrust.cli.common import (
    add_coordinates_option,
    channel_modalities,
    float_triple,
    name_list,
    point_to_lps,
)
from synthtrust.errors import InputError
from synthtrust.synthesis.engines import ENGINE_NAMES


def segment_list(text: str) -> list[int]:
    """``1-17`` or ``1,7,13`` or a mix (``1-6,17``)."""
    values = []
    try:
        for part in text.replace(" ", "").split(","):
            low, _, high = part.partition("-")
            values += list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of AHA segments such as 1-17 or 7,8,13") from None
    if not values or any(not 1 <= v <= 17 for v in values):
        raise argparse.ArgumentTypeError(f"AHA segments {text!r} must lie in 1..17")
    return values


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep", help="what-if sweep: scar per AHA segment x transmurality, or tumour positions x sizes",
        description="For every edit of the grid: place it, synthesize --variants variants, segment, evaluate and "
                    "audit. --out is a CSV with one row per edit and variant (edit parameters, Dice/HD95/surface Dice "
                    "and volumes per region, fidelity, hallucinated mL, off-target voxels, seconds); a "
                    "<out>.provenance.json sits beside it.")
    parser.add_argument("--task", required=True, choices=("brain-tumor", "cardiac-scar"))
    parser.add_argument("--image", required=True, action="append", type=Path, help="input channel; repeat")
    parser.add_argument("--modalities", type=name_list, help="modality per --image (default t1 / lge)")
    parser.add_argument("--labels", type=Path, help="cardiac: EMIDEC label map with the myocardium")
    parser.add_argument("--segments", type=segment_list, default=list(range(1, 18)), help="AHA segments (1-17)")
    parser.add_argument("--transmurality", type=lambda t: [float(v) for v in t.split(",")], default=[0.25, 0.5, 1.0])
    parser.add_argument("--extent", type=float, default=1.0)
    parser.add_argument("--centers", type=lambda t: [float_triple(p) for p in t.split(";") if p],
                        help="brain: tumour centres 'x,y,z;x,y,z' (see --coordinates)")
    parser.add_argument("--sizes", type=lambda t: [float(v) for v in t.split(",")], default=[20.0],
                        help="brain: tumour core diameters in mm, e.g. 15,30")
    parser.add_argument("--brain-mask", type=Path, help="brain: brain mask (derived when omitted)")
    parser.add_argument("--existing-lesion", type=Path,
                        help="label map of lesions already in the image (e.g. its real tumour): what the segmenter "
                             "finds there is left out of every edit's metrics and audits")
    add_coordinates_option(parser)
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="template")
    parser.add_argument("--model", type=Path, help="generator for the learned engines (default: the shipped one)")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--scheduler", choices=("ddim", "ddpm"), default="ddim")
    parser.add_argument("--guidance", type=float, default=0.0, help="segmenter-guidance weight (0 = off)")
    parser.add_argument("--candidates", type=int, default=1, help="quality filter: candidates per variant")
    parser.add_argument("--quality-threshold", type=float,
                        help="quality filter: keep the candidate whose lesion is recovered best (Dice >= T passes; "
                             "default 0.6 when --candidates > 1)")
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--segmenter", type=Path, help="segmenter (default: the shipped one for the channels)")
    parser.add_argument("--out", required=True, type=Path, help="output CSV")
    parser.set_defaults(run=run)


def _progress(step: int, total: int, message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from synthtrust.imaging.io import load_channels, load_image
    from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
    from synthtrust.provenance import make_record, provenance_path, write_json
    from synthtrust.segmentation.loading import load_segmenter
    from synthtrust.segmentation.loading import load_default_segmenter
    from synthtrust.sweep import run_sweep, scar_points, tumour_points, write_table
    from synthtrust.synthesis.engines import make_synthesizer

    if args.variants < 1:
        raise InputError(f"--variants {args.variants} must be at least 1")
    schema = get_schema(TASK_SCHEMAS[args.task])
    channels = load_channels(args.image)
    modalities = channel_modalities(args.modalities, channels, cardiac=args.task == "cardiac-scar")
    if args.task == "cardiac-scar":
        if not args.labels:
            raise InputError("a scar sweep needs --labels, the EMIDEC label map with the myocardium")
        points = scar_points(load_image(args.labels, "labels"), args.segments, args.transmurality, args.extent,
                             seed=args.seed)
    else:
        if not args.centers:
            raise InputError("a tumour sweep needs --centers 'x,y,z;x,y,z' (RAS mm by default)")
        brain = load_image(args.brain_mask, "brain mask") if args.brain_mask else None
        centers = [point_to_lps(c, args.coordinates, channels[0]) for c in args.centers]
        points = tumour_points(channels[0], centers, args.sizes, brain, args.seed)
    segmenter = (load_segmenter(args.segmenter, args.device, args.task) if args.segmenter
                 else load_default_segmenter(args.task, modalities, args.device))
    synthesizer = make_synthesizer(args.engine, task=args.task, channels=modalities, device=args.device,
                                   steps=args.steps, model=args.model, scheduler=args.scheduler,
                                   guidance=args.guidance, segmenter=segmenter, candidates=args.candidates,
                                   quality_threshold=args.quality_threshold)
    existing = None
    if args.existing_lesion:
        from synthtrust.imaging.image import require_same_grid

        labels = load_image(args.existing_lesion, "existing lesion")
        require_same_grid(channels[0], labels, what="existing lesion")
        existing = labels.array > 0
    rows = run_sweep(points, args.task, channels, modalities, schema, synthesizer, segmenter, args.variants,
                     args.seed, progress=_progress, existing_lesion=existing)
    write_table(rows, args.out)
    record = make_record("sweep", inputs={f"image_{c}": p for c, p in enumerate(args.image)},
                         parameters={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                                     if k not in ("run", "image")},
                         outputs={"table": args.out}, segmenter=segmenter.model_id, rows=len(rows))
    write_json(record, provenance_path(args.out))
    placed = sum(1 for r in rows if r.get("status") == "ok")
    print(json.dumps({"rows": len(rows), "placed": placed, "table": str(args.out)}))
    return 0
