"""``synthtrust segment``: a label map in the task's schema, on the grid of the input images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from synthtrust.cli.common import name_list
from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS
from synthtrust.models.device import DEVICES
from synthtrust.outputs import check_distinct, check_output_file, publish

# What a single unnamed image is taken to be when a shipped default is used.
SINGLE_CHANNEL_DEFAULTS = {"brain-tumor": ["t1"], "cardiac-scar": ["lge"]}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "segment", help="segment images with a shipped default model or your own checkpoint / MONAI bundle",
        description="Write a label map (BraTS 2021 labels for brain-tumor, EMIDEC labels for cardiac-scar) on "
                    "the grid of the --image files, and its provenance (<out stem>.provenance.json) beside it. "
                    "Without --model the shipped default for the task and channels is used (brain-tumor: "
                    "flair,t1c or t1; cardiac-scar: lge). Models load from local files only.",
    )
    parser.add_argument("--image", required=True, action="append", type=Path,
                        help="an input channel; repeat for several (all on one grid)")
    parser.add_argument("--task", required=True, choices=sorted(TASK_SCHEMAS))
    parser.add_argument("--out", required=True, type=Path, help="output label map (.nii.gz, .nrrd, ...)")
    parser.add_argument("--channels", type=name_list,
                        help="what each --image is, in order, e.g. flair,t1c (needed for several images; one "
                             "image is taken as t1 for brain-tumor and lge for cardiac-scar)")
    parser.add_argument("--model", type=Path,
                        help="a checkpoint (.safetensors or .pt/.pth with its <name>.json config) or a MONAI "
                             "bundle folder; default: the shipped model for --task and --channels")
    parser.add_argument("--model-config", type=Path, help="config JSON of --model when it is not <name>.json")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="auto takes a CUDA GPU when available (default)")
    parser.add_argument("--probabilities", type=Path,
                        help="also write class probabilities as a 4D image (one volume per class, in the order "
                             "of the model's label values)")
    parser.set_defaults(run=run)


def _channel_names(args: argparse.Namespace, count: int) -> list[str] | None:
    if args.channels is not None:
        if len(args.channels) != count:
            raise InputError(f"{count} --image file(s) but {len(args.channels)} --channels names "
                             f"({','.join(args.channels)}); name each image once, in order")
        return args.channels
    if args.model is not None:
        return None  # the model's own channel order is used
    if count == 1:
        return SINGLE_CHANNEL_DEFAULTS[args.task]
    raise InputError(f"{count} images were given without --channels; name them in order, e.g. --channels flair,t1c")


def _save_probabilities(probabilities: np.ndarray, reference, path: Path) -> None:
    import SimpleITK as sitk

    from synthtrust.imaging.io import to_sitk

    volumes = [to_sitk(reference.with_array(p)) for p in probabilities]
    sitk.WriteImage(sitk.JoinSeries(volumes), str(path), True)


def _protected_inputs(args: argparse.Namespace) -> list[Path]:
    """The images, and the model files: its weights or bundle, its config given or beside it."""
    inputs = [*args.image, args.model, args.model_config]
    if args.model is not None and not args.model.is_dir():
        inputs.append(args.model.with_name(args.model.name.split(".")[0] + ".json"))
    return [p for p in inputs if p is not None]


def check_outputs(args: argparse.Namespace) -> None:
    inputs = _protected_inputs(args)
    check_output_file(args.out, inputs, "--out", provenance=True)
    if args.probabilities is not None:
        check_output_file(args.probabilities, inputs, "--probabilities")
        from synthtrust.provenance import provenance_path

        check_distinct({"--out": args.out, "--probabilities": args.probabilities,
                        "--out's provenance record": provenance_path(args.out)})


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from synthtrust.imaging.io import load_channels, save_image
    from synthtrust.provenance import make_record, provenance_path, write_json
    from synthtrust.segmentation import load_default_segmenter, load_segmenter

    check_outputs(args)
    names = _channel_names(args, len(args.image))
    channels = load_channels(args.image, names)
    if args.model is not None:
        segmenter = load_segmenter(args.model, args.device, args.task, args.model_config)
    else:
        segmenter = load_default_segmenter(args.task, names, args.device)
    ordered = segmenter.order_channels(channels, names)
    if names is None:
        print(f"taking the images as {','.join(segmenter.config.channels)} (the model's order); pass --channels "
              "to say otherwise", file=sys.stderr)
    with tqdm(total=1, desc="segmenting", unit="window", file=sys.stderr, leave=False) as bar:
        def progress(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        result = segmenter.predict(ordered, progress=progress)
    schema = segmenter.config.label_schema()
    written = {"labels": args.out}
    if args.probabilities:
        written["probabilities"] = args.probabilities
    record = make_record("segment", inputs={f"image_{i}": p for i, p in enumerate(args.image)},
                         parameters={"task": args.task, "channels": names or segmenter.config.channels,
                                     "model": str(args.model) if args.model else "shipped default",
                                     "device": args.device},
                         outputs=written, segmenter=result.provenance)
    with publish() as outputs:
        if args.probabilities:
            _save_probabilities(result.probabilities, result.labels, outputs.file(args.probabilities))
        save_image(result.labels, outputs.file(args.out))
        write_json(record, outputs.file(provenance_path(args.out)))
    volumes = {schema.labels[v]: round(float(np.count_nonzero(result.labels.array == v))
                                       * result.labels.geometry.voxel_volume_ml, 2) for v in schema.labels}
    print(f"wrote {args.out} with {segmenter.model_id} on {result.provenance['device']} in "
          f"{result.provenance['seconds']:.1f} s; volumes (ml): {volumes}")
    return 0
