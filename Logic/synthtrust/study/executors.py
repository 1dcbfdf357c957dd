"""Who runs the tasks: a local pool of worker processes, or Ray (a local cluster started for the study,
or the user's cluster at ``--ray-address``). Ray is an optional extra, imported only here and only when used."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

from synthtrust.errors import InputError
from synthtrust.study.settings import StudySettings, StudyTask
from synthtrust.study.tasks import run_task

Done = Callable[[StudyTask, dict], None]


def run_local(folder: str, settings: StudySettings, tasks: list[StudyTask], done: Done) -> None:
    # spawn, not fork: a forked child would inherit torch's thread pools and any OpenMP state of the parent.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=settings.workers, mp_context=context) as pool:
        futures = {pool.submit(run_task, folder, settings.to_json(), t.alpha, t.seed): t for t in tasks}
        for future in as_completed(futures):
            done(futures[future], future.result())


def run_ray(folder: str, settings: StudySettings, tasks: list[StudyTask], done: Done) -> None:
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs Ray: pip install 'synthtrust[ray]' (or use --executor local)") from None
    started_here = not ray.is_initialized()
    if started_here:
        if settings.ray_address:
            ray.init(address=settings.ray_address, log_to_driver=False)
        else:  # a local cluster on this machine only: nothing listens beyond the loopback interface
            ray.init(num_cpus=settings.workers, include_dashboard=False, log_to_driver=False,
                     _node_ip_address="127.0.0.1")
    try:
        remote = ray.remote(num_cpus=1)(run_task)
        pending = {remote.remote(folder, settings.to_json(), t.alpha, t.seed): t for t in tasks}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for reference in ready:
                done(pending.pop(reference), ray.get(reference))
    finally:
        if started_here:
            ray.shutdown()


def run_tasks(folder: str, settings: StudySettings, tasks: list[StudyTask], done: Done) -> None:
    if not tasks:
        return
    (run_ray if settings.executor == "ray" else run_local)(folder, settings, tasks, done)
