"""Errors the user can fix.

``InputError`` marks bad input (a file, a parameter, a geometry): the CLI prints its message on one
line and exits with code 2; the panel shows it in a dialog. Its message names the bad value and the fix.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input that the user can fix; the message says what is wrong and what to do."""


class CancelledError(RuntimeError):
    """A long job was cancelled by the user; nothing was written."""
