"""``synthtrust train-segmenter``: train a segmenter the way the shipped defaults are trained."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from synthtrust.cli.common import add_training_options, name_list
from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS
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
    parser.add_argument("--channels", required=True, type=name_list, help="e.g. flair,t1c or t1 (brain), lge (heart)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--architecture", choices=ARCHITECTURE_CHOICES, default="unet")
    parser.add_argument("--model-id", help="names the files; default <task>-<channels>-<architecture>")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    add_training_options(parser, "defaults")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from synthtrust.segmentation.config import preset_config
    from synthtrust.segmentation.datasets import default_dataset, toy_dataset
    from synthtrust.models.model_files import update_manifest
    from synthtrust.segmentation.training import TrainingConfig, train_segmenter

    if args.iterations < 1:
        raise InputError(f"--iterations {args.iterations} must be at least 1")
    if args.threads is not None:
        if args.threads < 1:
            raise InputError(f"--threads {args.threads} must be at least 1")
        torch.set_num_threads(args.threads)
    network = preset_config(args.task, args.channels, args.architecture, args.model_id or "")
    if args.dataset == "toy":
        dataset = toy_dataset(args.task, network.channels, args.seed)
        network.target_spacing_mm = None  # toy volumes are already coarse
        network.roi_size = tuple(min(r, 32) for r in network.roi_size)
        network.validate()
    else:
        dataset = default_dataset(args.task, network.channels, args.seed, args.data_root)
    config = TrainingConfig(
        network, dataset, args.out, iterations=args.iterations, seed=args.seed, batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        # Brains: left-right mirror images are plausible, other flips are not. Short-axis hearts: acquisitions
        # differ in in-plane orientation, so any flip or quarter turn in the x-y plane is plausible.
        flip_axes=(0,) if args.task == "brain-tumor" else (0, 1),
        rotate_plane=None if args.task == "brain-tumor" else (0, 1),
        device=args.device, command=shlex.join(["synthtrust", *sys.argv[1:]]) if sys.argv[1:] else "",
        title=args.title, data_root=args.data_root)
    print(f"training {network.id}: {len(dataset.training)} training and {len(dataset.validation)} validation cases "
          f"from {dataset.name}", flush=True)
    bar = tqdm(total=args.iterations, desc="training", unit="it", file=sys.stderr, mininterval=1.0)

    def progress(done: int, total: int, loss: float) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)

    try:
        report = train_segmenter(config, progress=progress, log=lambda message: bar.write(message))
    finally:
        bar.close()
    if args.update_manifest:
        entry = json.loads(Path(report.files["manifest_entry"]).read_text())
        manifest = update_manifest(Path(args.out) / "manifest.json", entry)
        report.files["manifest"] = str(manifest)
    print(json_text({"model": report.model_id, "validation_dice": report.validation_dice,
                     "cpu_inference_seconds": report.cpu_inference_seconds, "seconds": report.seconds,
                     "files": report.files}))
    return 0
