"""The settings of one run, typed once from panel to engine: what the module asks for, what the worker's
``job.json`` holds (it is exactly :meth:`RunSettings.to_json`) and what reaches the engine.

Read from JSON strictly: a value of the wrong type, a missing key or an unknown key is an
:class:`~synthtrust.errors.InputError` naming the key, the expected type and the valid keys, so a misspelt
option is refused instead of silently ignored. File names are relative to the job folder and confined to
it (:meth:`RunSettings.input_files`).
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
from synthtrust.metrics.conventions import DEFAULT_HD95, HD95_CONVENTIONS
from synthtrust.synthesis.engines import ENGINE_NAMES

KINDS = ("synthesize", "segment", "run", "sweep")
FILE_KEYS = ("lesion", "anatomy", "reference")
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object",
               list: "a list"}


def _describe(expected) -> str:
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _describe(a) for a in typing.get_args(expected))
    if origin is list:
        return f"a list of {_describe(typing.get_args(expected)[0]).split(' ', 1)[1]}s"
    if origin is dict:
        return "an object"
    if isinstance(expected, type) and hasattr(expected, "__dataclass_fields__"):
        return "an object"
    return _TYPE_NAMES.get(expected, str(expected))


def _shown(value) -> str:
    kind = {str: "the string", bool: "the flag", int: "the integer", float: "the number", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)
    text = repr(value) if not isinstance(value, (list, dict)) else ""
    return f"{kind} {text}".strip() if len(text) < 40 else kind


def _convert(value, expected, where: str):
    """``value`` as ``expected`` (a type hint); JSON numbers without a fraction pass as floats."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(expected)
        if value is None and type(None) in options:
            return None
        present = [option for option in options if option is not type(None)]
        if len(present) == 1:  # "X | None" with a value: X's own message says what is wrong
            return _convert(value, present[0], where)
        for option in present:
            try:
                return _convert(value, option, where)
            except InputError:
                continue
        raise InputError(f"{where} must be {_describe(expected)}, not {_shown(value)}")
    if origin is list:
        if not isinstance(value, list):
            raise InputError(f"{where} must be {_describe(expected)}, not {_shown(value)}")
        item = typing.get_args(expected)[0]
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or expected is dict:
        if not isinstance(value, dict):
            raise InputError(f"{where} must be an object, not {_shown(value)}")
        return dict(value)
    if isinstance(expected, type) and hasattr(expected, "__dataclass_fields__"):
        return expected.from_json(value, where)
    if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected in (str, bool) and isinstance(value, expected):
        return value
    raise InputError(f"{where} must be {_describe(expected)}, not {_shown(value)}")


class _Strict:
    """JSON round trip for a settings dataclass: unknown, missing and mistyped keys are refused."""

    @classmethod
    def from_json(cls, data, where: str = "settings"):
        if not isinstance(data, dict):
            raise InputError(f"{where} must be a JSON object of settings, not {_shown(data)}; rewrite it")
        hints = typing.get_type_hints(cls)
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InputError(f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)}; valid keys are "
                             f"{', '.join(known)}")
        missing = [f.name for f in fields(cls) if f.name not in data and f.default is MISSING
                   and f.default_factory is MISSING]
        if missing:
            raise InputError(f"{where}: missing key(s) {', '.join(repr(k) for k in missing)} "
                             f"({'; '.join(f'{k}: {_describe(hints[k])}' for k in missing)}); add them")
        values = {k: _convert(v, hints[k], f"{where}: {k!r}") for k, v in data.items()}
        settings = cls(**values)
        settings.check()
        return settings

    def to_json(self) -> dict:
        return asdict(self)

    def check(self) -> None:
        """Value ranges (types are already right); raises InputError naming the value and the fix."""


def _at_least(name: str, value, low) -> None:
    if value is not None and value < low:
        raise InputError(f"{name} {value} must be at least {low}")


def _within(name: str, value, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise InputError(f"{name} {value} must lie in [{low}, {high}]")


@dataclass
class EngineOptions(_Strict):
    """What the learned engines take (``None``: the engine's default); the template engine needs none."""

    model: str = ""  # generator: a manifest id or a local file / MONAI bundle folder; "" = the shipped default
    steps: int | None = None
    scheduler: str | None = None  # ddim or ddpm
    guidance: float | None = None
    quality_threshold: float | None = None
    candidates: int | None = None
    precision: str | None = None
    threads: int | None = None
    eta: float | None = None
    resampling: int | None = None

    def check(self) -> None:
        _at_least("engine option steps", self.steps, 1)
        _at_least("engine option guidance", self.guidance, 0.0)
        _within("engine option quality_threshold", self.quality_threshold, 0.0, 1.0)
        _at_least("engine option candidates", self.candidates, 1)
        _at_least("engine option threads", self.threads, 1)
        _at_least("engine option resampling", self.resampling, 1)
        _within("engine option eta", self.eta, 0.0, 1.0)

    def given(self) -> dict:
        """The options that were set (the engine's defaults stand for the rest)."""
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


@dataclass
class SweepSettings(_Strict):
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
        _within("sweep extent", self.extent, 0.0, 1.0)
        _within("sweep irregularity", self.irregularity, 0.0, 1.0)
        _within("sweep mvo", self.mvo, 0.0, 1.0)


@dataclass
class RunSettings(_Strict):
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
        _at_least("variants", self.variants, 1)
        _at_least("n_bootstrap", self.n_bootstrap, 1)
        _within("fidelity_threshold", self.fidelity_threshold, 0.0, 1.0)
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
        path.write_text(json.dumps(self.to_json(), indent=2, allow_nan=False))
        return path
