"""The worker subprocess: ``python -m synthtrust.worker JOB_FOLDER`` started with Slicer's Python.

The worker gets its own session (POSIX) or process group (Windows), so Cancel kills it and everything it
started. A reader thread parses its output lines into a queue; the GUI drains it with :meth:`poll` from a
main-thread timer (no Qt here); scripts block in the logic's ``run`` (``RunJob.wait``), which polls the same way.
Cancel never blocks the GUI: ``cancel(wait=False)`` only signals the process tree and returns; the
timer's next polls kill what outlives the grace time, and the job ends once the tree is gone.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from synthtrust.worker.protocol import CANCELLED, ERROR, EXIT_CANCELLED, RESULT, parse_line

# Seconds the worker gets to stop by itself (SIGTERM: it reports "cancelled") before its tree is killed.
CANCEL_GRACE_S = 2.0


def default_python_executable() -> str:
    """Inside Slicer: PythonSlicer (Slicer's Python with its environment); elsewhere this interpreter."""
    slicer = sys.modules.get("slicer")
    if slicer is None or getattr(slicer, "app", None) is None:
        return sys.executable
    names = ("PythonSlicer.exe", "PythonSlicer") if os.name == "nt" else ("PythonSlicer",)
    folders = [Path(sys.executable).parent]
    home = getattr(slicer.app, "slicerHome", None)
    if home:
        folders.append(Path(str(home)) / "bin")
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return str(folder / name)
    found = shutil.which("PythonSlicer")
    if found:
        return found
    raise RuntimeError(f"PythonSlicer was not found in {[str(f) for f in folders]} or on PATH; it ships with "
                       "3D Slicer: reinstall Slicer or pass python_executable")


def core_path() -> str:
    """The folder holding the ``synthtrust`` package, put on the worker's PYTHONPATH."""
    spec = importlib.util.find_spec("synthtrust")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the synthtrust core package is not importable; install the SynthTrustSlicer extension")
    return str(Path(list(spec.submodule_search_locations)[0]).parent)


class WorkerProcess:
    """One worker job: start, poll messages, cancel; removes its job folder when asked to (:meth:`cleanup`)."""

    def __init__(self, job_folder: str | os.PathLike, python_executable: str | None = None):
        self.job_folder = Path(job_folder)
        self.python_executable = python_executable or default_python_executable()
        self.process: subprocess.Popen | None = None
        self.messages: queue.Queue = queue.Queue()
        self.result: dict | None = None
        self.error: dict | None = None
        self.cancelled = False
        self._reader: threading.Thread | None = None
        self._kill_at: float | None = None  # after a cancel: when the tree gets SIGKILL (or taskkill)
        self._killed = False
        self._killer: subprocess.Popen | None = None  # Windows: the running taskkill

    def command(self) -> list[str]:
        return [self.python_executable, "-m", "synthtrust.worker", str(self.job_folder)]

    def start(self) -> WorkerProcess:
        environment = dict(os.environ)
        paths = [core_path()] + ([environment["PYTHONPATH"]] if environment.get("PYTHONPATH") else [])
        environment["PYTHONPATH"] = os.pathsep.join(paths)
        environment["PYTHONUNBUFFERED"] = "1"
        options = {}
        if os.name == "nt":
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
        else:
            options["start_new_session"] = True
        self.process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=environment, **options)
        self._reader = threading.Thread(target=self._read, name="synthtrust-worker-reader", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        for line in iter(self.process.stdout.readline, b""):
            message = parse_line(line)
            if message is not None:
                self.messages.put(message)
        self.process.stdout.close()

    def _note(self, message: dict) -> dict:
        if message["type"] == RESULT:
            self.result = message
        elif message["type"] == ERROR:
            self.error = message
        elif message["type"] == CANCELLED:
            self.cancelled = True
        return message

    def poll(self) -> list[dict]:
        """Messages received since the last call (never blocks; call from the main thread). After a
        cancel it also finishes off the process tree once the worker exited or the grace time is over."""
        self._finish_off()
        received = []
        while True:
            try:
                received.append(self._note(self.messages.get_nowait()))
            except queue.Empty:
                return received

    @property
    def running(self) -> bool:
        """True until the process has exited and all its output was read."""
        if self.process is None:
            return False
        return self.process.poll() is None or (self._reader is not None and self._reader.is_alive())

    @property
    def finished(self) -> bool:
        """Exited, output read, and every message taken by :meth:`poll`."""
        return self.process is not None and not self.running and self.messages.empty()

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and self.result is not None and not self.cancelled

    def state(self) -> str:
        """running, succeeded, cancelled or failed."""
        if self.running:
            return "running"
        if self.cancelled or self.returncode == EXIT_CANCELLED:
            return "cancelled"
        return "succeeded" if self.returncode == 0 else "failed"

    def failure_message(self) -> str:
        """What went wrong, for the user (the worker's error message, or how the process ended)."""
        if self.state() == "cancelled":
            return "cancelled; the scene was not changed"
        if self.error is not None:
            return f"{self.error.get('error', 'Error')}: {self.error.get('message', '')}"
        return f"the worker ended with exit code {self.returncode} without a result; see the log"

    def cancel(self, wait: bool = True) -> None:
        """Stop the worker and everything it started.

        ``wait=True`` (scripts, tests) blocks until the whole tree is gone and removes the job folder.
        ``wait=False`` (the panel) asks the worker to stop (SIGTERM to its group; taskkill on Windows) and
        returns at once; :meth:`poll` kills what is left, and the caller removes the folder with
        :meth:`cleanup` once :attr:`finished`."""
        self.cancelled = True
        if self.process is not None and self._kill_at is None:
            # Also when the worker has exited already: children it left holding its output are killed.
            self._kill_at = time.monotonic() + CANCEL_GRACE_S
            if self.process.poll() is None:
                self._ask_to_stop()
        if wait:
            self._wait_for_tree()
            self.cleanup()

    def _ask_to_stop(self) -> None:
        if os.name == "nt":
            # /T takes the children too, /F does not wait for them: no grace on Windows.
            self._killer = subprocess.Popen(["taskkill", "/PID", str(self.process.pid), "/T", "/F"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            creationflags=subprocess.CREATE_NO_WINDOW)
        else:
            self._signal_group(signal.SIGTERM)  # the worker reports "cancelled" and exits

    def _signal_group(self, signal_number: int) -> None:
        try:
            os.killpg(self.process.pid, signal_number)  # the worker leads its own session: group id = its pid
        except (ProcessLookupError, PermissionError):
            pass  # the whole group is gone already

    def _finish_off(self, force: bool = False) -> None:
        """After a cancel, once the worker exited or the grace time is over (or ``force``): kill the rest of
        its tree, including children that outlived it (e.g. data-loader processes)."""
        if self._kill_at is None or self._killed:
            return
        if not force and self.process.poll() is None and time.monotonic() < self._kill_at:
            return
        self._killed = True
        if os.name == "nt":
            if self.process.poll() is None:
                self.process.kill()
        else:
            self._signal_group(signal.SIGKILL)

    def _wait_for_tree(self) -> None:
        if self.process is None:
            return
        deadline = time.monotonic() + CANCEL_GRACE_S
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        self._finish_off(force=True)
        for process in (self._killer, self.process):
            if process is None:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # taskkill or the worker hung: nothing more can be done here
                process.kill()
        if self._reader is not None:
            self._reader.join(timeout=5)

    def cleanup(self) -> None:
        """Remove the job folder (after results were imported, or after a cancel or failure)."""
        shutil.rmtree(self.job_folder, ignore_errors=True)
