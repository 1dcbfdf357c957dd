"""``synthtrust train-generator``: train the diffusion generator of a task (how the shipped ones are made)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from synthtrust.cli.common import (
    BATCH_SIZE,
    FRACTION,
    ITERATIONS,
    LEARNING_RATE,
    POSITIVE_MILLIMETRES,
    SEED,
    Bounded,
    BoundedList,
    TrainingBar,
    add_training_options,
    modality_list,
)
from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS
from synthtrust.outputs import check_output_folder, publish
from synthtrust.provenance import json_text

NETWORK_CHANNELS = BoundedList(Bounded(int, 8, 1024), increasing=True)
HEALTHY_RADII = BoundedList(POSITIVE_MILLIMETRES, counts=(2,), increasing=True)
# The files a training writes into --out besides the checkpoint (which is written as training goes).
MODEL_FILE_SUFFIXES = (".safetensors", ".json", ".md", "_loss.png", "_loss.csv", ".manifest-entry.json")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train-generator", help="train a diffusion generator for the inpaint/conditional engines",
        description="Train a MONAI DiffusionModelUNet on licence-permitted data (TCGA-LGG CC BY 3.0 real tumours; "
                    "Sunnybrook CC0 and project phantoms with project-placed scars). Resumable (--resume). Writes "
                    "<id>.safetensors, <id>.json, <id>.md (model card), <id>_loss.png/.csv, <id>.checkpoint.pt and "
                    "<id>.manifest-entry.json into --out.",
    )
    parser.add_argument("--task", required=True, choices=sorted(TASK_SCHEMAS))
    parser.add_argument("--channels", required=True, type=modality_list, help="e.g. flair,t1c (brain) or lge (heart)")
    parser.add_argument("--engine", choices=("inpaint", "conditional", "both"), default="both",
                        help="which engine(s) the generator serves (both: one set of weights for the two)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--id", dest="model_id", help="names the files; default <task>-<channels>-diffusion")
    parser.add_argument("--iterations", type=ITERATIONS, default=1000, help="training iterations (batches)")
    parser.add_argument("--batch-size", type=BATCH_SIZE, default=4, help="patches per iteration")
    parser.add_argument("--learning-rate", type=LEARNING_RATE, default=3e-4, help="AdamW learning rate")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    parser.add_argument("--network-channels", type=NETWORK_CHANNELS,
                        help="feature channels per level, each a multiple of 8, e.g. 8,16,32 (default: the task's "
                             "preset)")
    parser.add_argument("--lesion-share", type=FRACTION, default=0.5,
                        help="share of patches around lesions; the rest fill healthy blobs (default 0.5)")
    parser.add_argument("--healthy-radius-mm", type=HEALTHY_RADII,
                        default=(4.0, 12.0), help="radius range of the healthy blobs to fill, in mm (default 4,12)")
    parser.add_argument("--hold-out", action="append", default=[], metavar="CASE",
                        help="leave out the training cases whose name contains CASE (repeatable), e.g. "
                             "TCGA-DU-7294 to measure the generator on a brain it never saw")
    parser.add_argument("--resume", action="store_true", help="continue from <id>.checkpoint.pt in --out")
    parser.add_argument("--init-from", type=Path, metavar="WEIGHTS",
                        help="fine-tune: start from this generator's weights (same task, channels and network; its "
                             "<name>.json beside it) instead of from random weights")
    add_training_options(parser, "generators")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthtrust.models.channels import canonical_channel
    from synthtrust.models.device import choose_device
    from synthtrust.models.model_files import update_manifest
    from synthtrust.synthesis.diffusion.config import preset
    from synthtrust.training.generator import GeneratorTraining, train_generator
    from synthtrust.training.generator_data import generator_cases, toy_cases

    channels = [canonical_channel(c) for c in args.channels]
    config = preset(args.task, channels, tiny=args.dataset == "toy")
    config.id = args.model_id or f"{args.task}-{'-'.join(channels)}-diffusion"
    config.engines = ["inpaint", "conditional"] if args.engine == "both" else [args.engine]
    if args.network_channels:
        config.network_channels = args.network_channels
        config.attention_levels = [False] * len(args.network_channels)
    config.validate()
    init_config = args.init_from.with_name(args.init_from.name.split(".")[0] + ".json") if args.init_from else None
    check_output_folder(args.out, [args.data_root, args.init_from, init_config], "--out",
                        names=[config.id + suffix for suffix in MODEL_FILE_SUFFIXES] + ["manifest.json"])
    if args.init_from is not None and not args.init_from.is_file():
        raise InputError(f"--init-from {args.init_from} is not a file; give the .safetensors of a trained generator "
                         "(its <name>.json beside it)")
    checkpoint = args.out / f"{config.id}.checkpoint.pt"
    if args.resume and not checkpoint.is_file():
        raise InputError(f"--resume: there is no checkpoint {checkpoint} to continue from; run without --resume to "
                         "start a new training, or give the --out and --id of the interrupted one")
    if args.dataset == "toy":
        config.spacing_mm = [2.0, 2.0, 2.0 if config.spatial_dims == 3 else 0.0]
        cases, sources = toy_cases(args.task, channels), [{"source": "seeded toy volumes", "licence":
                                                            "project-generated", "cases": 2, "use": "pipeline check"}]
    else:
        cases, sources = generator_cases(args.task, channels, args.seed, args.data_root)
    for name in args.hold_out:
        kept = [case for case in cases if name not in case.name]
        if len(kept) == len(cases):
            raise InputError(f"--hold-out {name} matches no training case; the cases are "
                             f"{', '.join(case.name for case in cases)}")
        cases = kept
    for source in sources if args.hold_out else []:
        source["cases"] = sum(1 for case in cases if case.source == source["source"])
        source["use"] += f"; held out: {', '.join(args.hold_out)}"
    training = GeneratorTraining(
        config, cases, sources, args.out, iterations=args.iterations, batch_size=args.batch_size,
        learning_rate=args.learning_rate, seed=args.seed, lesion_share=args.lesion_share,
        healthy_radius_mm=args.healthy_radius_mm, device=str(choose_device(args.device)),
        threads=args.threads, title=args.title, init_from=args.init_from,
        command=shlex.join(["synthtrust", *sys.argv[1:]]) if sys.argv[1:] else "")
    print(f"training generator {config.id} ({', '.join(config.engines)}) on {len(cases)} case(s)", flush=True)
    bar = TrainingBar(args.iterations)

    # The checkpoint is written into --out as training goes (so an interrupted run can --resume); the model
    # files go to a scratch folder and are moved into --out together when training has finished.
    try:
        with publish() as outputs:
            log = train_generator(training, resume=args.resume, progress=bar.update,
                                  files_folder=outputs.folder(args.out))
    finally:
        bar.close()
    entry_path = args.out / f"{config.id}.manifest-entry.json"
    if args.update_manifest:
        update_manifest(args.out / "manifest.json", json.loads(entry_path.read_text(encoding="utf-8")))
    print(json_text({"model": config.id, "iterations": len(log.losses), "final_loss": log.losses[-1],
                     "minutes": round(log.seconds / 60, 2), "resumed_from": log.resumed_from,
                     "files": sorted(p.name for p in args.out.glob(f"{config.id}*"))}))
    return 0
