"""``synthtrust sweep``: run edit -> synthesize -> segment -> evaluate over a grid of edits; write a tidy table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synthtrust.cli.common import (
    CANDIDATES,
    FRACTION,
    GUIDANCE,
    POSITIVE_FRACTION,
    POSITIVE_MILLIMETRES,
    SEED,
    STEPS,
    VARIANTS,
    BoundedList,
    add_coordinates_option,
    channel_modalities,
    float_triple,
    modality_list,
    point_to_lps,
    segment_list,
)
from synthtrust.cli.heart import orientation_for_scar, segment_heart
from synthtrust.errors import InputError
from synthtrust.metrics.conventions import DEFAULT_HD95, HD95_CONVENTIONS
from synthtrust.models.device import DEVICES
from synthtrust.outputs import CSV_EXTENSIONS, check_output_file, publish
from synthtrust.settings import SweepSettings
from synthtrust.synthesis.diffusion.config import SCHEDULERS
from synthtrust.synthesis.engines import ENGINE_NAMES
from synthtrust.synthesis.options import EngineOptions

TRANSMURALITY_LEVELS = BoundedList(POSITIVE_FRACTION)
TUMOUR_SIZES = BoundedList(POSITIVE_MILLIMETRES)


def center_list(text: str) -> list[tuple[float, float, float]]:
    """Tumour centres ``x,y,z;x,y,z``."""
    centers = [float_triple(part) for part in text.split(";") if part.strip()]
    if not centers:
        raise argparse.ArgumentTypeError(f"{text!r} holds no centre; give 'x,y,z' or 'x,y,z;x,y,z'")
    return centers


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep", help="what-if sweep: scar per AHA segment x transmurality, or tumour positions x sizes",
        description="For every edit of the grid: place it, synthesize --variants variants, segment, evaluate and "
                    "audit. --out is a CSV with one row per edit and variant (edit parameters, Dice/HD95/surface Dice "
                    "and volumes per region, the audits and timings, named as in the metric catalogue); a "
                    "<out>.provenance.json sits beside it.")
    parser.add_argument("--task", required=True, choices=("brain-tumor", "cardiac-scar"))
    parser.add_argument("--image", required=True, action="append", type=Path, help="input channel; repeat")
    parser.add_argument("--modalities", type=modality_list, help="modality per --image (default t1 / lge)")
    parser.add_argument("--labels", type=Path, help="cardiac: EMIDEC label map with the myocardium (default: "
                                                    "segmented from the LGE image, as place-scar --image)")
    parser.add_argument("--segments", type=segment_list, default=list(range(1, 18)), help="AHA segments (1-17)")
    parser.add_argument("--transmurality", type=TRANSMURALITY_LEVELS, default=[0.25, 0.5, 1.0],
                        help="cardiac: transmurality levels, fractions of the wall, e.g. 0.25,0.5,1.0")
    parser.add_argument("--extent", type=POSITIVE_FRACTION, default=1.0,
                        help="cardiac: circumferential fraction of each segment covered")
    parser.add_argument("--centers", type=center_list,
                        help="brain: tumour centres 'x,y,z;x,y,z' (see --coordinates)")
    parser.add_argument("--sizes", type=TUMOUR_SIZES, default=[20.0],
                        help="brain: tumour core diameters in mm, e.g. 15,30")
    parser.add_argument("--brain-mask", type=Path, help="brain: brain mask (derived when omitted)")
    parser.add_argument("--existing-lesion", type=Path,
                        help="label map of lesions already in the image (e.g. its real tumour): what the segmenter "
                             "finds there is left out of every edit's metrics and audits")
    add_coordinates_option(parser)
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="template")
    parser.add_argument("--model", type=Path, help="generator for the learned engines (default: the shipped one)")
    parser.add_argument("--steps", type=STEPS, default=25, help="sampling steps of the learned engines")
    parser.add_argument("--scheduler", choices=SCHEDULERS, default="ddim")
    parser.add_argument("--guidance", type=GUIDANCE, default=0.0, help="segmenter-guidance weight (0 = off)")
    parser.add_argument("--candidates", type=CANDIDATES, default=1, help="quality filter: candidates per variant")
    parser.add_argument("--quality-threshold", type=FRACTION,
                        help="quality filter: keep the candidate whose lesion is recovered best (Dice >= T passes; "
                             "default 0.6 when --candidates > 1)")
    parser.add_argument("--variants", type=VARIANTS, default=1, help="synthetic variants per edit")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--segmenter", type=Path, help="segmenter (default: the shipped one for the channels)")
    parser.add_argument("--hd95", choices=tuple(HD95_CONVENTIONS), default=DEFAULT_HD95,
                        help="HD95 convention: brats (pooled 95th percentile, as the official BraTS evaluation; "
                             "default) or monai (max of the directed 95th percentiles)")
    parser.add_argument("--out", required=True, type=Path, help="output CSV (.csv)")
    parser.set_defaults(run=run)


def _progress(step: int, total: int, message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check_edits(args: argparse.Namespace, channels) -> tuple[list, object | None]:
    """The sweep's edits, each refused as the single-edit command refuses it (the same check functions), before
    any work; returns the sweep points and the existing-lesion mask."""
    from synthtrust.editing.scar import check_scar_request
    from synthtrust.editing.tumor import check_tumor_request
    from synthtrust.imaging.image import require_same_grid
    from synthtrust.imaging.io import load_image
    from synthtrust.sweep import scar_points, tumour_points

    if args.task == "cardiac-scar":
        # The same typed grid as the panel's sweep job (irregularity and MVO at its defaults).
        grid = SweepSettings(segments=args.segments, transmurality=args.transmurality, extent=args.extent,
                             seed=args.seed)
        grid.check()
        rv_insertion = None
        if args.labels:
            labels = load_image(args.labels, "labels")
        else:  # the user's own LGE: its heart segmented first, oriented by its RV (as place-scar --image)
            labels = segment_heart(channels[0], args.segmenter).labels
            orientation = orientation_for_scar(argparse.Namespace(rv_insertion=None), labels, channels[0])
            rv_insertion = orientation.point
            print(f"no --labels: myocardium segmented from the LGE image; AHA orientation: {orientation.source}")
        check_scar_request(labels, grid.segments, grid.transmurality, grid.extent, image=channels[0],
                           name=f"label map {args.labels or '(segmented from the image)'}")
        points = scar_points(labels, grid.segments, grid.transmurality, grid.extent, grid.irregularity, grid.mvo,
                             grid.seed, rv_insertion)
    else:
        if not args.centers:
            raise InputError("a tumour sweep needs --centers 'x,y,z;x,y,z' (RAS mm by default)")
        brain = load_image(args.brain_mask, "brain mask") if args.brain_mask else None
        centers = [point_to_lps(c, args.coordinates, channels[0]) for c in args.centers]
        for center in centers:
            for size in args.sizes:
                _, brain = check_tumor_request(channels[0], tuple(center), size, seed=args.seed, brain_mask=brain)
        points = tumour_points(channels[0], centers, args.sizes, brain, args.seed)
    existing = None
    if args.existing_lesion:
        lesion = load_image(args.existing_lesion, "existing lesion")
        require_same_grid(channels[0], lesion, what="existing lesion")
        existing = lesion.array > 0
    return points, existing


def run(args: argparse.Namespace) -> int:
    from synthtrust.imaging.io import load_channels
    from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
    from synthtrust.provenance import make_record, provenance_path, write_json
    from synthtrust.segmentation.loading import load_default_segmenter, load_segmenter
    from synthtrust.sweep import run_sweep, write_table
    from synthtrust.synthesis.engines import make_synthesizer

    check_output_file(args.out, [*args.image, args.labels, args.brain_mask, args.existing_lesion, args.model,
                                 args.segmenter], "--out", extensions=CSV_EXTENSIONS, provenance=True)
    schema = get_schema(TASK_SCHEMAS[args.task])
    channels = load_channels(args.image)
    modalities = channel_modalities(args.modalities, channels, cardiac=args.task == "cardiac-scar")
    points, existing = _check_edits(args, channels)
    segmenter = (load_segmenter(args.segmenter, args.device, args.task) if args.segmenter
                 else load_default_segmenter(args.task, modalities, args.device))
    options = EngineOptions(model=str(args.model) if args.model else "", steps=args.steps, scheduler=args.scheduler,
                            guidance=args.guidance, candidates=args.candidates,
                            quality_threshold=args.quality_threshold)
    synthesizer = make_synthesizer(args.engine, options, task=args.task, channels=modalities, device=args.device,
                                   segmenter=segmenter)
    rows = run_sweep(points, args.task, channels, modalities, schema, synthesizer, segmenter, args.variants,
                     args.seed, progress=_progress, existing_lesion=existing, hd95=args.hd95)
    record = make_record("sweep", inputs={f"image_{c}": p for c, p in enumerate(args.image)},
                         parameters={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                                     if k not in ("run", "image")},
                         outputs={"table": args.out}, segmenter=segmenter.model_id, rows=len(rows))
    with publish() as outputs:
        write_table(rows, outputs.file(args.out))
        write_json(record, outputs.file(provenance_path(args.out)))
    placed = sum(1 for r in rows if r.ok)
    print(json.dumps({"rows": len(rows), "placed": placed, "table": str(args.out)}))
    return 0
