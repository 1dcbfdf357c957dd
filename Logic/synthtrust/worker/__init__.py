"""The core's worker entry point, ``python -m synthtrust.worker JOB_FOLDER``: one job per process, progress
as JSON lines on stdout (see :mod:`synthtrust.worker.protocol`), results in ``JOB_FOLDER/outputs``.

The Slicer module starts it with Slicer's Python so long GPU work never blocks the GUI, and cancels it
by killing its process tree; scripts and tests run the very same protocol outside Slicer.
"""

from __future__ import annotations
