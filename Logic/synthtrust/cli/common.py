"""Argument helpers shared by the subcommands: typed, ranged option values, and the options several commands
share.

Every numeric option is parsed by a :class:`Bounded` (or :class:`BoundedList`) type, so an out-of-range value
is refused by the parser (exit 2, one line) before any file is read, and :func:`document_ranges` writes each
option's range into its ``--help`` text from the same object, so the help and the check cannot disagree.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import LPS_TO_RAS, Image
from synthtrust.models.device import DEVICES


class Bounded:
    """An argparse type: one number of ``kind`` (int or float) within ``low``..``high`` (None: no bound;
    ``low_open``/``high_open``: the bound itself is excluded)."""

    def __init__(self, kind: type, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False) -> None:
        self.kind, self.low, self.high = kind, low, high
        self.low_open, self.high_open = low_open, high_open
        self.__name__ = "integer" if kind is int else "number"  # argparse names the type in some messages

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        shown = (lambda v: str(int(v))) if self.kind is int else (lambda v: f"{v:g}")
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {shown(self.low)}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {shown(self.high)}")
        return f"{what} {' and '.join(parts)}" if parts else what

    def within(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))

    def __call__(self, text: str) -> int | float:
        try:
            value = self.kind(text.strip())
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {self.describe()}") from None
        if not math.isfinite(value) or not self.within(value):
            raise argparse.ArgumentTypeError(f"{text} is out of range; give {self.describe()}")
        return value


class BoundedList:
    """An argparse type: comma-separated numbers, each a :class:`Bounded` value; ``counts``: how many values
    are allowed (None: any, at least one); ``increasing``: no value may be smaller than the one before;
    ``broadcast``: one value given stands for that many equal values."""

    def __init__(self, item: Bounded, counts: tuple[int, ...] | None = None, *, increasing: bool = False,
                 broadcast: int | None = None) -> None:
        self.item, self.counts, self.increasing, self.broadcast = item, counts, increasing, broadcast
        self.__name__ = "list"

    def describe(self) -> str:
        how_many = "comma-separated values" if self.counts is None else \
            f"{' or '.join(str(c) for c in self.counts)} comma-separated value(s)"
        order = ", smallest first" if self.increasing else ""
        return f"{how_many}{order}, each {self.item.describe()}"

    def __call__(self, text: str) -> list:
        parts = [part for part in text.replace(" ", "").split(",") if part]
        if not parts or (self.counts is not None and len(parts) not in self.counts):
            raise argparse.ArgumentTypeError(f"{text!r} has {len(parts)} value(s); give {self.describe()}")
        values = [self.item(part) for part in parts]
        if self.increasing and any(b < a for a, b in zip(values, values[1:], strict=False)):
            raise argparse.ArgumentTypeError(f"{text} is not in order; give {self.describe()}")
        if self.broadcast and len(values) == 1:
            values = values * self.broadcast
        return values


# Shared ranges. Seeds: numpy and torch accept any non-negative integer, but a 32-bit one replays everywhere.
SEED = Bounded(int, 0, 2**32 - 1)
FRACTION = Bounded(float, 0, 1)
POSITIVE_FRACTION = Bounded(float, 0, 1, low_open=True)
THREADS = Bounded(int, 1, 1024)
STEPS = Bounded(int, 1, 1000)  # the generators are trained with 1000 timesteps: more steps than that mean nothing
VARIANTS = Bounded(int, 1, 1000)
CANDIDATES = Bounded(int, 1, 64)
GUIDANCE = Bounded(float, 0, 100)
ITERATIONS = Bounded(int, 1, 10_000_000)
BATCH_SIZE = Bounded(int, 1, 1024)
LEARNING_RATE = Bounded(float, 0, 1)  # 0 keeps the starting weights (a check of --init-from)
MILLIMETRES = Bounded(float, 0, 1000)
POSITIVE_MILLIMETRES = Bounded(float, 0, 1000, low_open=True)


def document_ranges(parser: argparse.ArgumentParser) -> None:
    """Append each ranged option's range to its help text (recursing into subcommands)."""
    for action in parser._actions:  # argparse has no public way to walk a parser's options
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                document_ranges(subparser)
        elif isinstance(action.type, (Bounded, BoundedList)):
            text = f"range: {action.type.describe()}"
            action.help = f"{action.help} [{text}]" if action.help else text


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


def segment_list(text: str) -> list[int]:
    """AHA segments as ``1-17`` or ``1,7,13`` or a mix (``1-6,17``)."""
    values = []
    try:
        for part in text.replace(" ", "").split(","):
            low, _, high = part.partition("-")
            values += list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of AHA segments such as 1-17 or 7,8,13") from None
    if not values or any(not 1 <= v <= 17 for v in values):
        raise argparse.ArgumentTypeError(f"AHA segments {text!r} must lie in 1..17")
    return values


def modality_list(text: str) -> list[str]:
    """Channel names (aliases folded: ``t1ce`` -> ``t1c``), each a modality the models know."""
    from synthtrust.models.channels import canonical_channel
    from synthtrust.synthesis.base import MODALITIES

    names = [canonical_channel(v) for v in name_list(text)]
    unknown = [n for n in names if n not in MODALITIES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown modality {','.join(unknown) or repr(text)}; use "
                                         f"{', '.join(MODALITIES)} (comma-separated, e.g. flair,t1c)")
    return names


def add_training_options(parser: argparse.ArgumentParser, what: str, dataset_paths: bool = False) -> None:
    """The options ``train-segmenter`` and ``train-generator`` share: data, device, threads, manifest;
    ``dataset_paths``: ``--dataset`` also takes a data set folder or CSV manifest (``synthtrust.datasets``)."""
    if dataset_paths:
        parser.add_argument("--dataset", default="default", metavar="default|toy|PATH",
                            help=f"default: the shipped {what}' data; toy: seeded toy volumes for a quick check; "
                                 "PATH: your data set (BraTS or EMIDEC folders, PNG slices, or a CSV manifest)")
    else:
        parser.add_argument("--dataset", choices=("default", "toy"), default="default",
                            help=f"default: the shipped {what}' data; toy: seeded toy volumes for a quick check")
    parser.add_argument("--data-root", type=Path,
                        help="shared data folder (default: $SYNTHTRUST_SHARED_DATA or <repository>/../shared/data)")
    parser.add_argument("--device", choices=DEVICES, default="cpu",
                        help="cpu (default) is reproducible bit for bit with the same seed and thread count")
    parser.add_argument("--threads", type=THREADS, help="torch CPU threads (the default scripts use 2)")
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


class TrainingBar:
    """The training commands' progress bar on stderr, opened at the first iteration, so a refusal raised while
    the training is being set up (a foreign checkpoint, say) stays the only line printed."""

    def __init__(self, total: int) -> None:
        self.total, self._bar = total, None

    def update(self, done: int, total: int, loss: float) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc="training", unit="it", file=sys.stderr, mininterval=1.0)
        self._bar.n = done
        self._bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        self._bar.refresh()

    def write(self, message: str) -> None:
        if self._bar is None:
            print(message, file=sys.stderr, flush=True)
        else:
            self._bar.write(message, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
