"""The settings of one run, typed once from panel to engine: what the module asks for, what the worker's
``job.json`` holds (it is exactly :meth:`RunSettings.to_json`) and what reaches the engine.

Read from JSON strictly: a value of the wrong type, a missing key or an unknown key is an
:class:`~synthtrust.errors.InputError` naming the key, the expected type and the valid keys, so a misspelt
option is refused instead of silently ignored. File names are relative to the job folder and confined to
it (:meth:`RunSettings.input_files`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
from synthtrust.metrics.conventions import DEFAULT_HD95, HD95_CONVENTIONS
from synthtrust.synthesis.engines import ENGINE_NAMES
from synthtrust.synthesis.options import EngineOptions
from synthtrust.typed_json import StrictSettings, at_least, within

KINDS = ("synthesize", "segment", "run", "sweep")
FILE_KEYS = ("lesion", "anatomy", "reference")


@dataclass
class SweepSettings(StrictSettings):
    """A scar sweep's grid: one edit per AHA segment x transmurality level."""

    segments: list[int]
    transmurality: list[float] = field(default_factory=lambda: [0.5])
    extent: float = 1.0
    irregularity: float = 0.3
    mvo: float = 0.0
    seed: int = 0

    def check(self) -> None:
        if not self.segments or any(not 1 <= s <= 17 for s in self.segments):
            raise InputError(f"sweep segments {self.segments!r} must be AHA segment numbers 1-17 (at least one)")
        if not self.transmurality or any(not 0.0 < t <= 1.0 for t in self.transmurality):
            raise InputError(f"sweep transmurality {self.transmurality!r} must be one or more values in (0, 1]")
        within("sweep extent", self.extent, 0.0, 1.0)
        within("sweep irregularity", self.irregularity, 0.0, 1.0)
        within("sweep mvo", self.mvo, 0.0, 1.0)


@dataclass
class RunSettings(StrictSettings):
    """The parameters of one run (the worker's job); file names are relative to the job folder."""

    kind: str
    task: str
    channels: list[str]
    modalities: list[str]
    lesion: str = ""
    anatomy: str = ""
    reference: str = ""
    schema: str = ""  # default: the task's (brats for brain-tumor, emidec for cardiac-scar)
    engine: str = "template"
    engine_options: EngineOptions = field(default_factory=EngineOptions)
    variants: int = 1
    seed: int = 0
    device: str = "auto"  # synthesis (and segmentation unless segmentation_device is set)
    segmentation_device: str = ""  # "" = the same as device
    segmenters: list[str] = field(default_factory=list)  # "default", manifest ids or local paths
    edit: dict = field(default_factory=dict)  # how the lesion was made (kind, parameters), for provenance
    fidelity_threshold: float = 0.6
    n_bootstrap: int = 1000
    sweep: SweepSettings | None = None  # kind sweep only
    hd95: str = DEFAULT_HD95  # HD95 convention of every metric (synthtrust.metrics.conventions)

    def __post_init__(self) -> None:
        # Python callers may pass the nested settings as plain dicts (as job.json holds them).
        if isinstance(self.engine_options, dict):
            self.engine_options = EngineOptions.from_json(self.engine_options, "engine_options")
        if isinstance(self.sweep, dict):
            self.sweep = SweepSettings.from_json(self.sweep, "sweep") if self.sweep else None

    def check(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"job kind {self.kind!r} is unknown; use one of {', '.join(KINDS)}")
        if self.task not in TASK_SCHEMAS:
            raise InputError(f"task {self.task!r} is unknown; use one of {', '.join(TASK_SCHEMAS)}")
        self.schema = self.schema or TASK_SCHEMAS[self.task]
        get_schema(self.schema)
        if self.engine not in ENGINE_NAMES:
            raise InputError(f"engine {self.engine!r} is unknown; use one of {', '.join(ENGINE_NAMES)}")
        if not self.channels:
            raise InputError("the job has no image channel; give at least one volume")
        if len(self.modalities) != len(self.channels):
            raise InputError(f"{len(self.channels)} channel(s) but {len(self.modalities)} modalities "
                             f"{self.modalities}; give one modality per channel")
        if self.kind not in ("segment", "sweep") and not self.lesion:
            raise InputError(f"a {self.kind} job needs the intended lesion; draw or place one first")
        if self.kind == "sweep":
            if self.task != "cardiac-scar":
                raise InputError(f"a sweep places scars in AHA segments: task must be cardiac-scar, not {self.task!r}")
            if not self.anatomy:
                raise InputError("a sweep needs the cardiac anatomy (blood pool and myocardium); select it under "
                                 "Inputs")
            if self.sweep is None:
                raise InputError("a sweep job needs its grid: 'sweep' with segments (AHA 1-17) and transmurality")
        at_least("variants", self.variants, 1)
        at_least("n_bootstrap", self.n_bootstrap, 1)
        within("fidelity_threshold", self.fidelity_threshold, 0.0, 1.0)
        if self.hd95 not in HD95_CONVENTIONS:
            raise InputError(f"hd95 {self.hd95!r} is not an HD95 convention; use one of {', '.join(HD95_CONVENTIONS)}")

    def validate(self, folder: str | Path | None = None) -> None:
        """Check types and values (as if read from JSON); with ``folder``, also that every input is a file
        inside it."""
        self.schema = type(self).from_json(self.to_json(), "settings").schema
        if folder is not None:
            self.input_files(folder)

    def file_names(self) -> dict[str, str]:
        named = {f"channels[{i}]": name for i, name in enumerate(self.channels)}
        named.update({key: getattr(self, key) for key in FILE_KEYS if getattr(self, key)})
        return named

    def input_files(self, folder: str | Path) -> dict[str, Path]:
        """Every input as a path inside ``folder``: absolute names, ``..`` escapes and links that lead
        out of the folder are refused (a job reads only its own folder)."""
        root = Path(folder).resolve()
        files = {}
        for key, name in self.file_names().items():
            relative = Path(name)
            if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                raise InputError(f"job.json {key} {name!r} must be a file name inside the job folder (no absolute "
                                 "path, no '..'); copy the file into the job folder")
            path = root / relative
            if path.is_symlink() or not path.resolve().is_relative_to(root):
                raise InputError(f"job.json {key} {name!r} is a link; the worker reads only files inside its job "
                                 "folder: copy the file itself there")
            if not path.is_file():
                raise InputError(f"input {name} is missing from job folder {root}; write it before starting")
            files[key] = path
        return files

    def write(self, folder: str | Path) -> Path:
        path = Path(folder) / "job.json"
        path.write_text(json.dumps(self.to_json(), indent=2, allow_nan=False), encoding="utf-8")
        return path
