"""One (alpha, seed) task: draw the mixture, train, test on both test sets, write ``tasks/<key>.json``.

A task whose JSON exists with the same study fingerprint is not run again (``--resume``); the JSON is
written atomically, so a killed task leaves nothing half-written and is simply run again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
from synthtrust.metrics import evaluate_labels
from synthtrust.provenance import write_json
from synthtrust.study.data import SlicePool
from synthtrust.study.settings import StudySettings, StudyTask

LABEL_VALUES = {"brain-tumor": [0, 1, 2, 4], "cardiac-scar": [0, 1, 2, 3, 4]}
# The slices' spacing for distance-free metrics only matters through Dice's independence of it; recorded anyway.
SPACING_ZYX_MM = (10.0, 1.6, 1.6)


def task_path(folder: Path, task: StudyTask) -> Path:
    return folder / "tasks" / f"{task.key}.json"


def finished(folder: Path, task: StudyTask, settings: StudySettings) -> bool:
    path = task_path(folder, task)
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return data.get("fingerprint") == settings.training_fingerprint()


def composition(settings: StudySettings, task: StudyTask, real: SlicePool, synthetic: SlicePool) -> dict:
    """How many real and synthetic training slices, and which (seeded by the task's seed)."""
    n_real = int(round(task.alpha * settings.train_size))
    n_real = min(n_real, len(real))
    n_synthetic = min(settings.train_size - n_real, len(synthetic))
    rng = np.random.default_rng([task.seed, int(round(task.alpha * 1000))])
    return {"real": sorted(int(i) for i in rng.choice(len(real), n_real, replace=False)),
            "synthetic": sorted(int(i) for i in rng.choice(len(synthetic), n_synthetic, replace=False)),
            "n_real": n_real, "n_synthetic": n_synthetic,
            "alpha_actual": n_real / max(1, n_real + n_synthetic)}


def per_case_dice(pool: SlicePool, predicted: np.ndarray, task_name: str) -> dict[str, dict[str, float]]:
    """Dice per patient (its slices stacked) and region, BraTS empty-mask convention."""
    schema = get_schema(TASK_SCHEMAS[task_name])
    scores = {}
    for patient in sorted(set(pool.patients.tolist())):
        rows = pool.patients == patient
        evaluation = evaluate_labels(pool.labels[rows], predicted[rows], schema, SPACING_ZYX_MM)
        scores[patient] = {region: float(m.dice) for region, m in evaluation.regions.items()}
    return scores


def run_task(folder: str, settings_json: dict, alpha: float, seed: int) -> dict:
    """Run one task in this process (a pool worker or a Ray worker) and return its record."""
    import torch

    from synthtrust.study import network2d

    torch.set_num_threads(1)
    folder_path = Path(folder)
    settings = StudySettings(**settings_json)
    task = StudyTask(alpha, seed)
    started = time.perf_counter()
    pools = {name: SlicePool.load(folder_path / "data" / f"{name}.npz")
             for name in ("real_train", "real_test", "synthetic_train", "synthetic_test")}
    mix = composition(settings, task, pools["real_train"], pools["synthetic_train"])
    train_pool = SlicePool(
        np.concatenate([pools["real_train"].images[mix["real"]], pools["synthetic_train"].images[mix["synthetic"]]]),
        np.concatenate([pools["real_train"].labels[mix["real"]], pools["synthetic_train"].labels[mix["synthetic"]]]),
        np.concatenate([pools["real_train"].patients[mix["real"]],
                        pools["synthetic_train"].patients[mix["synthetic"]]]),
        np.concatenate([pools["real_train"].names[mix["real"]], pools["synthetic_train"].names[mix["synthetic"]]]))
    values = LABEL_VALUES[settings.task]
    network, losses, seconds = network2d.train(train_pool, values, settings.iterations, settings.batch_size,
                                               settings.learning_rate, seed)
    dice = {}
    for test_set in ("real", "synthetic"):
        pool = pools[f"{test_set}_test"]
        dice[test_set] = per_case_dice(pool, network2d.predict(network, pool.images, values), settings.task)
    record = {"alpha": alpha, "seed": seed, "key": task.key, "fingerprint": settings.training_fingerprint(),
              "composition": {**mix, "real_cases": pools["real_train"].names[mix["real"]].tolist(),
                              "synthetic_cases": pools["synthetic_train"].names[mix["synthetic"]].tolist()},
              "dice": dice, "loss_first": float(np.mean(losses[:10])), "loss_last": float(np.mean(losses[-10:])),
              "seconds": {"training": round(seconds, 1), "total": round(time.perf_counter() - started, 1)},
              "torch_threads": torch.get_num_threads()}
    write_json(record, task_path(folder_path, task))
    return record
