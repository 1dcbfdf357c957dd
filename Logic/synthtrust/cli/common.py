"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import LPS_TO_RAS, Image


def float_triple(text: str) -> tuple[float, float, float]:
    """Parse ``x,y,z`` (also accepts a single number for all three)."""
    try:
        values = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or an x,y,z triple") from None
    if len(values) == 1:
        values = values * 3
    if len(values) != 3 or not all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(f"{text!r} must be one number or three comma-separated numbers")
    return (values[0], values[1], values[2])


def int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None


def add_training_options(parser: argparse.ArgumentParser, what: str) -> None:
    """The options ``train-segmenter`` and ``train-generator`` share: data, device, threads, manifest."""
    from pathlib import Path

    parser.add_argument("--dataset", choices=("default", "toy"), default="default",
                        help=f"default: the shipped {what}' data; toy: seeded toy volumes for a quick check")
    parser.add_argument("--data-root", type=Path,
                        help="shared data folder (default: $SYNTHTRUST_SHARED_DATA or <repository>/../shared/data)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                        help="cpu (default) is reproducible bit for bit with the same seed and thread count")
    parser.add_argument("--threads", type=int, help="torch CPU threads (the default scripts use 2)")
    parser.add_argument("--title", default="", help="human-readable title for the manifest")
    parser.add_argument("--update-manifest", action="store_true",
                        help="add or replace this model's entry in --out/manifest.json")


def name_list(text: str) -> list[str]:
    return [v.strip().lower() for v in text.split(",") if v.strip()]


def point_to_lps(point: tuple[float, float, float], coordinates: str, image: Image) -> np.ndarray:
    """Convert a user point (RAS mm as 3D Slicer shows, LPS mm as ITK uses, or voxel i,j,k) to LPS mm."""
    if coordinates == "ras":
        return LPS_TO_RAS @ np.asarray(point, float)
    if coordinates == "lps":
        return np.asarray(point, float)
    if coordinates == "voxel":
        return image.geometry.index_to_physical(point)
    raise InputError(f"coordinate system {coordinates!r} is unknown; use ras, lps or voxel")


def add_coordinates_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--coordinates", choices=("ras", "lps", "voxel"), default="ras",
                        help="how points are given: RAS mm as 3D Slicer shows them (default), LPS mm as "
                             "ITK uses, or voxel indices i,j,k")


def channel_modalities(given: list[str] | None, channels: list, cardiac: bool) -> list[str]:
    """One modality per image channel: the ones given, else lge (heart) or t1 (brain) for each."""
    modalities = given or (["lge"] if cardiac else ["t1"]) * len(channels)
    if len(modalities) != len(channels):
        raise InputError(f"{len(channels)} images but {len(modalities)} modalities ({','.join(modalities)}); "
                         "give one modality per --image")
    return modalities


def print_progress(step: int, total: int, message: str) -> None:
    """Progress callback of the long-running commands: one indented line per report, on stderr."""
    print(f"  {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def publish_folder(out: Path) -> Iterator[Path]:
    """A scratch folder beside ``out`` whose files move into ``out`` only when the block succeeds: a refusal,
    a failure or Ctrl-C leaves ``out`` as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield scratch
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out} exists and is not a folder; choose a folder path")
        out.mkdir(exist_ok=True)
        for item in scratch.iterdir():
            item.replace(out / item.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
