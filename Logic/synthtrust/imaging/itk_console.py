"""Keep ITK's own console output off the user's terminal.

ITK's NIfTI and GDCM code print diagnostics with C ``fprintf(stderr, ...)``, below Python, so neither
``sys.stderr`` nor SimpleITK's warning switch silences them: a bad sform prints about fifteen lines of C++
text before our one-line error. ``quiet_native_stderr`` points the process's file descriptor 2 at a
temporary file around an ITK call and hands back what ITK said, so a failed read can turn it into one line.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class NativeOutput:
    """What C/C++ code wrote to stderr inside a :func:`quiet_native_stderr` block (filled on exit)."""

    def __init__(self) -> None:
        self.text = ""

    def reason(self) -> str:
        """The most telling line ITK printed (its last non-empty one), or an empty string."""
        return last_line(self.text)


def last_line(text: str) -> str:
    """The last non-empty line of ITK's text, without ITK's decorations, squeezed to one line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    for prefix in ("sitk::ERROR:", "ERROR:", "WARNING:"):
        if line.startswith(prefix):
            line = line[len(prefix):].strip()
    return " ".join(line.split())


@contextmanager
def quiet_native_stderr() -> Iterator[NativeOutput]:
    """Redirect fd 2 to a temporary file for the block; the yielded object's ``text`` holds what was written."""
    captured = NativeOutput()
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):  # a closed or replaced sys.stderr must not stop the read
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all (some embedded interpreters): nothing to silence
        yield captured
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.text = sink.read().decode("utf-8", errors="replace")
