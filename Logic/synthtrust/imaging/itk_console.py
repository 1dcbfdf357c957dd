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
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class NativeOutput:
    """What C/C++ code wrote to stderr inside a :func:`quiet_native_stderr` block (filled on exit)."""

    def __init__(self) -> None:
        self.text = ""

    def reason(self, lines: int = 1) -> str:
        """The last ``lines`` non-empty lines ITK printed, on one line, or an empty string."""
        return last_line(self.text, lines)


def last_line(text: str, lines: int = 1) -> str:
    """The last non-empty line(s) of ITK's text, without ITK's decorations, squeezed to one line."""
    kept = []
    for line in [line.strip() for line in text.splitlines() if line.strip()][-lines:]:
        for prefix in ("sitk::ERROR:", "ERROR:", "WARNING:"):
            if line.startswith(prefix):
                line = line[len(prefix):].strip()
        kept.append(" ".join(line.split()))
    return " ".join(kept)


def failure_reason(error: Exception, printed: NativeOutput) -> str:
    """One line saying why an ITK read failed: the exception's last line, unless that is only the C
    library's errno text ("Reason: No such file or directory" for a MetaImage cut short), in which case
    what ITK printed says more (e.g. "data not read completely ideal = 256 : actual = 216")."""
    reason = last_line(str(error))
    if (not reason or reason.startswith("Reason:")) and printed.reason():
        return printed.reason(lines=2)
    return reason or "unknown reason"


# fd 2 belongs to the whole process: two threads redirecting it at once would restore each other's
# temporary file and lose stderr for good, so redirections are serialised (re-entrant: nesting is LIFO).
_REDIRECTING = threading.RLock()


@contextmanager
def quiet_native_stderr() -> Iterator[NativeOutput]:
    """Redirect fd 2 to a temporary file for the block; the yielded object's ``text`` holds what was written."""
    with _REDIRECTING:
        with _redirected() as captured:
            yield captured


@contextmanager
def _redirected() -> Iterator[NativeOutput]:
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
