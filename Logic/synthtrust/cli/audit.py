"""``synthtrust audit bias`` (a metric stratified by lesion size, AHA segment or transmurality) and ``audit coverage``
(lesions per grid cell, gaps filled): ``synthtrust.audits``."""

from __future__ import annotations

import argparse
import csv
from dataclasses import asdict
from pathlib import Path

from synthtrust.audits.bias import ATTRIBUTES
from synthtrust.cli.common import FRACTION, SEED, Bounded, name_list
from synthtrust.errors import InputError
from synthtrust.outputs import check_output_folder, publish

OUTPUTS = ("bias.json", "bias.csv", "bias.png", "bias.provenance.json")
COVERAGE_OUTPUTS = ("coverage.json", "coverage.png", "coverage.provenance.json")
FILL = Bounded(int, 1, 100)


def _attributes(text: str) -> list[str]:
    names = name_list(text)
    unknown = [n for n in names if n not in ATTRIBUTES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown attribute {','.join(unknown) or repr(text)}; use some of "
                                         f"{', '.join(ATTRIBUTES)}")
    return names


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="audits over many runs: bias")
    audits = parser.add_subparsers(dest="audit", required=True, metavar="AUDIT")
    bias = audits.add_parser("bias", help="a metric per stratum of size, segment, transmurality, with CIs",
                             description="Writes bias.json, bias.csv, bias.png and bias.provenance.json into --out.")
    bias.add_argument("--results", required=True, type=Path, help="a sweep CSV or a study's study.json")
    bias.add_argument("--by", required=True, type=_attributes, help="size,segment,transmurality (any of them)")
    bias.add_argument("--region", default="", help="region whose Dice is audited (default: scar or WT)")
    bias.add_argument("--alpha", type=FRACTION, help="a study: only the tasks at this alpha (default: all)")
    bias.add_argument("--out", required=True, type=Path, help="output folder")
    bias.set_defaults(run=run_bias)
    cover = audits.add_parser("coverage", help="lesions per cell of segment x transmurality [x size]; fill gaps",
                              description="Writes coverage.json, coverage.png and coverage.provenance.json into "
                                          "--report; with --fill K, K edits per empty cell into the data set --out.")
    cover.add_argument("--dataset", required=True, type=Path, help="data set folder or CSV manifest")
    cover.add_argument("--task", required=True, choices=("cardiac-scar",))
    cover.add_argument("--grid", default="segment,transmurality", type=name_list,
                       help="segment,transmurality[,size]")
    cover.add_argument("--report", required=True, type=Path, help="folder for the coverage report")
    cover.add_argument("--fill", type=FILL, help="edits to generate for each empty cell")
    cover.add_argument("--out", type=Path, help="with --fill: the new data set folder (EMIDEC layout)")
    cover.add_argument("--seed", type=SEED, default=0, help="seed of the fill edits")
    cover.set_defaults(run=run_coverage)


def run_bias(args: argparse.Namespace) -> int:
    from synthtrust.audits import bias
    from synthtrust.provenance import json_text, make_record, write_json

    results = args.results
    if not results.is_file():
        raise InputError(f"--results {results} is not a file; give a sweep CSV or a study.json")
    check_output_folder(args.out, [results], "--out", names=OUTPUTS)
    if results.suffix.lower() == ".csv":
        values, strata, metric = bias.from_sweep_csv(results, args.by, args.region or "scar")
    elif results.suffix.lower() == ".json":
        values, strata, metric = bias.from_study(results, args.by, args.region or "scar", args.alpha)
    else:
        raise InputError(f"--results {results}: give a sweep .csv or a study .json")
    result = bias.audit(values, strata, str(results), metric)
    with publish() as outputs:
        write_json(result.to_dict(), outputs.file(args.out / "bias.json"))
        with open(outputs.file(args.out / "bias.csv"), "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(asdict(result.strata[0])))
            writer.writeheader()
            writer.writerows(asdict(s) for s in result.strata)
        bias.draw(result, outputs.file(args.out / "bias.png"))
        write_json(make_record("audit bias", {"results": results}, {"by": args.by, "region": args.region,
                                                                     "alpha": args.alpha},
                               {name: args.out / name for name in OUTPUTS[:3]}),
                   outputs.file(args.out / "bias.provenance.json"))
    print(json_text({"overall_mean": result.overall_mean, "gaps": result.gaps,
                     "flagged": [f"{s.attribute}={s.stratum}" for s in result.strata if s.flagged]}))
    return 0


def run_coverage(args: argparse.Namespace) -> int:
    from synthtrust.audits import coverage
    from synthtrust.datasets import read_dataset
    from synthtrust.provenance import json_text, make_record, write_json

    if (args.fill is None) != (args.out is None):
        raise InputError("--fill K and --out DATASET2 go together: K edits per empty cell, written to DATASET2")
    check_output_folder(args.report, [args.dataset], "--report", names=COVERAGE_OUTPUTS)
    if args.out is not None:
        check_output_folder(args.out, [args.dataset, args.report], "--out")
        if args.out.exists() and any(args.out.iterdir()):
            raise InputError(f"--out {args.out} is not empty; give a new folder for the filled data set")
    dataset = read_dataset(args.dataset, args.task)
    cases = coverage.stacked_cases(dataset)
    result = coverage.coverage(cases, args.grid)
    with publish() as outputs:
        made = coverage.fill(result, cases, args.fill, outputs.folder(args.out), args.seed) if args.fill else []
        report = {**result.to_dict(), "dataset": dataset.describe(), "fill": made}
        write_json(report, outputs.file(args.report / "coverage.json"))
        coverage.draw(result, outputs.file(args.report / "coverage.png"))
        write_json(make_record("audit coverage", {}, {"dataset": str(args.dataset), "grid": args.grid,
                                                       "fill": args.fill, "seed": args.seed},
                               {"report": args.report, "dataset": args.out}, fill=made),
                   outputs.file(args.report / "coverage.provenance.json"))
    print(json_text({"lesions": len(result.lesions), "cells": len(result.cells), "empty": len(result.empty()),
                     "thin": len(result.thin()), "filled": sum(m["status"] == "ok" for m in made)}))
    return 0
