"""Worker jobs: ``job.json`` plus NRRD inputs in a job folder in; NRRD outputs and ``results.json`` out.

The job is a :class:`synthtrust.settings.RunSettings` (``job.json`` is its JSON, read strictly: wrong types,
missing or unknown keys are refused, and every file name must stay inside the job folder); the outputs are a
:class:`synthtrust.results.RunRecord` (``results.json``).
Kinds: ``synthesize`` (variants of the edit), ``segment`` (the input images, evaluated against the
reference when one is given), ``run`` (the product's loop, :func:`synthtrust.loop.run_loop`, once per
segmenter; with a reference, the real image is segmented too and T3/T4 compare real with synthetic) and
``sweep`` (cardiac scar: one edit per chosen AHA segment x transmurality through
:func:`synthtrust.sweep.run_sweep`, giving Dice per AHA segment).
Everything is written into a scratch folder inside the job folder and renamed to ``outputs`` at the
end, so a failed or cancelled job leaves no partial outputs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.results.records import RESULTS_FILE
from synthtrust.settings import KINDS, RunSettings
from synthtrust.worker.execute import execute
from synthtrust.worker.protocol import Emitter

JOB_FILE, OUTPUTS = "job.json", "outputs"
__all__ = ["JOB_FILE", "KINDS", "OUTPUTS", "RESULTS_FILE", "read_job", "run_job"]


def read_job(folder: str | Path) -> RunSettings:
    """The validated job of ``folder``: types, values, and every input a file inside ``folder``; a wrong
    type, a missing or unknown key is named in the error (one line)."""
    folder = Path(folder)
    path = folder / JOB_FILE
    if path.is_symlink() or not path.is_file():
        raise InputError(f"{path} does not exist (or is a link); a job folder holds job.json and its input images")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path} is not valid JSON ({error}); rewrite it") from None
    spec = RunSettings.from_json(data, JOB_FILE)
    spec.input_files(folder)
    return spec


def run_job(folder: str | Path, emitter: Emitter | None = None) -> Path:
    """Run the job of ``folder``; returns ``folder/outputs`` (written whole, or not at all)."""
    folder = Path(folder).resolve()
    emitter = emitter or Emitter()
    spec = read_job(folder)
    outputs = folder / OUTPUTS
    if outputs.exists() or outputs.is_symlink():
        raise InputError(f"{outputs} already exists: a job folder is used once; start a new job")
    scratch = Path(tempfile.mkdtemp(prefix=".outputs-", dir=folder))
    try:
        started = time.perf_counter()
        record = execute(spec, folder, scratch, emitter)
        record.seconds = round(time.perf_counter() - started, 3)
        record.write(scratch / RESULTS_FILE)
        scratch.rename(outputs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return outputs
