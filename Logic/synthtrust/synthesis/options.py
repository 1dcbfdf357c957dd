"""The options of the synthesis engines, typed once: the panel's run settings, the worker's ``job.json`` and
the CLI all build an :class:`EngineOptions`, and the engines read their options from it only
(:func:`synthtrust.synthesis.engines.make_synthesizer`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from synthtrust.errors import InputError
from synthtrust.synthesis.diffusion.config import SCHEDULERS
from synthtrust.typed_json import StrictSettings, at_least, within

PRECISIONS = ("float32", "bfloat16", "float16")  # network precision on CUDA (autocast); the CPU uses float32
# Options of the quality filter, which wraps any engine; the rest go to the learned engine itself.
FILTER_OPTIONS = ("quality_threshold", "candidates")


@dataclass
class EngineOptions(StrictSettings):
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
    guidance_steps: list[float] | None = None  # share of the steps that are guided, as [start, end]
    whole_image: bool | None = None  # conditional engine: generate the whole image, not a region

    def check(self) -> None:
        if self.scheduler is not None and self.scheduler not in SCHEDULERS:
            raise InputError(f"engine option scheduler {self.scheduler!r} is unknown; use one of {', '.join(SCHEDULERS)}")
        if self.precision is not None and self.precision not in PRECISIONS:
            raise InputError(f"engine option precision {self.precision!r} is unknown; use one of "
                             f"{', '.join(PRECISIONS)}")
        if self.guidance_steps is not None and (len(self.guidance_steps) != 2 or not
                                                0.0 <= self.guidance_steps[0] <= self.guidance_steps[1] <= 1.0):
            raise InputError(f"engine option guidance_steps {self.guidance_steps} must be [start, end] with "
                             "0 <= start <= end <= 1")
        at_least("engine option steps", self.steps, 1)
        at_least("engine option guidance", self.guidance, 0.0)
        within("engine option quality_threshold", self.quality_threshold, 0.0, 1.0)
        at_least("engine option candidates", self.candidates, 1)
        at_least("engine option threads", self.threads, 1)
        at_least("engine option resampling", self.resampling, 1)
        within("engine option eta", self.eta, 0.0, 1.0)

    def given(self) -> dict:
        """The options that were set (the engine's defaults stand for the rest)."""
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}

    def engine_arguments(self) -> dict:
        """The set options the learned engine itself takes (the quality filter's are left out)."""
        arguments = {k: v for k, v in self.given().items() if k not in FILTER_OPTIONS}
        if "guidance_steps" in arguments:
            arguments["guidance_steps"] = tuple(arguments["guidance_steps"])
        return arguments
