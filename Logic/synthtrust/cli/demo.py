"""``synthtrust demo --out DIR``: the whole loop on a real brain and a generated heart."""

from __future__ import annotations

import argparse
from pathlib import Path

from synthtrust.cli.common import SEED
from synthtrust.models.device import DEVICES
from synthtrust.outputs import check_output_folder, publish

# What the demo writes into --out (checked before the run so none of them can replace an input).
DEMO_FILES = ("report.html", "metrics.json", "scene.mrb")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole loop on a real brain (MNI152) and a generated heart; write a report",
        description="Insert a tumour into the MNI152 T1 template and a scar into a generated LGE heart, "
                    "synthesize variants, segment, evaluate, and write DIR/report.html, DIR/metrics.json and "
                    "DIR/scene.mrb (open it in 3D Slicer).",
    )
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder (new or existing; the demo's files replace earlier ones, others stay)")
    parser.add_argument("--fast", action="store_true", help="fewer variants (for CI)")
    parser.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthtrust.demo import run_demo

    check_output_folder(args.out, option="--out", names=DEMO_FILES)
    # The whole demo is written into a scratch folder beside --out and moved in when it has succeeded.
    with publish() as outputs:
        summary = run_demo(outputs.folder(args.out), fast=args.fast, seed=args.seed, device=args.device,
                           progress=lambda message: print(f"[demo] {message}", flush=True))
    for slug, case in summary["cases"].items():
        fidelity = [v["audits"]["conditioning_fidelity"]["dice"] for v in case["variants"]]
        realism = [(v["audits"].get("realism") or {}).get("score") for v in case["variants"]]
        shown = f"; realism per variant {[round(r, 2) for r in realism]}" if all(r is not None for r in realism) else ""
        print(f"{slug}: fidelity Dice per variant {[round(f, 3) for f in fidelity]}{shown}")
    print(f"done in {summary['seconds']} s: open {args.out / 'report.html'} or load {args.out / 'scene.mrb'} "
          "in 3D Slicer")
    return 0
