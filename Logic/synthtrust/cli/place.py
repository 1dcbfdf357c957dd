"""``synthtrust place-tumor`` and ``synthtrust place-scar``: parametric lesion edits with provenance."""

from __future__ import annotations

import argparse
from pathlib import Path

from synthtrust.cli.common import (
    FRACTION,
    MILLIMETRES,
    POSITIVE_FRACTION,
    POSITIVE_MILLIMETRES,
    SEED,
    BoundedList,
    add_coordinates_option,
    float_triple,
    point_to_lps,
    segment_list,
)
from synthtrust.cli.heart import heart_labels_path, orientation_for_scar, segment_heart
from synthtrust.errors import InputError
from synthtrust.imaging.io import load_image, save_image
from synthtrust.labels.schema import EMIDEC, brats_schema
from synthtrust.outputs import check_output_file, publish
from synthtrust.provenance import make_record, provenance_path, write_json

TUMOUR_SIZE = BoundedList(POSITIVE_MILLIMETRES, counts=(1, 3), broadcast=3)


def add_parser(subparsers) -> None:
    tumor = subparsers.add_parser(
        "place-tumor", help="place a brain tumour (NCR inside ET inside ED) by centre and size in mm",
        description="Write a BraTS label map with a tumour of the given size at the given centre, with an "
                    "irregular seeded border, clipped to the brain.",
    )
    tumor.add_argument("--image", required=True, type=Path, help="the brain image the tumour goes into")
    tumor.add_argument("--center", required=True, type=float_triple, help="tumour centre X,Y,Z; write --center=X,Y,Z when X is negative")
    add_coordinates_option(tumor)
    tumor.add_argument("--size", required=True, type=TUMOUR_SIZE,
                       help="diameter of the tumour core (ET outer border) in mm, one value or X,Y,Z")
    tumor.add_argument("--edema-mm", type=MILLIMETRES, default=8.0, help="edema shell thickness (mm)")
    tumor.add_argument("--rim-mm", type=POSITIVE_MILLIMETRES, default=3.0, help="enhancing rim thickness (mm)")
    tumor.add_argument("--no-necrosis", action="store_true", help="solid enhancing core, no necrosis")
    tumor.add_argument("--irregularity", type=FRACTION, default=0.3, help="0 = ellipsoid, 1 = very irregular")
    tumor.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    tumor.add_argument("--brain-mask", type=Path, help="brain mask (derived from the image when omitted)")
    tumor.add_argument("--numbering", type=int, choices=(2015, 2021, 2023), default=2021,
                       help="BraTS label numbering of the output")
    tumor.add_argument("--out", required=True, type=Path, help="output label map (.nii.gz, .nrrd)")
    tumor.set_defaults(run=run_place_tumor)

    scar = subparsers.add_parser(
        "place-scar", help="place a myocardial scar by AHA segments, transmurality and extent",
        description="Write an EMIDEC label map with scar (3) and optional MVO (4) in the given AHA segments.",
    )
    scar.add_argument("--labels", type=Path,
                      help="EMIDEC label map with the myocardium (2) and, ideally, the blood pool (1)")
    scar.add_argument("--image", type=Path,
                      help="the LGE image itself: without --labels its myocardium is segmented first (saved "
                           "as <out>_heart), and the RV insertion point is found from its RV blood pool")
    scar.add_argument("--model", type=Path,
                      help="cardiac segmenter for --image (default: the shipped cardiac-scar model)")
    scar.add_argument("--segments", required=True, type=segment_list, help="AHA segments, e.g. 7,8,13 or 1-6")
    scar.add_argument("--transmurality", type=POSITIVE_FRACTION, default=0.5,
                      help="fraction of the wall from the endocardium (0-1; 1 = transmural)")
    scar.add_argument("--extent", type=POSITIVE_FRACTION, default=1.0,
                      help="circumferential fraction of each segment covered (0-1)")
    scar.add_argument("--mvo", type=FRACTION, default=0.0,
                      help="MVO core as a fraction of the scar depth (0 = none)")
    scar.add_argument("--irregularity", type=FRACTION, default=0.3,
                      help="0 = smooth border, 1 = very irregular")
    scar.add_argument("--seed", type=SEED, default=0, help="random seed: the same seed gives the same result")
    scar.add_argument("--rv-insertion", type=float_triple,
                      help="anterior RV insertion point X,Y,Z (default orientation when omitted)")
    add_coordinates_option(scar)
    scar.add_argument("--out", required=True, type=Path, help="output label map (.nii.gz, .nrrd)")
    scar.set_defaults(run=run_place_scar)


def run_place_tumor(args: argparse.Namespace) -> int:
    from synthtrust.editing.tumor import place_tumor

    check_output_file(args.out, [args.image, args.brain_mask], "--out", provenance=True)
    image = load_image(args.image, "image")
    brain_mask = load_image(args.brain_mask, "brain mask") if args.brain_mask else None
    center = point_to_lps(args.center, args.coordinates, image)
    edit = place_tumor(image, tuple(center), args.size, edema_mm=args.edema_mm, enhancing_rim_mm=args.rim_mm,
                       necrosis=not args.no_necrosis, irregularity=args.irregularity, seed=args.seed,
                       brain_mask=brain_mask, schema=brats_schema(args.numbering))
    record = make_record("place-tumor", inputs={"image": args.image, "brain_mask": args.brain_mask},
                         parameters={"center_lps_mm": list(center)}, outputs={"labels": args.out},
                         edit=edit.provenance())
    with publish() as outputs:
        save_image(edit.labels, outputs.file(args.out))
        write_json(record, outputs.file(provenance_path(args.out)))
    print(f"wrote {args.out} ({int((edit.labels.array > 0).sum())} tumour voxels)")
    return 0


def run_place_scar(args: argparse.Namespace) -> int:
    from synthtrust.editing.scar import check_scar_parameters, check_scar_request, place_scar

    if args.labels is None and args.image is None:
        raise InputError("place-scar needs the heart: give --labels (an EMIDEC label map) or --image (the LGE "
                         "image, whose myocardium is then segmented)")
    heart_out = heart_labels_path(args.out) if args.labels is None else None
    check_output_file(args.out, [args.labels, args.image, args.model], "--out", provenance=True)
    if heart_out is not None:
        check_output_file(heart_out, [args.image, args.model, args.out], "--out (its _heart label map)")
    check_scar_parameters(args.segments, args.transmurality, args.extent, args.irregularity, args.mvo)
    image = load_image(args.image, "LGE image") if args.image is not None else None
    heart = None
    if args.labels is not None:
        labels = load_image(args.labels, "labels")
    else:
        heart = segment_heart(image, args.model)
        labels = heart.labels
    check_scar_request(labels, args.segments, args.transmurality, args.extent, args.irregularity, args.mvo,
                       image=image, name=f"label map {args.labels or heart_out}")
    orientation = orientation_for_scar(args, labels, image)
    edit = place_scar(labels, segments=args.segments, transmurality=args.transmurality, extent=args.extent,
                      irregularity=args.irregularity, mvo=args.mvo, seed=args.seed,
                      rv_insertion_mm=orientation.point)
    outputs_record = {"labels": args.out, **({"heart_labels": heart_out} if heart_out else {})}
    record = make_record("place-scar", inputs={"labels": args.labels, "image": args.image, "model": args.model},
                         parameters={"orientation": orientation.source,
                                     **({"heart_segmentation": heart.provenance} if heart else {})},
                         outputs=outputs_record, edit=edit.provenance())
    with publish() as outputs:
        if heart_out is not None:
            save_image(labels, outputs.file(heart_out))
        save_image(edit.labels, outputs.file(args.out))
        write_json(record, outputs.file(provenance_path(args.out)))
    if heart is not None:
        print(f"myocardium segmented by {heart.model_id}: wrote {heart_out}")
    print(f"AHA orientation: {orientation.source}")
    print(f"wrote {args.out} ({int(EMIDEC.lesion_mask(edit.labels.array).sum())} scar voxels)")
    return 0
