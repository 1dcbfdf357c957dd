"""A whole study: pools once, the tasks not yet finished, then the factors, the table, the curves, the
page and the provenance, published together.

``DIR/work/`` holds the study's state (the pools and one JSON per finished task, each written atomically),
so ``--resume`` after a crash or Ctrl-C runs only what is missing. The results (``study.json``,
``study.csv``, ``curves.png``, ``report.html``, ``study.provenance.json``) appear together at the end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from synthtrust.outputs import check_output_folder, publish
from synthtrust.provenance import make_record, write_json
from synthtrust.study import analysis, report
from synthtrust.study.data import POOLS, prepare_pools
from synthtrust.study.executors import run_tasks
from synthtrust.study.settings import StudySettings, StudyTask
from synthtrust.study.tasks import finished, task_path

RESULTS = ("study.json", "study.csv", "curves.png", "report.html", "study.provenance.json")


def check_study_outputs(settings: StudySettings, out: Path) -> None:
    check_output_folder(out, [settings.real, settings.synthetic], "--out", names=[*RESULTS, "work"])


def _pools_ready(data: Path, settings: StudySettings) -> dict | None:
    record = data / "pools.json"
    if not record.is_file() or not all((data / f"{name}.npz").is_file() for name in POOLS):
        return None
    content = json.loads(record.read_text(encoding="utf-8"))
    return content if content.get("fingerprint") == settings.data_fingerprint() else None


def run_study(settings: StudySettings, out: Path, resume: bool = False,
              log: Callable[[str], None] = print) -> dict:
    settings.validate()
    check_study_outputs(settings, out)
    started = time.perf_counter()
    data = out / "work" / "data"
    pools = _pools_ready(data, settings) if resume else None
    if pools is None:
        with publish() as outputs:  # a refused data set leaves no folder behind
            scratch = outputs.folder(data)
            pools = {"fingerprint": settings.data_fingerprint(), **prepare_pools(settings, scratch, log)}
            write_json(pools, scratch / "pools.json")
    else:
        log("reusing the prepared pools (--resume)")
    tasks = settings.tasks()
    todo = [t for t in tasks if not (resume and finished(out / "work", t, settings))]
    log(f"{len(tasks)} tasks, {len(tasks) - len(todo)} already finished; running {len(todo)} with the "
        f"{settings.executor} executor ({settings.workers} worker(s))")
    (out / "work" / "tasks").mkdir(parents=True, exist_ok=True)

    def done(task: StudyTask, record: dict) -> None:
        real = record["dice"]["real"]
        log(f"  {task.key}: {record['composition']['n_real']} real + {record['composition']['n_synthetic']} "
            f"synthetic, {record['seconds']['total']} s, {len(real)} real test cases, loss {record['loss_first']:.3f}"
            f" -> {record['loss_last']:.3f}")

    run_tasks(str(out / "work"), settings, todo, done)
    records = [json.loads(task_path(out / "work", t).read_text(encoding="utf-8")) for t in tasks]
    by_alpha = analysis.trust_by_alpha(records, settings.n_bootstrap)
    flat = analysis.rows(by_alpha)
    study = {"format": "synthtrust-study", "settings": settings.to_json(), "data": pools,
             "factors": analysis.FACTORS, "per_alpha": by_alpha, "verdicts": analysis.verdicts(by_alpha),
             "tasks": records, "seconds": round(time.perf_counter() - started, 1),
             "cpu_seconds_in_tasks": round(sum(r["seconds"]["total"] for r in records), 1),
             "units": "a training case is a slice; a test case is a patient (its slices stacked); Dice uses the "
                      "BraTS empty-mask convention"}
    with publish() as outputs:
        write_json(study, outputs.file(out / "study.json"))
        report.write_csv(flat, outputs.file(out / "study.csv"))
        report.draw_curves(by_alpha, outputs.file(out / "curves.png"), f"{settings.task} mixture study")
        report.write_html(study, flat, "curves.png", outputs.file(out / "report.html"))
        write_json(make_record("trust-study", {"real": settings.real, "synthetic": settings.synthetic}
                               if Path(settings.real).is_file() else {}, settings.to_json(),
                               {name: out / name for name in RESULTS[:4]}, data_split=pools),
                   outputs.file(out / "study.provenance.json"))
    return study
