"""The ``synthtrust`` command line: one subcommand per step of the edit -> synthesize -> segment ->
evaluate loop, plus ``demo`` and ``train-segmenter``.

Bad input (an :class:`~synthtrust.errors.InputError`, or an option value out of its range) prints one line
and exits with code 2, with no traceback and no output file left behind: every output path is checked
before any work (``synthtrust.outputs``), and all outputs are written to temporary names and renamed
together at the end.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from synthtrust import __version__
from synthtrust.cli.common import document_ranges
from synthtrust.errors import CancelledError, InputError

# Each module defines add_parser(subparsers) and sets run=<callable(args) -> int>.
COMMAND_MODULES = (
    "synthtrust.cli.demo",
    "synthtrust.cli.place",
    "synthtrust.cli.synthesize",
    "synthtrust.cli.fill_healthy",
    "synthtrust.cli.sweep",
    "synthtrust.cli.segment",
    "synthtrust.cli.evaluate",
    "synthtrust.cli.train_segmenter",
    "synthtrust.cli.train_generator",
    "synthtrust.cli.trust_study",
    "synthtrust.cli.audit",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthtrust",
        description="Edit a lesion, synthesize it, segment it, and measure how far to trust the result.",
    )
    parser.add_argument("--version", action="version", version=f"synthtrust {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    document_ranges(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except InputError as error:
        print(f"synthtrust {args.command}: error: {error}", file=sys.stderr)
        return 2
    except CancelledError as error:
        print(f"synthtrust {args.command}: cancelled: {error}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"synthtrust {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"synthtrust {args.command}: error: ran out of memory; crop or downsample the input",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
