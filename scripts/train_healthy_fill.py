"""Train the mirror-fill refiner on the IXI train split (every brain not kept for testing), until a wall-clock
time; re-running with the same --out resumes from its checkpoint.

    nohup .venv/bin/python scripts/train_healthy_fill.py --out /tmp/fill --until 20:05 --threads 1 > fill.log &
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_healthy_fill import ixi_split  # noqa: E402

from synthtrust.training.datasets import data_root  # noqa: E402
from synthtrust.training.healthy_fill import train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--until", required=True, help="UTC wall-clock time HH:MM at which training stops")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--brains", type=int, help="use only the first N training brains (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    now = datetime.datetime.now(datetime.timezone.utc)
    hour, minute = (int(p) for p in args.until.split(":"))
    until = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    paths = ixi_split(data_root(None), "train")[:args.brains]
    train(paths, args.out, until.timestamp(), batch_size=args.batch_size, learning_rate=args.learning_rate,
          log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
