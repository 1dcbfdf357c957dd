"""Record (or recompute) the golden run: the numbers a small, deterministic set of runs gives, so a refactor
can show that performance and behaviour are unchanged (``Testing/unit/test_run_records.py``).

Runs, all on CPU with the template engine and the shipped default segmenters:
- ``brain_run``: worker job ``run`` on a 48^3 ellipsoid brain with a BraTS tumour, the tumour also given as
  the real image's reference (so the real image is segmented and T3/T4 are computed), 2 variants;
- ``heart_run``: worker job ``run`` on the generated LGE phantom with a scar in AHA 7, 8, 2 variants;
- ``heart_sweep``: worker job ``sweep`` over AHA 7, 8 x transmurality 0.6;
- ``demo_heart``: the demo's heart case through ``run_loop`` (2 variants).
Kept: per-variant per-region metrics, audits, trust values, sweep rows and Dice per segment; timings and
provenance (dates, versions) are left out. The committed file was written by the code of commit 8c7f5b3, before
the typed records (sweep row keys were spelt "hallucinated ml" etc. then; the test maps them to today's keys),
with the metrics package of commit e5aaff0 put in its place: that commit changed the HD95 convention on purpose
(BraTS' pooled percentile by default), a change of definition the records must not hide nor be blamed for.
To redo it: ``git archive 8c7f5b3`` into a folder, replace its ``Logic/synthtrust/metrics`` by ``git archive
e5aaff0 Logic/synthtrust/metrics``, copy this script there and run it with ``--out``.
``brain_run`` alone was re-recorded (``--print``, that key replaced) when issue 12 changed on purpose how the
template engine paints tumours (appearance learned from real gliomas); the heart runs were unchanged by it.

    .venv/bin/python scripts/record_golden_run.py            # write Testing/data/golden_run.json
    .venv/bin/python scripts/record_golden_run.py --print    # print the numbers, write nothing
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "Logic"))
GOLDEN = REPOSITORY / "Testing" / "data" / "golden_run.json"
N_BOOTSTRAP = 200
# Keys whose values change from run to run (timings, dates, versions, file names), not results.
VOLATILE = ("seconds", "provenance", "synthesis", "segmentation", "file", "channels")


def _plain(value):
    """Numbers, flags and texts of a results structure; volatile keys dropped, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()
                if str(k) not in VOLATILE and not str(k).startswith("seconds") and not str(k).endswith("_seconds")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _trust_values(report: dict) -> list[dict]:
    return [{k: v[k] for k in ("factor", "region", "test_set", "value", "ci_low", "ci_high")}
            for v in report.get("values", [])]


def worker_numbers(results: dict) -> dict:
    """The numbers of a worker ``results.json`` (as read back from disk)."""
    numbers = {"kind": results["kind"], "segmenters": [s["model_id"] for s in results["segmenters"]]}
    numbers["variants"] = [{"seed": v["seed"], "predictions": [
        {"segmenter": p["segmenter"], "metrics": _plain(p["metrics"]["regions"]), "audits": _plain(p["audits"])}
        for p in v["predictions"]]} for v in results.get("variants", [])]
    numbers["real"] = [{"segmenter": p["segmenter"], "metrics": _plain(p.get("metrics", {}).get("regions"))}
                       for p in results.get("real", {}).get("predictions", [])]
    numbers["trust"] = [{"segmenter": t["segmenter"], "values": _trust_values(t["report"]),
                         "undefined": t["report"].get("undefined", [])} for t in results.get("trust", [])]
    if results.get("sweep"):
        numbers["sweep_rows"] = _plain(results["sweep"]["rows"])
        numbers["segment_dice"] = _plain(results["sweep"]["segment_dice"])
    return numbers


def loop_numbers(summary: dict) -> dict:
    """The numbers of a ``LoopResult.summary()`` (the demo's metrics.json case)."""
    return {"variants": [{"seed": v["seed"], "metrics": _plain(v["metrics"]["regions"]), "audits": _plain(v["audits"])}
                         for v in summary["variants"]],
            "trust": _trust_values(summary["trust"])}


def _brain_job(folder: Path) -> None:
    from synthtrust.imaging.image import Image
    from synthtrust.imaging.io import save_image

    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[:48, :48, :48]
    brain = ((x - 24) ** 2 / 400 + (y - 24) ** 2 / 400 + (z - 24) ** 2 / 324) < 1
    image = Image.from_array(np.where(brain, 100 + 5 * rng.standard_normal(brain.shape), 0).astype(np.float32),
                             (2.0, 2.0, 2.0), name="t1")
    radius = np.sqrt((x - 26) ** 2 + (y - 22) ** 2 + (z - 24) ** 2)
    labels = np.select([radius < 3, radius < 5, radius < 8], [1, 4, 2], 0).astype(np.uint8)
    folder.mkdir(parents=True)
    save_image(image, folder / "channel_0.nrrd")
    save_image(image.with_array(labels), folder / "lesion.nrrd")
    save_image(image.with_array(labels), folder / "reference.nrrd")
    _write_job(folder, {"kind": "run", "task": "brain-tumor", "channels": ["channel_0.nrrd"], "modalities": ["t1"],
                        "lesion": "lesion.nrrd", "reference": "reference.nrrd", "variants": 2, "seed": 5,
                        "device": "cpu", "n_bootstrap": N_BOOTSTRAP})


def _heart_job(folder: Path, kind: str) -> None:
    from synthtrust.editing.scar import place_scar
    from synthtrust.imaging.io import save_image
    from synthtrust.phantoms.cardiac import make_lge_phantom

    image, anatomy = make_lge_phantom(seed=1, shape=(8, 96, 96))
    folder.mkdir(parents=True)
    save_image(image, folder / "channel_0.nrrd")
    save_image(anatomy, folder / "anatomy.nrrd")
    spec = {"kind": kind, "task": "cardiac-scar", "channels": ["channel_0.nrrd"], "modalities": ["lge"],
            "anatomy": "anatomy.nrrd", "variants": 2 if kind == "run" else 1, "seed": 3, "device": "cpu",
            "n_bootstrap": N_BOOTSTRAP}
    if kind == "run":
        edit = place_scar(anatomy, [7, 8], 0.6, extent=0.9, irregularity=0.3, mvo=0.3, seed=2)
        save_image(edit.labels, folder / "lesion.nrrd")
        spec.update(lesion="lesion.nrrd", edit={"kind": "scar", "parameters": edit.parameters})
    else:
        spec["sweep"] = {"segments": [7, 8], "transmurality": [0.6], "seed": 4}
    _write_job(folder, spec)


def _write_job(folder: Path, spec: dict) -> None:
    (folder / "job.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")


def _run_worker(folder: Path) -> dict:
    from synthtrust.worker.jobs import run_job
    from synthtrust.worker.protocol import Emitter

    outputs = run_job(folder, Emitter(io.StringIO()))
    return json.loads((outputs / "results.json").read_text(encoding="utf-8"))


def _demo_heart() -> dict:
    from synthtrust.demo import run_heart

    return run_heart(2, 0, "cpu", None).summary()


def golden_numbers() -> dict:
    """Run every case with the code as it is now and return its numbers."""
    import torch

    torch.set_num_threads(1)  # one thread: the same float sums on every machine and run
    with tempfile.TemporaryDirectory(prefix="golden-") as temporary:
        root = Path(temporary)
        _brain_job(root / "brain")
        _heart_job(root / "heart", "run")
        _heart_job(root / "sweep", "sweep")
        return {"brain_run": worker_numbers(_run_worker(root / "brain")),
                "heart_run": worker_numbers(_run_worker(root / "heart")),
                "heart_sweep": worker_numbers(_run_worker(root / "sweep")),
                "demo_heart": loop_numbers(_demo_heart())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GOLDEN, help="where to write (default: %(default)s)")
    parser.add_argument("--print", action="store_true", help="print the numbers instead of writing the file")
    args = parser.parse_args(argv)
    text = json.dumps(golden_numbers(), indent=1, sort_keys=True, allow_nan=False)
    if args.print:
        print(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out} ({len(text)} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
