"""Tests' blocking worker run: start the module's worker process on a job folder and wait for it, keeping
the job folder (and so its outputs) for the test to read unless asked to remove it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from conftest import REPOSITORY

sys.path.insert(0, str(REPOSITORY / "SynthTrustSlicer"))
from SynthTrustSlicerLib.process import WorkerProcess  # noqa: E402


class KeptFolderWorker(WorkerProcess):
    """A worker whose job folder stays after the run, so a test can read what it wrote."""

    def cleanup(self) -> None:
        pass


def run_worker(job_folder: str | os.PathLike, on_message: Callable[[dict], None] | None = None,
               wait_for_completion: bool = True, timeout: float | None = None,
               remove_folder: bool = True) -> WorkerProcess:
    """Start a worker on ``job_folder``; with ``wait_for_completion`` block until it ends, passing every
    message to ``on_message`` (a timeout cancels the job and raises ``TimeoutError``)."""
    worker = (WorkerProcess if remove_folder else KeptFolderWorker)(job_folder).start()
    if not wait_for_completion:
        return worker
    deadline = None if timeout is None else time.monotonic() + timeout
    while not worker.finished:
        if deadline is not None and time.monotonic() > deadline:
            worker.cancel()
            raise TimeoutError(f"the worker on {job_folder} ran longer than {timeout} s and was cancelled")
        for message in worker.poll():
            if on_message is not None:
                on_message(message)
        time.sleep(0.02)
    return worker
