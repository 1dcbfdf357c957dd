"""The bad-input battery's one check: a refused command exits 2 with one line that names the problem,
and the folder it worked in is exactly as it was (no new file, no temporary left, every input unchanged).

Used by the ``test_bad_input_*.py`` files: ``refuse(capfd, argv, folder, "words", "the", "message", "names")``.
``capfd`` (not ``capsys``) so that output printed by C++ libraries (ITK) counts as output too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from synthtrust.cli.main import main


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (recursively, hidden ones included) with its sha256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(Path(folder).rglob("*"))
        if path.is_file()
    }


def assert_unchanged(before: dict[str, str], folder: Path) -> None:
    after = snapshot(folder)
    new = sorted(set(after) - set(before))
    gone = sorted(set(before) - set(after))
    changed = sorted(name for name in set(before) & set(after) if before[name] != after[name])
    assert not new, f"files left behind: {new}"
    assert not gone, f"files removed: {gone}"
    assert not changed, f"files modified: {changed}"


def assert_one_line(message: str, *expected: str) -> None:
    assert message, "nothing was printed"
    assert len(message.splitlines()) == 1, f"more than one line:\n{message}"
    assert "Traceback" not in message, message
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"


def refuse(capfd, argv, folder: Path, *expected: str) -> str:
    """Run ``synthtrust ARGV`` in-process; assert exit 2, one stderr line holding every ``expected`` text,
    and ``folder`` untouched. Returns the message."""
    folder = Path(folder)
    capfd.readouterr()
    before = snapshot(folder)
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse refuses bad option values by exiting 2
        code = exit_.code
    out, err = capfd.readouterr()
    message = err.strip()
    if code == 2 and message.startswith("usage:"):
        message = message.splitlines()[-1]  # argparse prints the usage line first, then one error line
    assert code == 2, f"exit code {code}, stderr: {err!r}, stdout: {out!r}"
    assert_one_line(message, *expected)
    assert_unchanged(before, folder)
    return message
