"""MONAI bundle folders, read as data: nothing from the folder is ever executed.

A bundle holds ``configs/inference.json`` (or ``.yaml`` / ``.yml``, read with ``yaml.safe_load``), weights in
``models/model.safetensors`` or ``models/model.pt``, and optionally ``configs/metadata.json``. Config values
may refer to each other with ``@id`` (``::`` separates nested ids, as in MONAI); ``$`` Python expressions,
``%`` macros and nested ``_target_`` components are refused wherever a literal is needed. Segmenters
(``synthtrust.segmentation.bundle``) and generators (``synthtrust.synthesis.diffusion.model``) build on this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from synthtrust.errors import InputError

CONFIG_NAMES = ("inference.json", "inference.yaml", "inference.yml")
WEIGHT_NAMES = ("model.safetensors", "model.pt", "model.pth")
MAX_REFERENCE_DEPTH = 20
ID_SEPARATORS = ("::", "#")  # MONAI's id separator, and the one older bundles use


def is_bundle(folder: Path) -> bool:
    return folder.is_dir() and any((folder / "configs" / name).is_file() for name in CONFIG_NAMES)


def bundle_files(folder: Path) -> tuple[Path, Path, Path | None]:
    """(inference config, weights, metadata or None) of a bundle folder, or a clear refusal."""
    config = next((folder / "configs" / n for n in CONFIG_NAMES if (folder / "configs" / n).is_file()), None)
    if config is None:
        raise InputError(f"{folder} is not a MONAI bundle: it has no configs/inference.json or .yaml")
    weights = next((folder / "models" / n for n in WEIGHT_NAMES if (folder / "models" / n).is_file()), None)
    if weights is None:
        torchscript = (folder / "models" / "model.ts").is_file()
        raise InputError(f"MONAI bundle {folder} has no models/model.safetensors or models/model.pt" +
                         ("; it has only TorchScript (model.ts), which can run code and is not loaded: export "
                          "the state dict to model.pt" if torchscript else ""))
    metadata = folder / "configs" / "metadata.json"
    return config, weights, metadata if metadata.is_file() else None


def _one_line_yaml_error(error) -> str:
    """PyYAML's messages span several lines (with a caret drawing); keep the problem and where it is."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).strip().splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def read_config_file(path: Path) -> dict:
    """A bundle config as a dict: JSON, or YAML through ``yaml.safe_load`` (which builds no Python objects)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read MONAI bundle config {path} ({type(error).__name__}); restore the file") \
            from None
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            content = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InputError(f"MONAI bundle config {path} is not valid YAML ({_one_line_yaml_error(error)}); fix "
                             "the file") from None
    else:
        try:
            content = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"MONAI bundle config {path} is not valid JSON ({error}); fix the file") from None
    if not isinstance(content, dict):
        raise InputError(f"MONAI bundle config {path} holds a {type(content).__name__}, not a mapping of ids to "
                         "values; fix the file")
    return content


@dataclass
class Bundle:
    """A parsed bundle folder: its inference config (nothing evaluated), weights and metadata."""

    folder: Path
    config_file: Path
    weights: Path
    content: dict
    metadata: dict = field(default_factory=dict)

    def lookup(self, reference: str):
        """The raw value at a MONAI id (``network_def``, ``inferer::roi_size``); KeyError when absent."""
        key = reference
        for separator in ID_SEPARATORS[1:]:
            key = key.replace(separator, ID_SEPARATORS[0])
        value = self.content
        for part in key.split(ID_SEPARATORS[0]) if key else []:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise KeyError(reference)
        return value

    @property
    def extra(self) -> dict:
        """SynthTrustSlicer's own section of the metadata (``synthtrust``), or {}."""
        section = self.metadata.get("synthtrust")
        return section if isinstance(section, dict) else {}


def read_bundle(folder: Path) -> Bundle:
    """Parse a bundle folder (config, weights, metadata); refusals are one line naming the file."""
    config_file, weights, metadata_file = bundle_files(folder)
    content = read_config_file(config_file)
    metadata: dict = {}
    if metadata_file is not None:
        try:
            metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"MONAI bundle metadata {metadata_file} is not valid JSON ({error}); fix the file") \
                from None
        if not isinstance(metadata, dict):
            raise InputError(f"MONAI bundle metadata {metadata_file} must hold a JSON object")
    return Bundle(folder, config_file, weights, content, metadata)


class SafeResolver:
    """Follows ``@id`` references of a bundle config, refusing anything that would run code."""

    def __init__(self, bundle: Bundle):
        self.bundle = bundle

    def refuse(self, where: str, what: str) -> InputError:
        return InputError(f"MONAI bundle config {self.bundle.config_file}: {where} uses {what}; SynthTrustSlicer "
                          "never runs code from a model folder: replace it with a literal value")

    def resolve(self, value, where: str, depth: int = 0):
        if depth > MAX_REFERENCE_DEPTH:
            raise InputError(f"MONAI bundle config {self.bundle.config_file}: references at {where} are nested too "
                             "deeply (a cycle?)")
        if isinstance(value, str):
            if value.startswith("$"):
                raise self.refuse(where, f"the Python expression {value[:60]!r}")
            if value.startswith("%"):
                raise self.refuse(where, f"the macro {value[:60]!r}")
            if value.startswith("@"):
                try:
                    target = self.bundle.lookup(value[1:])
                except KeyError:
                    raise InputError(f"MONAI bundle config {self.bundle.config_file}: {where} refers to {value!r}, "
                                     "which the config does not define") from None
                return self.resolve(target, value[1:], depth + 1)
            return value
        if isinstance(value, dict):
            if "_target_" in value:
                raise self.refuse(where, f"a nested component ({value['_target_']!r})")
            return {k: self.resolve(v, f"{where}::{k}", depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, f"{where}::{i}", depth + 1) for i, v in enumerate(value)]
        return value


def find_components(bundle: Bundle, target_suffix: str, under: str = "") -> list[dict]:
    """Every component (a dict with ``_target_``) whose class name is ``target_suffix``, in config order,
    optionally only below the id ``under`` (e.g. ``postprocessing``)."""
    try:
        root = bundle.lookup(under)
    except KeyError:
        return []
    found, stack = [], [root]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            target = item.get("_target_")
            if isinstance(target, str) and target.rsplit(".", 1)[-1] == target_suffix:
                found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def component_literal(bundle: Bundle, component: dict, key: str, default=None):
    """A component's argument as a literal (references followed); ``default`` when absent or computed."""
    if key not in component:
        return default
    try:
        return SafeResolver(bundle).resolve(component[key], f"{component['_target_']}::{key}")
    except InputError:
        return default


def network_definition(bundle: Bundle) -> tuple[str, dict]:
    """The class name and literal keyword arguments of ``network_def`` (only ``monai.networks.nets``)."""
    network_def = bundle.content.get("network_def")
    if isinstance(network_def, str) and network_def.startswith("@"):
        # An alias of another id (``network_def: "@net"``); the component itself is not resolved as a literal.
        try:
            network_def = bundle.lookup(network_def[1:])
        except KeyError:
            network_def = None
    if not isinstance(network_def, dict) or "_target_" not in network_def:
        raise InputError(f"MONAI bundle config {bundle.config_file} has no 'network_def' with a '_target_'; a "
                         "model bundle must define its network")
    resolver = SafeResolver(bundle)
    target = network_def["_target_"]
    if not isinstance(target, str) or target.startswith(("$", "@", "%")):
        raise resolver.refuse("network_def::_target_", repr(target))
    if "." in target and not target.startswith("monai.networks.nets."):
        raise InputError(f"MONAI bundle {bundle.folder}: network_def::_target_ {target!r} is not a "
                         "monai.networks.nets class; only MONAI networks are loaded")
    kwargs = {k: resolver.resolve(v, f"network_def::{k}") for k, v in network_def.items() if not k.startswith("_")}
    return target.rsplit(".", 1)[-1], kwargs
