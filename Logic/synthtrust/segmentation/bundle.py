"""MONAI bundle folders as segmenters: the :class:`NetworkConfig` a bundle describes.

The folder is read as data (:mod:`synthtrust.models.bundles`). From the inference config: the network
(``network_def``, a ``monai.networks.nets`` class), the sliding-window inferer's ``roi_size``,
``sw_batch_size``, ``overlap`` and ``mode``, the target spacing (``Spacingd`` ``pixdim``), the intensity
normalisation (``NormalizeIntensityd``), and whether outputs are softmax classes or sigmoid regions
(``Activationsd(sigmoid=True)`` / ``AsDiscreted(threshold=...)`` in post-processing). From
``configs/metadata.json``: channel and class names (``network_data_format``) and SynthTrustSlicer's own
``synthtrust`` section (task, schema, channels, label_values, output, output_regions, threshold,
target_spacing_mm, roi_size, overlap, sw_batch_size, normalization), which overrides what the config says.
"""

from __future__ import annotations

from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS, get_schema
from synthtrust.models.bundles import (
    Bundle,
    component_literal,
    find_components,
    network_definition,
    read_bundle,
)
from synthtrust.models.channels import canonical_channel
from synthtrust.segmentation.config import NetworkConfig, roi_multiple
from synthtrust.segmentation.networks import MONAI_CLASSES, monai_network_class
from synthtrust.segmentation.outputs import multilabel_plan

# MONAI's own defaults, used when a bundle's SlidingWindowInferer leaves an argument out.
MONAI_INFERER_DEFAULTS = {"sw_batch_size": 1, "overlap": 0.25, "mode": "constant"}
DEFAULT_ROI = [96, 96, 96]


def _names_from_metadata(metadata: dict) -> tuple[list[str] | None, list[str] | None]:
    """Input channel names and output class names from ``network_data_format``, when present."""
    data_format = metadata.get("network_data_format", {})
    if not isinstance(data_format, dict):
        return None, None
    inputs = next(iter((data_format.get("inputs") or {}).values()), {})
    outputs = next(iter((data_format.get("outputs") or {}).values()), {})

    def names(block) -> list[str] | None:
        definition = block.get("channel_def") if isinstance(block, dict) else None
        if isinstance(definition, dict) and definition and all(str(k).isdigit() for k in definition):
            return [str(definition[k]) for k in sorted(definition, key=lambda k: int(k))]
        return None

    return names(inputs), names(outputs)


def _label_values(schema_name: str, class_names: list[str] | None, out_channels: int, source: Path) -> list[int]:
    """Schema label values of softmax outputs, matched by class name (``background``, ``scar``...)."""
    schema = get_schema(schema_name)
    by_name = {name.lower(): value for value, name in schema.labels.items()} | {"background": 0}
    if class_names and all(n.lower() in by_name for n in class_names):
        return [by_name[n.lower()] for n in class_names]
    default = list(range(out_channels))
    if all(v == 0 or v in schema.labels for v in default):
        return default
    raise InputError(f"MONAI bundle {source}: cannot tell which {schema.name} label each of its {out_channels} "
                     "outputs is; add \"synthtrust\": {\"label_values\": [...]} to configs/metadata.json")


def output_activation(bundle: Bundle) -> tuple[str, float]:
    """("softmax" | "sigmoid", threshold) as the bundle's post-processing applies them."""
    extra = bundle.extra
    threshold = 0.5
    for component in find_components(bundle, "AsDiscreted") + find_components(bundle, "AsDiscrete"):
        value = component_literal(bundle, component, "threshold")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            threshold = float(value)
    if extra.get("output") is not None:
        return str(extra["output"]), float(extra.get("threshold", threshold))
    for name in ("Activationsd", "Activations"):
        for component in find_components(bundle, name):
            if component_literal(bundle, component, "sigmoid") is True:
                return "sigmoid", threshold
            if component_literal(bundle, component, "softmax") is True:
                return "softmax", threshold
    for name in ("AsDiscreted", "AsDiscrete"):
        for component in find_components(bundle, name):
            if component_literal(bundle, component, "argmax") is True:
                return "softmax", threshold
            if "threshold" in component:
                return "sigmoid", threshold
    return "softmax", threshold


def inferer_settings(bundle: Bundle) -> dict:
    """roi_size, sw_batch_size, overlap and blend mode of the bundle's SlidingWindowInferer (none: {})."""
    inferers = find_components(bundle, "SlidingWindowInferer")
    if not inferers:
        return {}
    inferer = inferers[0]
    settings = {key: component_literal(bundle, inferer, key, default)
                for key, default in MONAI_INFERER_DEFAULTS.items()}
    settings["roi_size"] = component_literal(bundle, inferer, "roi_size")
    return settings


def _normalization(bundle: Bundle) -> str:
    for name in ("NormalizeIntensityd", "NormalizeIntensity"):
        for component in find_components(bundle, name):
            return "zscore-nonzero" if component_literal(bundle, component, "nonzero", False) else "zscore"
    return "zscore-nonzero"


def _roi(value, multiple: int, source: Path) -> tuple[int, int, int]:
    roi = value if isinstance(value, list) else [value] * 3
    if len(roi) != 3 or not all(isinstance(r, int) and not isinstance(r, bool) and r > 0 for r in roi):
        raise InputError(f"MONAI bundle {source}: sliding-window roi_size {value!r} is not three positive voxel "
                         "counts; set \"synthtrust\": {\"roi_size\": [x, y, z]} in configs/metadata.json")
    # A size the network cannot take (skip connections misalign) is rounded down to one it can.
    return tuple(max(2 * multiple, r - r % multiple) for r in roi)


def read_bundle_config(folder: Path, task: str | None = None) -> tuple[NetworkConfig, Path]:
    """The :class:`NetworkConfig` a bundle describes, and its weight file."""
    bundle = read_bundle(folder)
    class_name, kwargs = network_definition(bundle)
    network_class = monai_network_class(class_name)
    extra = bundle.extra
    task = task or extra.get("task")
    if task not in TASK_SCHEMAS:
        raise InputError(f"MONAI bundle {folder}: its task is unknown; pass --task ({', '.join(TASK_SCHEMAS)}) or "
                         "add \"synthtrust\": {\"task\": ...} to configs/metadata.json")
    schema_name = str(extra.get("schema") or TASK_SCHEMAS[task])
    channel_names, class_names = _names_from_metadata(bundle.metadata)
    in_channels = int(kwargs.pop("in_channels", len(channel_names or []) or 1))
    out_channels = int(kwargs.pop("out_channels", len(class_names or []) or 2))
    channels = extra.get("channels") or channel_names or [f"channel{i}" for i in range(in_channels)]
    if len(channels) != in_channels:
        raise InputError(f"MONAI bundle {folder}: metadata names {len(channels)} channels {channels} but the "
                         f"network takes {in_channels}; fix configs/metadata.json")
    output, threshold = output_activation(bundle)
    regions: list[str] = []
    if output == "sigmoid":
        regions = extra.get("output_regions") or class_names or []
        if len(regions) != out_channels:
            raise InputError(f"MONAI bundle {folder}: its {out_channels} outputs are sigmoid regions but "
                             f"{len(regions)} are named ({regions}); name each output's schema region with "
                             "\"synthtrust\": {\"output_regions\": [\"TC\", \"WT\", \"ET\"]} in configs/metadata.json")
        plan = multilabel_plan(get_schema(schema_name), regions, f"MONAI bundle {folder}")
        regions, label_values = list(plan.regions), plan.label_values
    else:
        label_values = extra.get("label_values") or _label_values(schema_name, class_names, out_channels, folder)
        if len(label_values) != out_channels:
            raise InputError(f"MONAI bundle {folder}: {len(label_values)} label values {label_values} for a "
                             f"network with {out_channels} outputs; give one label value per output")
    architecture = next((short for short, name in MONAI_CLASSES.items() if name == network_class.__name__),
                        network_class.__name__)
    inferer = inferer_settings(bundle)
    multiple = roi_multiple(architecture, kwargs)
    roi = _roi(extra.get("roi_size") or inferer.get("roi_size") or DEFAULT_ROI, multiple, folder)
    spacing = extra.get("target_spacing_mm")
    if spacing is None:
        spacing = next((component_literal(bundle, c, "pixdim") for c in find_components(bundle, "Spacingd")), None)
    config = NetworkConfig(
        architecture=architecture, channels=[canonical_channel(c) for c in channels], task=task,
        label_values=label_values, network_kwargs=kwargs, normalization=extra.get("normalization", _normalization(bundle)),
        target_spacing_mm=tuple(spacing) if isinstance(spacing, list) and len(spacing) == 3 else None,
        roi_size=roi, overlap=float(extra.get("overlap", inferer.get("overlap", MONAI_INFERER_DEFAULTS["overlap"]))),
        sw_batch_size=int(extra.get("sw_batch_size", inferer.get("sw_batch_size", 1))),
        blend_mode=str(inferer.get("mode", "gaussian")), id=str(bundle.metadata.get("name", folder.name)),
        schema=schema_name, output=output, output_regions=list(regions) if output == "sigmoid" else [],
        threshold=threshold)
    return config, bundle.weights
