"""What a segmentation model is: its network, the channels it reads, the labels it writes, its grid.

A :class:`NetworkConfig` travels beside the weights as ``<name>.json``. Axis conventions (MONAI's, so
checkpoints trained with MONAI's ``LoadImage`` pipelines see the layout they were trained on):

- network tensors are ``(C, x, y, z)`` (numpy arrays of :class:`~synthtrust.imaging.image.Image` are
  ``(z, y, x)`` and are transposed on the way in and out);
- ``target_spacing_mm`` is ``(x, y, z)`` millimetres, like ``Geometry.spacing``;
- ``roi_size`` is ``(x, y, z)`` voxels of the model grid.

Output class ``k`` of the network means label value ``label_values[k]`` of the task's schema (e.g. BraTS
2021: ``[0, 1, 2, 4]``; EMIDEC: ``[0, 1, 2, 3, 4]``). A ``sigmoid`` network instead has one output per
schema region in ``output_regions`` (MONAI's BraTS bundle: TC, WT, ET); ``outputs.py`` says how those
become labels, and ``label_values`` are then the labels they produce.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS, LabelSchema, get_schema
from synthtrust.models.channels import canonical_channel
from synthtrust.segmentation.outputs import ACTIVATIONS, MultiLabelPlan, multilabel_plan

CONFIG_FORMAT = "synthtrust-segmenter-config"
CONFIG_FORMAT_VERSION = 1
ARCHITECTURES = ("unet", "segresnet", "swinunetr")
BLEND_MODES = ("gaussian", "constant")  # how overlapping sliding windows are averaged (MONAI's ``mode``)
NORMALIZATIONS = {
    "zscore-nonzero": "per channel: subtract the mean and divide by the standard deviation of the non-zero "
                      "voxels; zero voxels (background outside a skull-stripped brain) stay 0. Idempotent, so "
                      "raw and already z-scored inputs give the same network input",
    "zscore": "per channel: subtract the mean and divide by the standard deviation of all voxels",
    "none": "voxels are passed unchanged",
}
def default_network_kwargs(architecture: str) -> dict:
    """Small, CPU-friendly settings for each architecture (the shipped defaults use the UNet ones); a
    config stores its full ``network_kwargs``, so these never change an existing model."""
    if architecture == "unet":
        return {"channels": [16, 32, 64, 128], "strides": [2, 2, 2], "num_res_units": 1, "norm": "instance"}
    if architecture == "segresnet":
        return {"init_filters": 8, "blocks_down": [1, 2, 2], "blocks_up": [1, 1]}
    if architecture == "swinunetr":
        return {"feature_size": 12, "depths": [2, 2, 2, 2], "num_heads": [3, 6, 12, 24]}
    return {}


def roi_multiple(architecture: str, kwargs: dict) -> int:
    """Every roi_size dimension must be a multiple of this, or the network's skip connections misalign."""
    if architecture == "unet":
        multiple = 1
        for stride in kwargs.get("strides", []):
            multiple *= int(max(stride) if isinstance(stride, (list, tuple)) else stride)
        return multiple
    if architecture == "segresnet":
        return 2 ** (len(kwargs.get("blocks_down", (1, 2, 2, 4))) - 1)
    if architecture == "swinunetr":
        return 32  # patch size 2 and four patch-merging stages (monai 1.6 has no img_size to check it for us)
    return 1


def roi_multiples(architecture: str, kwargs: dict) -> tuple[int, int, int]:
    """:func:`roi_multiple` per axis (x, y, z): a UNet with per-axis strides such as ``[2, 2, 1]`` (a
    slice-wise network) downsamples some axes only."""
    strides = kwargs.get("strides", []) if architecture == "unet" else []
    if not any(isinstance(stride, (list, tuple)) for stride in strides):
        return (roi_multiple(architecture, kwargs),) * 3
    multiples = [1, 1, 1]
    for stride in strides:
        for axis in range(3):
            multiples[axis] *= int(stride[axis] if isinstance(stride, (list, tuple)) else stride)
    return tuple(multiples)


@dataclass
class NetworkConfig:
    """A segmentation model's network, inputs, outputs and working grid (see the module docstring)."""

    architecture: str
    channels: list[str]
    task: str
    label_values: list[int]
    network_kwargs: dict = field(default_factory=dict)
    normalization: str = "zscore-nonzero"
    target_spacing_mm: tuple[float, float, float] | None = (2.0, 2.0, 2.0)
    roi_size: tuple[int, int, int] = (64, 64, 64)
    overlap: float = 0.25
    sw_batch_size: int = 1
    id: str = ""
    schema: str = ""
    output: str = "softmax"  # or "sigmoid": one output per region of output_regions, thresholded
    output_regions: list[str] = field(default_factory=list)
    threshold: float = 0.5
    blend_mode: str = "gaussian"

    def __post_init__(self) -> None:
        self.channels = [canonical_channel(c) for c in self.channels]
        self.label_values = [int(v) for v in self.label_values]
        self.roi_size = tuple(int(r) for r in self.roi_size)
        if self.target_spacing_mm is not None:
            self.target_spacing_mm = tuple(float(s) for s in self.target_spacing_mm)
        if not self.schema:
            self.schema = TASK_SCHEMAS.get(self.task, "")
        self.validate()

    @property
    def in_channels(self) -> int:
        return len(self.channels)

    @property
    def out_channels(self) -> int:
        return len(self.output_regions) if self.output == "sigmoid" else len(self.label_values)

    def multilabel_plan(self) -> MultiLabelPlan:
        where = f"segmenter config {self.id!r}" if self.id else "segmenter config"
        return multilabel_plan(self.label_schema(), self.output_regions, where)

    def label_schema(self) -> LabelSchema:
        return get_schema(self.schema)

    def validate(self) -> None:
        """Refuse an inconsistent configuration, naming the field and the fix."""
        where = f"segmenter config {self.id!r}" if self.id else "segmenter config"
        if self.task not in TASK_SCHEMAS:
            raise InputError(f"{where}: task {self.task!r} is unknown; use one of {', '.join(TASK_SCHEMAS)}")
        if not self.channels or len(set(self.channels)) != len(self.channels):
            raise InputError(f"{where}: channels {self.channels} must be a non-empty list of distinct names "
                             "(e.g. ['flair', 't1c'])")
        schema = self.label_schema()
        allowed = {0, *schema.labels}
        if self.label_values[:1] != [0] or len(set(self.label_values)) != len(self.label_values):
            raise InputError(f"{where}: label_values {self.label_values} must start with 0 (background) and "
                             "hold each label once")
        unknown = [v for v in self.label_values if v not in allowed]
        if unknown:
            raise InputError(f"{where}: label values {unknown} are not in the {schema.name!r} schema "
                             f"(allowed {sorted(allowed)})")
        if self.normalization not in NORMALIZATIONS:
            raise InputError(f"{where}: normalization {self.normalization!r} is unknown; use one of "
                             f"{', '.join(NORMALIZATIONS)}")
        if self.target_spacing_mm is not None and (
                len(self.target_spacing_mm) != 3 or not all(s >= 0 for s in self.target_spacing_mm)
                or not any(s > 0 for s in self.target_spacing_mm)):
            raise InputError(f"{where}: target_spacing_mm {self.target_spacing_mm} must be three positive "
                             "numbers (x, y, z mm; 0 keeps the input's spacing on that axis) or null for the "
                             "input's own spacing")
        if len(self.roi_size) != 3 or any(r < 1 for r in self.roi_size):
            raise InputError(f"{where}: roi_size {self.roi_size} must be three positive voxel counts (x, y, z)")
        multiples = roi_multiples(self.architecture, self.network_kwargs)
        # At least two voxels per axis must reach the bottleneck: instance norm refuses a single voxel. An
        # axis a per-axis-stride UNet never downsamples may be one voxel thick (slice-wise networks).
        per_axis = len(set(multiples)) > 1
        pairs = zip(self.roi_size, multiples, strict=True)
        if any(r % m or (r < 2 * m and not (per_axis and m == 1)) for r, m in pairs):
            shown = multiples[0] if not per_axis else list(multiples)
            raise InputError(f"{where}: roi_size {self.roi_size} must be a multiple of {shown} and at least "
                             f"twice that in every dimension for the {self.architecture} network")
        if not 0.0 <= self.overlap < 1.0:
            raise InputError(f"{where}: overlap {self.overlap} must be in [0, 1)")
        if self.sw_batch_size < 1:
            raise InputError(f"{where}: sw_batch_size {self.sw_batch_size} must be at least 1")
        if self.blend_mode not in BLEND_MODES:
            raise InputError(f"{where}: blend_mode {self.blend_mode!r} is unknown; use {' or '.join(BLEND_MODES)}")
        if self.output not in ACTIVATIONS:
            raise InputError(f"{where}: output {self.output!r} is unknown; use {' or '.join(ACTIVATIONS)}")
        if self.output == "sigmoid":
            produced = self.multilabel_plan().label_values
            if self.label_values != produced:
                raise InputError(f"{where}: sigmoid outputs {self.output_regions} produce the labels {produced}, "
                                 f"not label_values {self.label_values}; set label_values to {produced}")
            if not 0.0 < self.threshold < 1.0:
                raise InputError(f"{where}: threshold {self.threshold} must be between 0 and 1")
        elif self.output_regions:
            raise InputError(f"{where}: output_regions are for sigmoid outputs; set output to \"sigmoid\" or "
                             "remove them")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["roi_size"] = list(self.roi_size)
        data["target_spacing_mm"] = list(self.target_spacing_mm) if self.target_spacing_mm else None
        data["in_channels"] = self.in_channels
        data["out_channels"] = self.out_channels
        return {"format": CONFIG_FORMAT, "format_version": CONFIG_FORMAT_VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict, source: str = "segmenter config") -> NetworkConfig:
        data = dict(data)
        if data.pop("format", CONFIG_FORMAT) != CONFIG_FORMAT:
            raise InputError(f"{source} is not a SynthTrustSlicer segmenter config (format field); write one as "
                             "docs/segmenters.md shows")
        version = data.pop("format_version", CONFIG_FORMAT_VERSION)
        if version > CONFIG_FORMAT_VERSION:
            raise InputError(f"{source} has format_version {version}, newer than this SynthTrustSlicer "
                             f"understands ({CONFIG_FORMAT_VERSION}); update SynthTrustSlicer")
        in_channels, out_channels = data.pop("in_channels", None), data.pop("out_channels", None)
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(data) - known)
        if extra:
            raise InputError(f"{source} has unknown fields {extra}; known fields: {sorted(known)}")
        missing = [name for name in ("architecture", "channels", "task", "label_values") if name not in data]
        if missing:
            raise InputError(f"{source} lacks the required fields {missing}")
        config = cls(**data)
        if in_channels is not None and int(in_channels) != config.in_channels:
            raise InputError(f"{source}: in_channels {in_channels} differs from the {config.in_channels} channel "
                             f"names {config.channels}; name one channel per network input")
        if out_channels is not None and int(out_channels) != config.out_channels:
            raise InputError(f"{source}: out_channels {out_channels} differs from the {config.out_channels} "
                             f"label_values {config.label_values}; give one label value per network output")
        return config

    def save(self, path: str | os.PathLike) -> Path:
        from synthtrust.provenance import write_json

        return write_json(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> NetworkConfig:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"segmenter config {path} does not exist; a checkpoint needs its network config "
                             "beside it as <name>.json")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"segmenter config {path} is not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise InputError(f"segmenter config {path} must hold a JSON object")
        return cls.from_dict(data, f"segmenter config {path}")


# The shipped defaults' working grids: brain at 2 mm isotropic (CPU training in minutes), heart at the
# in-plane detail scar needs and its thick short-axis slices.
TASK_PRESETS = {
    "brain-tumor": {"label_values": [0, 1, 2, 4], "target_spacing_mm": (2.0, 2.0, 2.0), "roi_size": (64, 64, 64)},
    "cardiac-scar": {"label_values": [0, 1, 2, 3, 4], "target_spacing_mm": (1.5, 1.5, 8.0), "roi_size": (96, 96, 16)},
}


def preset_config(task: str, channels: list[str], architecture: str = "unet", model_id: str = "") -> NetworkConfig:
    """The network config the shipped defaults use for ``task``, for any of the three architectures."""
    if task not in TASK_PRESETS:
        raise InputError(f"task {task!r} is unknown; use one of {', '.join(TASK_PRESETS)}")
    if architecture not in ARCHITECTURES:
        raise InputError(f"architecture {architecture!r} is unknown; use one of {', '.join(ARCHITECTURES)}")
    preset = dict(TASK_PRESETS[task])
    kwargs = default_network_kwargs(architecture)
    multiple = roi_multiple(architecture, kwargs)
    preset["roi_size"] = tuple(max(2 * multiple, r - r % multiple) for r in preset["roi_size"])
    channels = [canonical_channel(c) for c in channels]
    model_id = model_id or f"{task}-{'-'.join(channels)}-{architecture}"
    return NetworkConfig(architecture, channels, task, network_kwargs=kwargs, id=model_id, **preset)

