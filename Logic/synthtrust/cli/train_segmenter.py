"""``synthtrust train-segmenter``: train a segmenter the way the shipped defaults are trained."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from synthtrust.cli.common import (
    BATCH_SIZE,
    ITERATIONS,
    LEARNING_RATE,
    POSITIVE_FRACTION,
    SEED,
    TrainingBar,
    add_training_options,
    modality_list,
)
from synthtrust.labels.schema import TASK_SCHEMAS
from synthtrust.outputs import check_output_folder, publish
from synthtrust.provenance import json_text

ARCHITECTURE_CHOICES = ("unet", "segresnet", "swinunetr")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train-segmenter", help="train a segmenter (how the shipped defaults are made)",
        description="Train on licence-permitted data (TCGA-LGG CC BY 3.0, MNI152, Sunnybrook CC0) plus lesions the "
                    "project synthesizes; never on non-commercial data. Writes <id>.safetensors, <id>.json, <id>.md "
                    "(model card), <id>_loss.png/.csv and <id>.manifest-entry.json into --out.",
    )
    parser.add_argument("--task", required=True, choices=sorted(TASK_SCHEMAS))
    parser.add_argument("--channels", required=True, type=modality_list, help="e.g. flair,t1c or t1 (brain), lge (heart)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--iterations", type=ITERATIONS, default=1000, help="training iterations (batches)")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    parser.add_argument("--architecture", choices=ARCHITECTURE_CHOICES, default="unet")
    parser.add_argument("--model-id", help="names the files; default <task>-<channels>-<architecture>")
    parser.add_argument("--batch-size", type=BATCH_SIZE, default=2, help="patches per iteration")
    parser.add_argument("--learning-rate", type=LEARNING_RATE, default=2e-3, help="AdamW learning rate")
    add_training_options(parser, "defaults", dataset_paths=True)
    parser.add_argument("--validation-fraction", type=POSITIVE_FRACTION, default=0.2,
                        help="with --dataset PATH: share of patients held out for validation")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from synthtrust.datasets import read_dataset, training_dataset
    from synthtrust.models.model_files import update_manifest
    from synthtrust.segmentation.config import preset_config
    from synthtrust.training.datasets import default_dataset, toy_dataset
    from synthtrust.training.segmenter import TrainingConfig, train_segmenter

    network = preset_config(args.task, args.channels, args.architecture, args.model_id or "")
    suffixes = (".safetensors", ".json", ".md", "_loss.png", "_loss.csv", ".manifest-entry.json")
    user_data = args.dataset not in ("default", "toy")
    check_output_folder(args.out, [args.data_root, args.dataset if user_data else None], "--out",
                        names=[network.id + suffix for suffix in suffixes] + ["manifest.json"])
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.dataset == "toy":
        dataset = toy_dataset(args.task, network.channels, args.seed)
        network.target_spacing_mm = None  # toy volumes are already coarse
        network.roi_size = tuple(min(r, 32) for r in network.roi_size)
        network.validate()
    elif user_data:
        dataset = training_dataset(read_dataset(args.dataset, args.task, network.channels),
                                   args.validation_fraction, args.seed)
    else:
        dataset = default_dataset(args.task, network.channels, args.seed, args.data_root)
    # The model files are written into a scratch folder and moved into --out together when training and
    # validation have succeeded: a failure or Ctrl-C leaves --out as it was.
    with publish() as outputs:
        scratch = outputs.folder(args.out)
        config = TrainingConfig(
            network, dataset, scratch, iterations=args.iterations, seed=args.seed, batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            # Brains: left-right mirror images are plausible, other flips are not. Short-axis hearts: acquisitions
            # differ in in-plane orientation, so any flip or quarter turn in the x-y plane is plausible.
            flip_axes=(0,) if args.task == "brain-tumor" else (0, 1),
            rotate_plane=None if args.task == "brain-tumor" else (0, 1),
            device=args.device, command=shlex.join(["synthtrust", *sys.argv[1:]]) if sys.argv[1:] else "",
            title=args.title, data_root=args.data_root)
        print(f"training {network.id}: {len(dataset.training)} training and {len(dataset.validation)} validation "
              f"cases from {dataset.name}", flush=True)
        bar = TrainingBar(args.iterations)
        try:
            report = train_segmenter(config, progress=bar.update, log=bar.write)
        finally:
            bar.close()
    files = {name: str(Path(args.out) / Path(path).name) for name, path in report.files.items()}
    if args.update_manifest:
        entry = json.loads(Path(files["manifest_entry"]).read_text(encoding="utf-8"))
        files["manifest"] = str(update_manifest(Path(args.out) / "manifest.json", entry))
    print(json_text({"model": report.model_id, "validation_dice": report.validation_dice,
                      "cpu_inference_seconds": report.cpu_inference_seconds, "seconds": report.seconds,
                      "files": files}, indent=2))
    return 0
