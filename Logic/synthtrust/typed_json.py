"""Settings dataclasses read from JSON strictly: a value of the wrong type, a missing key or an unknown key is
an :class:`~synthtrust.errors.InputError` naming the key, the expected type and the valid keys, so a misspelt
option is refused instead of silently ignored. Used by the run settings (:mod:`synthtrust.settings`) and by
the engines' options (:mod:`synthtrust.synthesis.options`).
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, asdict, fields

from synthtrust.errors import InputError

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


class StrictSettings:
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


def at_least(name: str, value, low) -> None:
    if value is not None and value < low:
        raise InputError(f"{name} {value} must be at least {low}")


def within(name: str, value, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise InputError(f"{name} {value} must lie in [{low}, {high}]")
