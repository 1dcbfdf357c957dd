"""MONAI bundle folders as segmenters, read without running any code from the folder.

A bundle holds ``configs/inference.json`` (or ``.yaml``) with a ``network_def`` whose ``_target_`` names a
``monai.networks.nets`` class, weights in ``models/model.safetensors`` or ``models/model.pt``, and
optionally ``configs/metadata.json`` (channel and class names in ``network_data_format``; SynthTrustSlicer
also reads its own ``synthtrust`` section: task, channels, label_values, target_spacing_mm, roi_size,
normalization, overlap). The config is read with ``monai.bundle.ConfigParser``; ``@`` references are
followed, but ``$`` Python expressions, ``%`` macros and nested ``_target_`` components are refused:
a model folder is data, never code.
"""

from __future__ import annotations

import json
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
from synthtrust.segmentation.config import NetworkConfig, canonical_channel, roi_multiple
from synthtrust.segmentation.networks import MONAI_CLASSES, monai_network_class

CONFIG_NAMES = ("inference.json", "inference.yaml", "inference.yml")
WEIGHT_NAMES = ("model.safetensors", "model.pt", "model.pth")
MAX_REFERENCE_DEPTH = 20


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


class _SafeResolver:
    """Follows ``@id`` references of a ConfigParser config, refusing anything that would run code."""

    def __init__(self, parser, source: Path):
        self.parser = parser
        self.source = source

    def refuse(self, where: str, what: str) -> InputError:
        return InputError(f"MONAI bundle config {self.source}: {where} uses {what}; SynthTrustSlicer never runs "
                          "code from a model folder: replace it with a literal value")

    def resolve(self, value, where: str, depth: int = 0):
        if depth > MAX_REFERENCE_DEPTH:
            raise InputError(f"MONAI bundle config {self.source}: references at {where} are nested too deeply "
                             "(a cycle?)")
        if isinstance(value, str):
            if value.startswith("$"):
                raise self.refuse(where, f"the Python expression {value[:60]!r}")
            if value.startswith("%"):
                raise self.refuse(where, f"the macro {value[:60]!r}")
            if value.startswith("@"):
                reference = value[1:]
                try:
                    target = self.parser.get(reference)
                except (KeyError, IndexError, ValueError):
                    target = None
                if target is None:
                    raise InputError(f"MONAI bundle config {self.source}: {where} refers to {value!r}, which the "
                                     "config does not define")
                return self.resolve(target, reference, depth + 1)
            return value
        if isinstance(value, dict):
            if "_target_" in value:
                raise self.refuse(where, f"a nested component ({value['_target_']!r})")
            return {k: self.resolve(v, f"{where}::{k}", depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, f"{where}::{i}", depth + 1) for i, v in enumerate(value)]
        return value


def _find_literal(parser, resolver: _SafeResolver, target_suffix: str, key: str):
    """The literal ``key`` of the first component whose ``_target_`` ends with ``target_suffix``, if any."""
    stack = [parser.get("")]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if str(item.get("_target_", "")).endswith(target_suffix) and key in item:
                try:
                    return resolver.resolve(item[key], f"{item['_target_']}::{key}")
                except InputError:
                    return None
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _names_from_metadata(metadata: dict) -> tuple[list[str] | None, list[str] | None]:
    """Input channel names and output class names from ``network_data_format``, when present."""
    data_format = metadata.get("network_data_format", {})
    inputs = next(iter(data_format.get("inputs", {}).values()), {})
    outputs = next(iter(data_format.get("outputs", {}).values()), {})

    def names(block: dict) -> list[str] | None:
        definition = block.get("channel_def")
        if isinstance(definition, dict) and definition:
            return [str(definition[k]) for k in sorted(definition, key=lambda k: int(k))]
        return None

    return names(inputs), names(outputs)


def _label_values(task: str, class_names: list[str] | None, out_channels: int, source: Path) -> list[int]:
    """Schema label values of the outputs, matched by class name (``background``, ``scar``...)."""
    schema = get_schema(TASK_SCHEMAS[task])
    by_name = {name.lower(): value for value, name in schema.labels.items()} | {"background": 0}
    if class_names and all(n.lower() in by_name for n in class_names):
        return [by_name[n.lower()] for n in class_names]
    default = list(range(out_channels))
    if all(v == 0 or v in schema.labels for v in default):
        return default
    raise InputError(f"MONAI bundle {source}: cannot tell which {schema.name} label each of its {out_channels} "
                     "outputs is; add \"synthtrust\": {\"label_values\": [...]} to configs/metadata.json")


def parse_bundle(folder: Path):
    """(parser, network_def, config file, weights, metadata file) of a bundle folder; nothing is evaluated."""
    from monai.bundle import ConfigParser

    config_file, weights, metadata_file = bundle_files(folder)
    parser = ConfigParser()
    try:
        parser.read_config(str(config_file))
    except Exception as error:  # JSON and YAML errors have many types
        raise InputError(f"cannot parse MONAI bundle config {config_file}: {error}") from None
    return parser, parser.get("network_def"), config_file, weights, metadata_file


def read_bundle_config(folder: Path, task: str | None = None) -> tuple[NetworkConfig, Path]:
    """The :class:`NetworkConfig` a bundle describes, and its weight file."""
    parser, network_def, config_file, weights, metadata_file = parse_bundle(folder)
    if not isinstance(network_def, dict) or "_target_" not in network_def:
        raise InputError(f"MONAI bundle config {config_file} has no 'network_def' with a '_target_'; a "
                         "segmentation bundle must define its network")
    resolver = _SafeResolver(parser, config_file)
    target = network_def["_target_"]
    if not isinstance(target, str) or target.startswith(("$", "@", "%")):
        raise resolver.refuse("network_def::_target_", repr(target))
    if "." in target and not target.startswith("monai.networks.nets."):
        raise InputError(f"MONAI bundle {folder}: network_def::_target_ {target!r} is not a monai.networks.nets "
                         "class; only MONAI networks are loaded")
    network_class = monai_network_class(target)
    kwargs = {k: resolver.resolve(v, f"network_def::{k}") for k, v in network_def.items() if not k.startswith("_")}

    metadata = json.loads(metadata_file.read_text()) if metadata_file else {}
    extra = metadata.get("synthtrust", {}) if isinstance(metadata, dict) else {}
    task = task or extra.get("task")
    if task not in TASK_SCHEMAS:
        raise InputError(f"MONAI bundle {folder}: its task is unknown; pass --task ({', '.join(TASK_SCHEMAS)}) or "
                         "add \"synthtrust\": {\"task\": ...} to configs/metadata.json")
    channel_names, class_names = _names_from_metadata(metadata if isinstance(metadata, dict) else {})
    in_channels = int(kwargs.pop("in_channels", len(channel_names or []) or 1))
    out_channels = int(kwargs.pop("out_channels", len(class_names or []) or 2))
    channels = extra.get("channels") or channel_names or [f"channel{i}" for i in range(in_channels)]
    if len(channels) != in_channels:
        raise InputError(f"MONAI bundle {folder}: metadata names {len(channels)} channels {channels} but the "
                         f"network takes {in_channels}; fix configs/metadata.json")
    label_values = extra.get("label_values") or _label_values(task, class_names, out_channels, folder)
    if len(label_values) != out_channels:
        raise InputError(f"MONAI bundle {folder}: {len(label_values)} label values {label_values} for a network "
                         f"with {out_channels} outputs; give one label value per output")
    architecture = next((short for short, name in MONAI_CLASSES.items() if name == network_class.__name__),
                        network_class.__name__)
    roi = (extra.get("roi_size") or _find_literal(parser, resolver, "SlidingWindowInferer", "roi_size")
           or [96, 96, 96])
    roi = [int(r) for r in (roi if isinstance(roi, list) else [roi] * 3)]
    multiple = roi_multiple(architecture, kwargs)
    roi = [max(2 * multiple, r - r % multiple) for r in roi]
    spacing = extra.get("target_spacing_mm") or _find_literal(parser, resolver, "Spacingd", "pixdim")
    config = NetworkConfig(
        architecture=architecture, channels=[canonical_channel(c) for c in channels], task=task,
        label_values=label_values, network_kwargs=kwargs,
        normalization=extra.get("normalization", "zscore-nonzero"),
        target_spacing_mm=tuple(spacing) if isinstance(spacing, list) and len(spacing) == 3 else None,
        roi_size=tuple(roi), overlap=float(extra.get("overlap", 0.25)),
        id=str(metadata.get("name", folder.name) if isinstance(metadata, dict) else folder.name))
    return config, weights
