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

    def validate(self) -> None:
        if self.steps < 1:
            raise InputError(f"steps {self.steps} must be at least 1")
        if (self.known is None) != (self.generate_mask is None):
            raise InputError("inpainting needs both the known image and the generation mask")
        if self.known is not None and tuple(self.known.shape) != tuple(self.shape):
            raise InputError(f"known image shape {tuple(self.known.shape)} differs from the sample shape {self.shape}")
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
    scheduler.set_timesteps(request.steps, device=device)
    image = torch.randn(request.shape, generator=generator, device=device)
    condition = request.condition.to(device) if request.condition is not None else None
    known = request.known.to(device) if request.known is not None else None
    keep = (1.0 - request.generate_mask.to(device).float()) if request.generate_mask is not None else None
    timesteps = [int(t) for t in scheduler.timesteps]
    started = time.perf_counter()
    network.eval()
    with torch.inference_mode():
        for index, timestep in enumerate(timesteps):
            if should_cancel is not None and should_cancel():
                raise CancelledError(f"sampling cancelled at step {index + 1}/{len(timesteps)}; nothing was written")
            model_input = image if condition is None else torch.cat([image, condition], dim=1)
            t = torch.full((request.shape[0],), timestep, device=device, dtype=torch.long)
            image = _step(scheduler, network(model_input, timesteps=t), timestep, image, request.eta, generator)
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
