"""The worker's stdout protocol: one JSON object per line, each with a ``type``.

``progress`` {stage, step, total, fraction, elapsed_s, eta_s, message}, ``log`` {level, message},
``result`` {outputs}, ``error`` {error, message}, ``cancelled`` {message}. Anything else the process prints
(a library's warning, a traceback) is read back as a ``log`` line, so a reader never fails on a line.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import TextIO

PROGRESS, LOG, RESULT, ERROR, CANCELLED = "progress", "log", "result", "error", "cancelled"
MESSAGE_TYPES = (PROGRESS, LOG, RESULT, ERROR, CANCELLED)

# Exit codes of ``python -m synthtrust.worker``: the parent tells a fixable input error from a crash.
EXIT_OK, EXIT_FAILED, EXIT_INPUT_ERROR, EXIT_CANCELLED = 0, 1, 2, 3


def _plain(value):
    # numpy scalars and arrays become Python numbers and lists first (np.float32 is no float: NaN would
    # otherwise travel as the string "nan"); checked by module name so the protocol needs no numpy.
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()
    # NaN/inf are not JSON: they travel as null so every reader (also non-Python ones) accepts the line.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def encode(message: dict) -> str:
    """One line of JSON (no newline inside), ready to print."""
    if message.get("type") not in MESSAGE_TYPES:
        raise ValueError(f"message type {message.get('type')!r} is unknown; use one of {MESSAGE_TYPES}")
    return json.dumps(_plain(message), default=str, allow_nan=False)


def parse_line(line: str | bytes) -> dict | None:
    """A message from one output line; ``None`` for a blank line; foreign text becomes a ``log`` message."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    text = line.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            message = None
        if isinstance(message, dict) and message.get("type") in MESSAGE_TYPES:
            return message
    return {"type": LOG, "level": "output", "message": text}


def progress(stage: str, step: int, total: int, elapsed_s: float, message: str = "",
             fraction: float | None = None) -> dict:
    eta = elapsed_s * (total - step) / step if 0 < step <= total else None
    return {"type": PROGRESS, "stage": stage, "step": int(step), "total": int(total),
            "fraction": fraction, "elapsed_s": round(elapsed_s, 3),
            "eta_s": None if eta is None else round(eta, 3), "message": message}


def log(message: str, level: str = "info") -> dict:
    return {"type": LOG, "level": level, "message": message}


def result(outputs: str) -> dict:
    return {"type": RESULT, "outputs": outputs}


def error(kind: str, message: str) -> dict:
    return {"type": ERROR, "error": kind, "message": message}


def cancelled(message: str = "cancelled; nothing was written") -> dict:
    return {"type": CANCELLED, "message": message}


class Emitter:
    """Writes messages to the protocol stream and turns engine callbacks into progress messages."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.stage = ""
        self.stage_started = time.perf_counter()

    def send(self, message: dict) -> None:
        self.stream.write(encode(message) + "\n")
        self.stream.flush()

    def start_stage(self, stage: str) -> None:
        self.stage, self.stage_started = stage, time.perf_counter()

    def step(self, step: int, total: int, message: str = "", fraction: float | None = None) -> None:
        elapsed = time.perf_counter() - self.stage_started
        self.send(progress(self.stage, step, total, elapsed, message, fraction))
