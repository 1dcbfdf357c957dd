"""What a generator model is: the JSON written beside its weights and read back before loading.

One generator serves both learned engines of its task. Its network sees the noisy image plus these
conditioning channels, in this order::

    masked image (one per image channel) | generation mask (1) | lesion labels one-hot | anatomy mask (1)

Inpainting gives the image with the region to generate zeroed and the mask of that region; conditional
generation (Med-DDPM style) zeroes the image channels and sets the mask to 1 everywhere, so the label
map and the anatomy alone shape the output. Training mixes both, so one set of weights does both.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.labels.schema import TASK_SCHEMAS, get_schema

CONFIG_FORMAT = "synthtrust-generator-config"
SCHEDULERS = ("ddim", "ddpm")


@dataclass
class GeneratorConfig:
    task: str  # brain-tumor | cardiac-scar
    channels: list[str]  # modalities, in network order
    spatial_dims: int = 3  # 3: region-of-interest patches; 2: slice-wise (thick-slice data such as LGE)
    spacing_mm: list[float] = field(default_factory=lambda: [2.0, 2.0, 2.0])  # x, y, z of the model grid
    patch_size: list[int] = field(default_factory=lambda: [32, 32, 32])  # training patch (x, y[, z])
    max_region: list[int] = field(default_factory=lambda: [96, 96, 96])  # largest region it may generate
    context_mm: float = 12.0  # healthy context kept around the lesion inside the generated region
    network_channels: list[int] = field(default_factory=lambda: [8, 16, 32])
    attention_levels: list[bool] = field(default_factory=lambda: [False, False, False])
    num_res_blocks: int = 1
    num_head_channels: int = 16
    norm_num_groups: int = 8
    num_train_timesteps: int = 1000
    beta_schedule: str = "scaled_linear_beta"
    intensity_clip: float = 4.0  # z-scores are clipped to +-clip and divided by it, giving [-1, 1]
    id: str = ""
    engines: list[str] = field(default_factory=lambda: ["inpaint", "conditional"])

    @property
    def schema(self):
        return get_schema(TASK_SCHEMAS[self.task])

    @property
    def lesion_values(self) -> list[int]:
        return list(self.schema.lesion_labels)

    @property
    def condition_channels(self) -> int:
        return len(self.channels) + 1 + len(self.lesion_values) + 1

    @property
    def downsampling(self) -> int:
        """Every generated extent must be a multiple of this (one halving per level but the last)."""
        return 2 ** (len(self.network_channels) - 1)

    def validate(self) -> None:
        if self.task not in TASK_SCHEMAS:
            raise InputError(f"generator task {self.task!r} is unknown; use {', '.join(TASK_SCHEMAS)}")
        if self.spatial_dims not in (2, 3):
            raise InputError(f"generator spatial_dims {self.spatial_dims} must be 2 or 3")
        if not self.channels:
            raise InputError("a generator needs at least one image channel")
        for name in ("patch_size", "max_region"):
            values = getattr(self, name)
            if len(values) != self.spatial_dims or any(v % self.downsampling for v in values):
                raise InputError(f"generator {name} {values} needs {self.spatial_dims} values, each a multiple of "
                                 f"{self.downsampling}")
        if len(self.attention_levels) != len(self.network_channels):
            raise InputError("attention_levels needs one flag per entry of network_channels")
        # The network's group normalisation splits every level's channels into norm_num_groups groups.
        if not self.network_channels or any(c < 1 or c % self.norm_num_groups for c in self.network_channels):
            raise InputError(f"generator network channels {self.network_channels} must each be a positive multiple "
                             f"of {self.norm_num_groups} (its normalisation groups), e.g. 8,16,32")
        unknown = [e for e in self.engines if e not in ("inpaint", "conditional")]
        if unknown:
            raise InputError(f"generator engines {unknown} are unknown; use inpaint and/or conditional")

    def to_dict(self) -> dict:
        return {"format": CONFIG_FORMAT, "format_version": 1, **asdict(self)}

    def save(self, path: str | os.PathLike) -> Path:
        from synthtrust.imaging.io import atomic_path

        path = Path(path)
        with atomic_path(path) as temporary:
            Path(temporary).write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict, source: str = "generator config") -> GeneratorConfig:
        if data.get("format") != CONFIG_FORMAT:
            raise InputError(f"{source} is not a generator config (format {data.get('format')!r}, expected "
                             f"{CONFIG_FORMAT!r}); pass the JSON written by 'synthtrust train-generator'")
        known = set(cls.__dataclass_fields__)
        try:
            config = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as error:
            raise InputError(f"{source} lacks a field ({error}); restore it") from None
        config.validate()
        return config

    @classmethod
    def load(cls, path: str | os.PathLike) -> GeneratorConfig:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read generator config {path} ({error}); restore it") from None
        return cls.from_dict(data, f"generator config {path}")


def preset(task: str, channels: list[str], tiny: bool = False) -> GeneratorConfig:
    """The shipped configurations: brain 3D at 2 mm, cardiac 2D slice-wise at 1.5 mm in-plane.

    ``tiny`` shrinks the network and patches so tests train in seconds.
    """
    if task == "cardiac-scar":
        config = GeneratorConfig(task, channels, spatial_dims=2, spacing_mm=[1.5, 1.5, 0.0], patch_size=[64, 64],
                                 max_region=[128, 128], context_mm=15.0, network_channels=[16, 32, 64],
                                 attention_levels=[False, False, False])
    else:
        config = GeneratorConfig(task, channels)
    if tiny:
        config.network_channels = [8, 16]
        config.attention_levels = [False, False]
        config.norm_num_groups = 8
        config.patch_size = [16] * config.spatial_dims
        config.num_train_timesteps = 100
    config.validate()
    return config
