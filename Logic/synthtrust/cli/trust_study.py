"""``synthtrust trust-study``: the real/synthetic mixture study (docs/trust-study.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synthtrust.cli.common import (
    BATCH_SIZE,
    FRACTION,
    ITERATIONS,
    LEARNING_RATE,
    POSITIVE_FRACTION,
    SEED,
    Bounded,
    BoundedList,
)
from synthtrust.study.settings import ENGINES, EXECUTORS, TASKS

ALPHAS = BoundedList(FRACTION)
SEEDS = Bounded(int, 1, 100)
TRAIN_SIZE = Bounded(int, 1, 1_000_000)
WORKERS = Bounded(int, 1, 256)
IMAGE_SIZE = Bounded(int, 16, 512)
BOOTSTRAP = Bounded(int, 100, 100_000)
TEST_CASES = Bounded(int, 0, 1_000_000)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "trust-study", help="train segmenters on real/synthetic mixtures and read T1-T5 against alpha",
        description="For each alpha and seed, train a small 2D segmenter on --train-size slices of which a fraction "
                    "alpha is real, test it on the real and a synthetic test set, and report T1-T5 per alpha with "
                    "bootstrap CIs: DIR/study.json, study.csv, curves.png, report.html, study.provenance.json.")
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--real", required=True, type=Path, help="real data set (folder or CSV manifest)")
    parser.add_argument("--out", required=True, type=Path, help="study folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", type=Path, help="synthetic data set (folder or CSV manifest)")
    source.add_argument("--generate", choices=ENGINES, help="place synthetic lesions in the real cases' anatomy")
    parser.add_argument("--alphas", type=ALPHAS, default=[0.0, 0.25, 0.5, 0.75, 1.0], help="fractions of real data")
    parser.add_argument("--seeds", type=SEEDS, default=3, help="seeds per alpha")
    parser.add_argument("--train-size", type=TRAIN_SIZE, default=40, help="training slices per task")
    parser.add_argument("--iterations", type=ITERATIONS, default=200, help="training iterations per task")
    parser.add_argument("--batch-size", type=BATCH_SIZE, default=8, help="slices per iteration")
    parser.add_argument("--image-size", type=IMAGE_SIZE, default=128, help="slices are resampled to this square")
    parser.add_argument("--crop", type=POSITIVE_FRACTION, default=1.0,
                        help="keep the central crop of this fraction of each side before resampling")
    parser.add_argument("--learning-rate", type=LEARNING_RATE, default=2e-3, help="AdamW learning rate")
    parser.add_argument("--test-fraction", type=POSITIVE_FRACTION, default=0.2, help="share of patients tested")
    parser.add_argument("--max-test-cases", type=TEST_CASES, default=0, help="cap on test patients (0: all)")
    parser.add_argument("--split-seed", type=SEED, default=0, help="seed of the train/test split by patient")
    parser.add_argument("--bootstrap", type=BOOTSTRAP, default=1000, help="bootstrap resamples per CI")
    parser.add_argument("--executor", choices=EXECUTORS, default="local")
    parser.add_argument("--ray-address", help="join this Ray cluster (with --executor ray); default: start one")
    parser.add_argument("--workers", type=WORKERS, default=1, help="tasks run at once (one torch thread each)")
    parser.add_argument("--resume", action="store_true", help="keep the finished tasks of an earlier run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthtrust.provenance import json_text
    from synthtrust.study.run import run_study
    from synthtrust.study.settings import StudySettings

    if args.image_size % 16:
        from synthtrust.errors import InputError

        raise InputError(f"--image-size {args.image_size} must be a multiple of 16 (four network levels)")
    settings = StudySettings(
        args.task, str(args.real), str(args.synthetic) if args.synthetic else None, args.generate, args.alphas,
        args.seeds, args.train_size, args.iterations, args.executor, args.ray_address, args.workers,
        args.test_fraction, args.split_seed, args.image_size, args.crop, args.batch_size, args.learning_rate,
        max_test_cases=args.max_test_cases, n_bootstrap=args.bootstrap)
    study = run_study(settings, args.out, args.resume, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json_text({"study": str(args.out / "study.json"), "verdicts": study["verdicts"],
                     "seconds": study["seconds"]}, indent=2))
    return 0
