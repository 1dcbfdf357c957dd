"""The reverse-diffusion loop, written around MONAI's schedulers instead of ``DiffusionInferer.sample``,
because an interactive tool needs what that method lacks: a progress callback with an ETA, a cancel
check every step, exact determinism, and inpainting that keeps the known region.

Inpainting follows RePaint's replacement step (without its resampling jumps): after every reverse
step the known region is overwritten by the known image noised to the same timestep, and at the end by
the known image itself, so voxels outside the generation mask come back unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from synthtrust.errors import CancelledError, InputError

ProgressCallback = Callable[["StepProgress"], None]
# Guidance: (noisy image x_t, predicted noise, timestep, cumulative alpha at t) -> corrected noise.
GuidanceFunction = Callable[[torch.Tensor, torch.Tensor, int, float], torch.Tensor]


@dataclass(frozen=True)
class StepProgress:
    step: int  # 1-based
    total: int
    timestep: int
    elapsed_s: float

    @property
    def eta_s(self) -> float:
        return self.elapsed_s / self.step * (self.total - self.step)

    def message(self) -> str:
        return f"step {self.step}/{self.total}, {self.elapsed_s:.1f} s elapsed, about {self.eta_s:.0f} s left"


@dataclass
class SamplingRequest:
    """What to sample: ``shape`` is (batch, channels, *spatial) of the generated image."""

    shape: tuple[int, ...]
    steps: int = 25
    seed: int = 0
    eta: float = 0.0  # DDIM stochasticity (0 = deterministic DDIM)
    condition: torch.Tensor | None = None  # channels concatenated to the noisy image (mask conditioning)
    known: torch.Tensor | None = None  # inpainting: the image whose known region is kept
    generate_mask: torch.Tensor | None = None  # inpainting: 1 where to generate, 0 where to keep `known`
    guidance: GuidanceFunction | None = None
    guidance_steps: tuple[float, float] = (0.0, 0.5)  # share of the steps (from the first) that are guided
    precision: str = "float32"  # or "bfloat16" / "float16": autocast of the network on CUDA only

    def validate(self) -> None:
        if self.steps < 1:
            raise InputError(f"steps {self.steps} must be at least 1")
        if (self.known is None) != (self.generate_mask is None):
            raise InputError("inpainting needs both the known image and the generation mask")
        if self.known is not None and tuple(self.known.shape) != tuple(self.shape):
            raise InputError(f"known image shape {tuple(self.known.shape)} differs from the sample shape {self.shape}")
        low, high = self.guidance_steps
        if not 0.0 <= low <= high <= 1.0:
            raise InputError(f"guidance steps {self.guidance_steps} must satisfy 0 <= start <= end <= 1 (shares of "
                             "the sampling steps)")
        if self.precision not in ("float32", "bfloat16", "float16"):
            raise InputError(f"precision {self.precision!r} is unknown; use float32, bfloat16 or float16")
        if self.condition is not None and tuple(self.condition.shape[2:]) != tuple(self.shape[2:]):
            raise InputError(f"condition spatial shape {tuple(self.condition.shape[2:])} differs from the sample's "
                             f"{tuple(self.shape[2:])}")


def _step(scheduler, output: torch.Tensor, timestep: int, sample: torch.Tensor, eta: float,
          generator: torch.Generator) -> torch.Tensor:
    from monai.networks.schedulers import DDIMScheduler

    if isinstance(scheduler, DDIMScheduler):
        return scheduler.step(output, timestep, sample, eta=eta, generator=generator)[0]
    return scheduler.step(output, timestep, sample, generator=generator)[0]


def sample(network: torch.nn.Module, scheduler, request: SamplingRequest, device: torch.device | str = "cpu",
           progress: ProgressCallback | None = None, should_cancel: Callable[[], bool] | None = None) -> torch.Tensor:
    """Run the reverse process; raises :class:`CancelledError` (nothing returned) when cancelled.

    Same seed, device and settings give the same result; on the CPU bit for bit.
    """
    request.validate()
    device = torch.device(device)
    generator = torch.Generator(device=device).manual_seed(int(request.seed))
    if request.steps > scheduler.num_train_timesteps:
        raise InputError(f"{request.steps} sampling steps exceed the {scheduler.num_train_timesteps} timesteps the "
                         f"generator was trained with; use --steps {scheduler.num_train_timesteps} or fewer")
    scheduler.set_timesteps(request.steps, device=device)
    image = torch.randn(request.shape, generator=generator, device=device)
    condition = request.condition.to(device) if request.condition is not None else None
    known = request.known.to(device) if request.known is not None else None
    keep = (1.0 - request.generate_mask.to(device).float()) if request.generate_mask is not None else None
    timesteps = [int(t) for t in scheduler.timesteps]
    guided = range(int(round(request.guidance_steps[0] * len(timesteps))),
                   int(round(request.guidance_steps[1] * len(timesteps))))
    autocast = device.type == "cuda" and request.precision != "float32"
    started = time.perf_counter()
    network.eval()
    # no_grad rather than inference_mode: guidance differentiates a segmenter inside the loop.
    with torch.no_grad():
        for index, timestep in enumerate(timesteps):
            if should_cancel is not None and should_cancel():
                raise CancelledError(f"sampling cancelled at step {index + 1}/{len(timesteps)}; nothing was written")
            model_input = image if condition is None else torch.cat([image, condition], dim=1)
            t = torch.full((request.shape[0],), timestep, device=device, dtype=torch.long)
            with torch.autocast(device.type, dtype=getattr(torch, request.precision), enabled=autocast):
                noise_estimate = network(model_input, timesteps=t).float()
            if request.guidance is not None and index in guided:
                alpha_bar = float(scheduler.alphas_cumprod[timestep])
                with torch.enable_grad():
                    noise_estimate = request.guidance(image, noise_estimate, timestep, alpha_bar)
            image = _step(scheduler, noise_estimate, timestep, image, request.eta, generator)
            if known is not None:
                following = timesteps[index + 1] if index + 1 < len(timesteps) else None
                if following is None:
                    known_now = known
                else:
                    noise = torch.randn(request.shape, generator=generator, device=device)
                    known_now = scheduler.add_noise(known, noise, torch.full_like(t, following))
                image = keep * known_now + (1.0 - keep) * image
            if progress is not None:
                progress(StepProgress(index + 1, len(timesteps), timestep, time.perf_counter() - started))
    return image
