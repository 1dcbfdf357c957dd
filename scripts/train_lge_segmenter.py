"""Train the slice-wise LGE scar segmenter on domain-randomised renderings of label maps (Sunnybrook CC0
anatomies and the project's phantoms; no real LGE intensities), until a UTC deadline, resumable.

    .venv/bin/python scripts/train_lge_segmenter.py --data-root ../shared/data --out runs/lge2d \
        --until 20:03 --threads 1

Writes runs/lge2d/checkpoint.pt (resumed from when present) and runs/lge2d/train.log. Export and evaluate
with scripts/evaluate_lge_emidec.py (--export writes the shippable safetensors + config).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Logic"))

from synthtrust.training.lge_anatomies import build_anatomy_pool, phantom_anatomies, sunnybrook_anatomies  # noqa: E402
from synthtrust.training.lge_segmenter import TrainingSchedule, train_until  # noqa: E402


def deadline_today(hhmm: str) -> float:
    now = dt.datetime.now(dt.timezone.utc)
    hour, minute = (int(v) for v in hhmm.split(":"))
    return now.replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--out", default="runs/lge2d")
    parser.add_argument("--until", required=True, help="UTC wall-clock time HH:MM at which training stops")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--phantoms", type=int, default=8)
    parser.add_argument("--scars-per-variant", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_file = (out / "train.log").open("a", encoding="utf-8")

    def log(message: str) -> None:
        line = f"{dt.datetime.now(dt.timezone.utc):%H:%M:%S} {message}"
        print(line, file=log_file, flush=True)

    started = time.time()
    anatomies = sunnybrook_anatomies(args.data_root) + phantom_anatomies(args.phantoms, seed=args.seed)
    pool = build_anatomy_pool(anatomies, args.scars_per_variant, seed=args.seed, progress=log)
    log(f"pool of {len(pool)} label maps built in {time.time() - started:.0f} s")
    result = train_until(pool, TrainingSchedule(deadline=deadline_today(args.until), batch_size=args.batch_size),
                         out / "checkpoint.pt", log, seed=args.seed)
    log(f"stopped: {result}")


if __name__ == "__main__":
    main()
