"""What a study depends on, checked once, and the (alpha, seed) tasks it is made of."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from synthtrust.errors import InputError

TASKS = ("brain-tumor", "cardiac-scar")
EXECUTORS = ("local", "ray")
ENGINES = ("template",)  # the engine --generate runs (instant; diffusion engines are minutes per case on a CPU)


@dataclass(frozen=True)
class StudyTask:
    """One segmenter trained on one mixture: ``alpha`` real, ``seed`` for the draw and the weights."""

    alpha: float
    seed: int

    @property
    def key(self) -> str:
        return f"alpha{self.alpha:.3f}_seed{self.seed}"


@dataclass
class StudySettings:
    task: str
    real: str
    synthetic: str | None = None
    generate: str | None = None
    alphas: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 0.75, 1.0])
    seeds: int = 3
    train_size: int = 40
    iterations: int = 200
    executor: str = "local"
    ray_address: str | None = None
    workers: int = 1
    test_fraction: float = 0.2
    split_seed: int = 0
    image_size: int = 128  # slices are resampled to image_size x image_size for the 2D networks
    crop_fraction: float = 1.0  # the central crop (this fraction of each side) kept before resampling
    batch_size: int = 8
    learning_rate: float = 2e-3
    max_test_cases: int = 0  # 0: every test patient
    n_bootstrap: int = 1000
    channels: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"study task {self.task!r} is unknown; use {' or '.join(TASKS)}")
        if (self.synthetic is None) == (self.generate is None):
            raise InputError("give exactly one of --synthetic DATASET (your synthetic cases) or --generate ENGINE "
                             "(synthetic lesions placed in the real training cases)")
        if self.generate is not None and self.generate not in ENGINES:
            raise InputError(f"--generate {self.generate!r} is not available; use {', '.join(ENGINES)}")
        if self.generate is not None and self.task != "cardiac-scar":
            raise InputError("--generate places lesions in 2D slices for cardiac-scar only so far; for brain-tumor "
                             "pass --synthetic DATASET (docs/trust-study.md)")
        if not self.alphas or any(not 0.0 <= a <= 1.0 for a in self.alphas) or len(set(self.alphas)) != len(
                self.alphas):
            raise InputError(f"alphas {self.alphas} must be distinct fractions within 0-1")
        if self.executor not in EXECUTORS:
            raise InputError(f"executor {self.executor!r} is unknown; use {' or '.join(EXECUTORS)}")
        if self.ray_address and self.executor != "ray":
            raise InputError("--ray-address joins a Ray cluster: add --executor ray")
        if not 0.0 < self.crop_fraction <= 1.0:
            raise InputError(f"crop fraction {self.crop_fraction} must be within (0, 1]")
        if self.image_size % 16:
            raise InputError(f"image size {self.image_size} must be a multiple of 16 (four network levels)")

    def tasks(self) -> list[StudyTask]:
        return [StudyTask(float(a), s) for a in self.alphas for s in range(self.seeds)]

    def training_fingerprint(self) -> dict:
        """What a finished task's result depends on: a resumed study reuses a task only when these match."""
        keys = ("task", "real", "synthetic", "generate", "train_size", "iterations", "test_fraction", "split_seed",
                "image_size", "crop_fraction", "batch_size", "learning_rate", "max_test_cases", "channels")
        return {k: v for k, v in asdict(self).items() if k in keys}

    def data_fingerprint(self) -> dict:
        """What the prepared pools depend on: a resumed study with other training settings keeps them."""
        keys = ("task", "real", "synthetic", "generate", "train_size", "test_fraction", "split_seed", "image_size",
                "crop_fraction", "max_test_cases", "channels")
        return {k: v for k, v in asdict(self).items() if k in keys}

    def to_json(self) -> dict:
        return asdict(self)
