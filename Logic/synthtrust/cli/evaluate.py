"""``synthtrust evaluate``: per-region metrics between a reference and a predicted label map."""

from __future__ import annotations

import argparse
from pathlib import Path

from synthtrust.cli.common import MILLIMETRES
from synthtrust.imaging.image import require_same_grid
from synthtrust.imaging.io import load_image
from synthtrust.imaging.resample import resample_to
from synthtrust.labels.schema import SCHEMA_NAMES, get_schema
from synthtrust.metrics.catalogue import ENTRIES_BY_NAME
from synthtrust.metrics.conventions import DEFAULT_HD95, HD95_CONVENTIONS
from synthtrust.metrics.lesionwise import LESION_RULES, get_lesion_rules
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
    parser.add_argument("--hd95", choices=tuple(HD95_CONVENTIONS), default=DEFAULT_HD95,
                        help="HD95 convention: brats (pooled 95th percentile, as the official BraTS evaluation; "
                             "default) or monai (max of the directed 95th percentiles)")
    parser.add_argument("--lesion-rules", choices=tuple(LESION_RULES), default="brats",
                        help="lesion-wise scores: brats (official BraTS package, one-to-one matching; default) or "
                             "brats2023 (reference dilation, lesions <= 50 mm^3 left out, misses scored 0 / 374 mm)")
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
                                 tolerance_mm=args.tolerance_mm, hd95=args.hd95,
                                 lesion_rules=get_lesion_rules(args.lesion_rules))
    result = evaluation.to_dict()
    result["provenance"] = make_record(
        "evaluate", inputs={"reference": args.reference, "prediction": args.prediction},
        parameters={"schema": schema.name, "tolerance_mm": args.tolerance_mm, "hd95": args.hd95,
                    "lesion_rules": args.lesion_rules, "resampled": bool(args.resample)},
        outputs={"metrics": args.json_out},
    )
    with publish() as outputs:
        write_json(result, outputs.file(args.json_out))
    _print_summary(result)
    return 0


SUMMARY_REGION_COLUMNS = ("dice", "hd95", "surface_dice")
SUMMARY_LESION_COLUMNS = ("matched_lesion_f1", "lesion_dice", "lesion_hd95", "panoptic_quality")
# the lesion-wise record's field behind each catalogue column
LESION_FIELDS = {"matched_lesion_f1": "f1", "lesion_dice": "lesion_dice", "lesion_hd95": "lesion_hd95",
                 "panoptic_quality": "panoptic_quality"}


def _cell(value) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "n/a"


def _print_summary(result: dict) -> None:
    regions, lesionwise = result.get("regions", {}), result.get("lesionwise", {})
    columns = [*SUMMARY_REGION_COLUMNS, *(SUMMARY_LESION_COLUMNS if lesionwise else ())]
    headers = [ENTRIES_BY_NAME[name].header for name in columns]
    print(f"HD95 convention: {result['hd95_convention']['name']}"
          + (f"; lesion-wise rules: {result['lesion_rules']['name']}" if lesionwise else ""))
    print(f"{'region':<12}" + "".join(f"{header:>{len(header) + 2}}" for header in headers))
    for name, values in regions.items():
        cells = [_cell(values.get(column)) for column in SUMMARY_REGION_COLUMNS]
        if lesionwise:
            cells += [_cell(lesionwise[name].get(LESION_FIELDS[column])) for column in SUMMARY_LESION_COLUMNS]
        print(f"{name:<12}" + "".join(f"{cell:>{len(header) + 2}}" for cell, header in zip(cells, headers, strict=True)))
