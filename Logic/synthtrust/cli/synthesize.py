"""``synthtrust synthesize``: write a lesion's appearance into an image (one or several channels)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from synthtrust.cli.common import name_list
from synthtrust.errors import InputError
from synthtrust.imaging.io import load_channels, load_image, save_image
from synthtrust.imaging.resample import resample_to
from synthtrust.labels.schema import SCHEMA_NAMES, get_schema
from synthtrust.provenance import make_record, write_json

ENGINES = ("template",)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "synthesize", help="make a synthetic image carrying the given lesion",
        description="Write the lesion's appearance into a copy of the image, inside the lesion only. --out is a "
                    "folder: it receives variant_<k>_<c>.nii.gz (variant k, input channel c) and synthesis.json.",
    )
    parser.add_argument("--engine", choices=ENGINES, default="template")
    parser.add_argument("--image", required=True, action="append", type=Path,
                        help="an input channel; repeat for several (e.g. FLAIR then T1c)")
    parser.add_argument("--modalities", type=name_list,
                        help="modality of each --image, e.g. flair,t1c (flair, t1, t1c, t2, lge, other); "
                             "default: t1 for brain, lge for cardiac")
    parser.add_argument("--lesion", required=True, type=Path, help="label map with the intended lesion")
    parser.add_argument("--schema", choices=SCHEMA_NAMES, default="brats", help="label schema of --lesion")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", type=int, default=1, help="number of variants (seeds seed..seed+K-1)")
    parser.add_argument("--resample", action="store_true",
                        help="resample the lesion onto the image grid (nearest neighbour) when the grids differ, "
                             "instead of refusing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthtrust.synthesis.template import TemplateSynthesizer

    schema = get_schema(args.schema)
    channels = load_channels(args.image)
    lesion = load_image(args.lesion, "lesion")
    if args.resample and not lesion.geometry.matches(channels[0].geometry):
        lesion = resample_to(lesion, channels[0].geometry, is_label=True)
    modalities = args.modalities or (["lge"] if schema.name == "emidec" else ["t1"]) * len(channels)
    if len(modalities) != len(channels):
        raise InputError(f"{len(channels)} images but {len(modalities)} modalities ({','.join(modalities)}); "
                         "give one modality per --image")
    if args.variants < 1:
        raise InputError(f"--variants {args.variants} must be at least 1")
    synthesizer = TemplateSynthesizer()
    # Build the whole result in a scratch folder first: a failure or Ctrl-C leaves --out untouched.
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{args.out.name}.", dir=args.out.parent))
    try:
        variants = []
        for k in range(args.variants):
            started = time.perf_counter()
            result = synthesizer.synthesize(channels, lesion, schema, modalities, seed=args.seed + k)
            files = []
            for c, channel in enumerate(result.channels):
                path = scratch / f"variant_{k}_{c}.nii.gz"
                save_image(channel, path)
                files.append(path.name)
            variants.append({"variant": k, "seed": args.seed + k, "files": files,
                             "seconds": round(time.perf_counter() - started, 3), "provenance": result.provenance})
        record = make_record("synthesize",
                             inputs={**{f"image_{c}": p for c, p in enumerate(args.image)}, "lesion": args.lesion},
                             parameters={"engine": args.engine, "schema": schema.name, "modalities": modalities,
                                         "seed": args.seed, "variants": args.variants},
                             outputs={"folder": args.out}, variants=variants)
        write_json(record, scratch / "synthesis.json")
        if args.out.exists():
            if not args.out.is_dir():
                raise InputError(f"--out {args.out} exists and is not a folder; choose a folder path")
            for item in scratch.iterdir():
                item.replace(args.out / item.name)
            scratch.rmdir()
        else:
            scratch.rename(args.out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {args.variants} variant(s) x {len(channels)} channel(s) to {args.out}")
    return 0
