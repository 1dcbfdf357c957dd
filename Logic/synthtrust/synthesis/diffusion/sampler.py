"""The reverse-diffusion loop, written around MONAI's schedulers instead of ``DiffusionInferer.sample``,
because an interactive tool needs what that method lacks: a progress callback with an ETA, a cancel
check every step, exact determinism, and inpainting that keeps the known region.

Inpainting follows RePaint: after every reverse step the known region is overwritten by the known image
noised to the same timestep, and at the end by the known image itself, so voxels outside the generation
mask come back unchanged. With ``resampling`` r > 1, every step but the last is redone r times after
re-noising the result back to the step's level (RePaint's resampling with jump length 1), which lets the
generated region agree better with its surroundings at r times the cost.

DDPM with fewer steps than the model was trained with is run as a *respaced* chain (Nichol & Dhariwal
2021): MONAI's ``DDPMScheduler.step`` always goes from t to t-1, so over a strided chain of timesteps
it is given the betas that make its posterior step exactly from one chosen timestep to the next.
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
    resampling: int = 1  # RePaint's r: passes per step (inpainting only; 1 = plain replacement)
    max_batch: int | None = None  # largest batch one network call sees (2D slices); None = all at once
    initial: torch.Tensor | None = None  # start from this image noised to ``strength`` (SDEdit) instead of noise
    strength: float = 1.0  # share of the noise schedule to run from ``initial`` (1 = from pure noise)

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
        if self.resampling < 1:
            raise InputError(f"resampling {self.resampling} must be at least 1 (1 = no resampling)")
        if self.max_batch is not None and self.max_batch < 1:
            raise InputError(f"max_batch {self.max_batch} must be at least 1")
        if not 0.0 < self.strength <= 1.0:
            raise InputError(f"strength {self.strength} must be in (0, 1] (1 = start from pure noise)")
        if self.strength < 1.0 and self.initial is None:
            raise InputError("a strength below 1 needs an initial image to start from")
        if self.initial is not None and tuple(self.initial.shape) != tuple(self.shape):
            raise InputError(f"initial image shape {tuple(self.initial.shape)} differs from the sample shape "
                             f"{self.shape}")
        if self.precision not in ("float32", "bfloat16", "float16"):
            raise InputError(f"precision {self.precision!r} is unknown; use float32, bfloat16 or float16")
        if self.condition is not None and tuple(self.condition.shape[2:]) != tuple(self.shape[2:]):
            raise InputError(f"condition spatial shape {tuple(self.condition.shape[2:])} differs from the sample's "
                             f"{tuple(self.shape[2:])}")


def _step(scheduler, output: torch.Tensor, timestep: int, following: int | None, sample: torch.Tensor, eta: float,
          generator: torch.Generator) -> torch.Tensor:
    """One reverse step from ``timestep`` to ``following`` (None: to the clean image)."""
    from monai.networks.schedulers import DDIMScheduler

    if isinstance(scheduler, DDIMScheduler):
        return _ddim_step(scheduler, output, timestep, following, sample, eta, generator)
    return scheduler.step(output, timestep, sample, generator=generator)[0]


def _ddim_step(scheduler, noise: torch.Tensor, timestep: int, following: int | None, sample: torch.Tensor,
               eta: float, generator: torch.Generator) -> torch.Tensor:
    """DDIM (Song et al. 2021, eq. 12) to exactly the chain's next timestep.

    MONAI 1.6's ``DDIMScheduler`` spaces its timesteps with ``linspace`` (999, 957, ...) but its ``step`` goes
    to ``t - T // n`` (999 -> 959): the image would land a few timesteps off the level the next network call
    and the RePaint replacement assume. The update itself is the same formula.
    """
    alpha_bar = scheduler.alphas_cumprod[timestep].to(sample.device)
    alpha_bar_next = (scheduler.alphas_cumprod[following].to(sample.device) if following is not None
                      else torch.ones((), dtype=alpha_bar.dtype, device=sample.device))
    clean = (sample - (1.0 - alpha_bar) ** 0.5 * noise) / alpha_bar ** 0.5
    sigma = eta * (((1.0 - alpha_bar_next) / (1.0 - alpha_bar)) * (1.0 - alpha_bar / alpha_bar_next)) ** 0.5
    image = alpha_bar_next ** 0.5 * clean + (1.0 - alpha_bar_next - sigma ** 2).clamp(min=0.0) ** 0.5 * noise
    if eta > 0:
        image = image + sigma * torch.randn(sample.shape, generator=generator, device=sample.device)
    return image.to(sample.dtype)


def reverse_chain(scheduler, steps: int, device: torch.device):
    """The scheduler to step with and the chain of (scheduler timestep, network timestep), noisiest first."""
    from monai.networks.schedulers import DDPMScheduler

    if steps > scheduler.num_train_timesteps:
        raise InputError(f"{steps} sampling steps exceed the {scheduler.num_train_timesteps} timesteps the "
                         f"generator was trained with; use --steps {scheduler.num_train_timesteps} or fewer")
    scheduler.set_timesteps(steps, device=device)
    network_timesteps = [int(t) for t in scheduler.timesteps]
    if not isinstance(scheduler, DDPMScheduler) or steps == scheduler.num_train_timesteps:
        return scheduler, [(t, t) for t in network_timesteps]
    chosen = network_timesteps[::-1]  # ascending
    cumulative = scheduler.alphas_cumprod[chosen].clone()
    previous = torch.cat([torch.ones(1, dtype=cumulative.dtype), cumulative[:-1]])
    respaced = DDPMScheduler(num_train_timesteps=steps, variance_type=scheduler.variance_type,
                             clip_sample=scheduler.clip_sample, prediction_type=scheduler.prediction_type)
    respaced.betas = 1.0 - cumulative / previous
    respaced.alphas = 1.0 - respaced.betas
    respaced.alphas_cumprod = cumulative
    respaced.clip_sample_values = scheduler.clip_sample_values
    respaced.set_timesteps(steps, device=device)
    respaced.model_timesteps = scheduler.num_train_timesteps
    return respaced, [(int(s), chosen[int(s)]) for s in respaced.timesteps]


def scheduler_train_timesteps(scheduler) -> int:
    """Training timesteps of the model behind ``scheduler`` (a respaced DDPM keeps them in its chain)."""
    return int(getattr(scheduler, "model_timesteps", scheduler.num_train_timesteps))


def _renoise(scheduler, image: torch.Tensor, from_timestep: int, to_timestep: int,
             generator: torch.Generator) -> torch.Tensor:
    """q(x_to | x_from) for to > from: the forward process between two steps of the chain."""
    ratio = float(scheduler.alphas_cumprod[to_timestep] / scheduler.alphas_cumprod[from_timestep])
    noise = torch.randn(image.shape, generator=generator, device=image.device)
    return ratio ** 0.5 * image + (1.0 - ratio) ** 0.5 * noise


def _predict_noise(network, model_input: torch.Tensor, timestep: int, max_batch: int | None,
                   autocast: bool, precision: str) -> torch.Tensor:
    """The network's noise estimate, in micro-batches of ``max_batch`` (the 2D out-of-memory fallback)."""
    size = model_input.shape[0]
    step = max_batch or size
    pieces = []
    for first in range(0, size, step):
        chunk = model_input[first:first + step]
        t = torch.full((chunk.shape[0],), timestep, device=chunk.device, dtype=torch.long)
        with torch.autocast(chunk.device.type, dtype=getattr(torch, precision), enabled=autocast):
            pieces.append(network(chunk, timesteps=t).float())
    return pieces[0] if len(pieces) == 1 else torch.cat(pieces)


def sample(network: torch.nn.Module, scheduler, request: SamplingRequest, device: torch.device | str = "cpu",
           progress: ProgressCallback | None = None, should_cancel: Callable[[], bool] | None = None) -> torch.Tensor:
    """Run the reverse process; raises :class:`CancelledError` (nothing returned) when cancelled.

    Same seed, device and settings give the same result; on the CPU bit for bit.
    """
    request.validate()
    device = torch.device(device)
    generator = torch.Generator(device=device).manual_seed(int(request.seed))
    scheduler, chain = reverse_chain(scheduler, request.steps, device)
    image = torch.randn(request.shape, generator=generator, device=device)
    if request.initial is not None:
        # SDEdit (Meng et al. 2022): start part-way down the schedule from a noised copy of a first guess.
        limit = request.strength * (scheduler_train_timesteps(scheduler) - 1)
        chain = [link for link in chain if link[1] <= limit] or chain[-1:]
        start = torch.full((request.shape[0],), chain[0][0], device=device, dtype=torch.long)
        image = scheduler.add_noise(request.initial.to(device), image, start)
    condition = request.condition.to(device) if request.condition is not None else None
    known = request.known.to(device) if request.known is not None else None
    keep = (1.0 - request.generate_mask.to(device).float()) if request.generate_mask is not None else None
    guided = range(int(round(request.guidance_steps[0] * len(chain))),
                   int(round(request.guidance_steps[1] * len(chain))))
    autocast = device.type == "cuda" and request.precision != "float32"
    started = time.perf_counter()
    network.eval()
    # no_grad rather than inference_mode: guidance differentiates a segmenter inside the loop.
    with torch.no_grad():
        for index, (timestep, network_timestep) in enumerate(chain):
            following = chain[index + 1][0] if index + 1 < len(chain) else None
            passes = request.resampling if (known is not None and following is not None) else 1
            for repeat in range(passes):
                if should_cancel is not None and should_cancel():
                    raise CancelledError(f"sampling cancelled at step {index + 1}/{len(chain)}; nothing was "
                                         "written")
                if repeat:
                    image = _renoise(scheduler, image, following, timestep, generator)
                model_input = image if condition is None else torch.cat([image, condition], dim=1)
                noise_estimate = _predict_noise(network, model_input, network_timestep, request.max_batch,
                                                autocast, request.precision)
                if request.guidance is not None and index in guided:
                    alpha_bar = float(scheduler.alphas_cumprod[timestep])
                    with torch.enable_grad():
                        noise_estimate = request.guidance(image, noise_estimate, network_timestep, alpha_bar)
                image = _step(scheduler, noise_estimate, timestep, following, image, request.eta, generator)
                if known is not None:
                    if following is None:
                        known_now = known
                    else:
                        noise = torch.randn(request.shape, generator=generator, device=device)
                        known_now = scheduler.add_noise(known, noise, torch.full((request.shape[0],), following,
                                                                                 device=device, dtype=torch.long))
                    image = keep * known_now + (1.0 - keep) * image
            if progress is not None:
                progress(StepProgress(index + 1, len(chain), network_timestep, time.perf_counter() - started))
    return image
