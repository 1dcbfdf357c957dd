"""``synthtrust evaluate``: per-region metrics between a reference and a predicted label map."""

from __future__ import annotations

import argparse
from pathlib import Path

from synthtrust.cli.common import MILLIMETRES
from synthtrust.imaging.image import require_same_grid
from synthtrust.imaging.io import load_image
from synthtrust.imaging.resample import resample_to
from synthtrust.labels.schema import SCHEMA_NAMES, get_schema
from synthtrust.metrics.catalogue import METRICS_BY_NAME
from synthtrust.outputs import JSON_EXTENSIONS, check_output_file, publish
from synthtrust.provenance import make_record, write_json


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="per-region Dice, HD95, surface distances, volumes and detection for two label files",
        description="Compare a predicted label map with a reference, region by region (e.g. BraTS WT/TC/ET). "
                    "Empty masks follow the stated policy (BraTS convention by default).",
    )
    parser.add_argument("--reference", required=True, type=Path, help="reference label map")
    parser.add_argument("--prediction", required=True, type=Path, help="predicted label map")
    parser.add_argument("--schema", required=True, choices=SCHEMA_NAMES, help="label schema of both maps")
    parser.add_argument("--json", required=True, type=Path, dest="json_out", help="where to write the metrics (.json; it holds its provenance)")
    parser.add_argument("--tolerance-mm", type=MILLIMETRES, default=1.0, help="surface Dice tolerance (mm)")
    parser.add_argument("--resample", action="store_true",
                        help="resample the prediction onto the reference grid (nearest neighbour) when the "
                             "grids differ, instead of refusing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthtrust.metrics import evaluate_labels

    check_output_file(args.json_out, [args.reference, args.prediction], "--json", extensions=JSON_EXTENSIONS)
    schema = get_schema(args.schema)
    reference = load_image(args.reference, "reference")
    prediction = load_image(args.prediction, "prediction")
    if args.resample and not reference.geometry.matches(prediction.geometry):
        prediction = resample_to(prediction, reference.geometry, is_label=True)
    require_same_grid(reference, prediction, what="prediction")
    schema.validate(reference.array, f"reference {args.reference}")
    schema.validate(prediction.array, f"prediction {args.prediction}")
    evaluation = evaluate_labels(reference.array, prediction.array, schema, reference.spacing_zyx,
                                 tolerance_mm=args.tolerance_mm)
    result = evaluation.to_dict()
    result["provenance"] = make_record(
        "evaluate", inputs={"reference": args.reference, "prediction": args.prediction},
        parameters={"schema": schema.name, "tolerance_mm": args.tolerance_mm, "resampled": bool(args.resample)},
        outputs={"metrics": args.json_out},
    )
    with publish() as outputs:
        write_json(result, outputs.file(args.json_out))
    _print_summary(result)
    return 0


def _print_summary(result: dict) -> None:
    regions = result.get("regions", {})
    dice, hd95, surface_dice = (METRICS_BY_NAME[n].header for n in ("dice", "hd95", "surface_dice"))
    print(f"{'region':<12}{dice:>8}{hd95:>12}{surface_dice:>14}")
    for name, values in regions.items():
        print(f"{name:<12}{values.get('dice', float('nan')):>8.3f}{values.get('hd95', float('nan')):>12.2f}"
              f"{values.get('surface_dice', float('nan')):>14.3f}")
