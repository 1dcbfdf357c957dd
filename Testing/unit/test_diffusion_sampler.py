"""The sampling loop on a tiny MONAI diffusion UNet (CPU): progress, cancel, determinism, inpainting."""

from __future__ import annotations

import pytest
import torch

from synthtrust.errors import CancelledError, InputError
from synthtrust.synthesis.diffusion.sampler import SamplingRequest, sample

SHAPE = (1, 1, 16, 16, 16)


@pytest.fixture(scope="module")
def network():
    from monai.networks.nets import DiffusionModelUNet

    torch.manual_seed(0)
    return DiffusionModelUNet(spatial_dims=3, in_channels=2, out_channels=1, channels=(8, 16, 16),
                              attention_levels=(False, False, True), num_res_blocks=1, num_head_channels=8,
                              norm_num_groups=8)


def ddim():
    from monai.networks.schedulers import DDIMScheduler

    return DDIMScheduler(num_train_timesteps=100)


def condition():
    mask = torch.zeros(SHAPE)
    mask[..., 4:12, 4:12, 4:12] = 1
    return mask


def test_progress_reports_every_step_with_an_eta(network):
    seen = []
    sample(network, ddim(), SamplingRequest(SHAPE, steps=4, condition=condition()), progress=seen.append)
    assert [p.step for p in seen] == [1, 2, 3, 4] and all(p.total == 4 for p in seen)
    assert seen[-1].eta_s == 0.0 and "step 4/4" in seen[-1].message()


def test_the_same_seed_gives_bit_identical_samples_on_the_cpu(network):
    first = sample(network, ddim(), SamplingRequest(SHAPE, steps=3, seed=7, condition=condition()))
    again = sample(network, ddim(), SamplingRequest(SHAPE, steps=3, seed=7, condition=condition()))
    other = sample(network, ddim(), SamplingRequest(SHAPE, steps=3, seed=8, condition=condition()))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_cancelling_mid_run_raises_and_returns_nothing(network):
    calls = []

    def cancel_after_two():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(CancelledError, match="step 3/5"):
        sample(network, ddim(), SamplingRequest(SHAPE, steps=5, condition=condition()),
               should_cancel=cancel_after_two)


def test_inpainting_keeps_the_known_region_exactly(network):
    from monai.networks.schedulers import DDPMScheduler

    known = torch.rand(SHAPE)
    mask = condition()
    for scheduler in (ddim(), DDPMScheduler(num_train_timesteps=100)):
        result = sample(network, scheduler, SamplingRequest(SHAPE, steps=3, condition=mask, known=known,
                                                            generate_mask=mask))
        assert torch.equal(result[mask == 0], known[mask == 0])
        assert not torch.equal(result[mask == 1], known[mask == 1])


def test_inconsistent_requests_are_refused():
    with pytest.raises(InputError, match="both"):
        SamplingRequest(SHAPE, known=torch.zeros(SHAPE)).validate()
    with pytest.raises(InputError, match="at least 1"):
        SamplingRequest(SHAPE, steps=0).validate()


class GaussianOracle(torch.nn.Module):
    """The exact noise prediction when every voxel of the data is N(0, std^2): a sampler that steps
    correctly must give back that spread; one that skips steps wrongly leaves noise in (std too large)."""

    def __init__(self, alphas_cumprod: torch.Tensor, std: float):
        super().__init__()
        self.alphas_cumprod, self.std = alphas_cumprod, std

    def forward(self, noisy: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        alpha_bar = self.alphas_cumprod[int(timesteps[0])]
        return (1 - alpha_bar).sqrt() / (alpha_bar * self.std**2 + 1 - alpha_bar) * noisy


@pytest.mark.parametrize("steps", [1000, 100, 50])
def test_ddpm_with_fewer_steps_than_trained_samples_the_data_spread(steps):
    from monai.networks.schedulers import DDPMScheduler

    scheduler = DDPMScheduler(num_train_timesteps=1000)
    oracle = GaussianOracle(scheduler.alphas_cumprod.clone(), 0.5)
    result = sample(oracle, scheduler, SamplingRequest((1, 1, 32, 32, 32), steps=steps, seed=0))
    assert abs(float(result.std()) - 0.5) < 0.07


@pytest.mark.parametrize("steps", [25, 7])
def test_each_ddim_step_lands_exactly_on_the_next_timestep_of_the_chain(steps):
    """Given the true noise, a deterministic DDIM step from x_t must give x at the chain's next timestep
    (same clean image, same noise). MONAI 1.6's own step lands a few timesteps off for these step counts."""
    from monai.networks.schedulers import DDIMScheduler

    from synthtrust.synthesis.diffusion.sampler import _ddim_step, reverse_chain

    scheduler, chain = reverse_chain(DDIMScheduler(num_train_timesteps=1000, schedule="scaled_linear_beta"), steps,
                                     torch.device("cpu"))
    clean, noise = torch.rand((1, 1, 8, 8, 8)) * 2 - 1, torch.randn((1, 1, 8, 8, 8))
    levels = [t for t, _ in chain] + [None]
    for timestep, following in zip(levels[:-1], levels[1:], strict=True):
        alpha_bar = scheduler.alphas_cumprod[timestep]
        noisy = alpha_bar.sqrt() * clean + (1 - alpha_bar).sqrt() * noise
        stepped = _ddim_step(scheduler, noise, timestep, following, noisy, 0.0, torch.Generator())
        alpha_next = scheduler.alphas_cumprod[following] if following is not None else torch.tensor(1.0)
        expected = alpha_next.sqrt() * clean + (1 - alpha_next).sqrt() * noise
        assert torch.allclose(stepped, expected, atol=1e-5), (timestep, following)


def test_more_steps_than_the_model_was_trained_with_are_refused(network):
    with pytest.raises(InputError, match="100 timesteps"):
        sample(network, ddim(), SamplingRequest(SHAPE, steps=101, condition=condition()))


def test_repaint_resampling_runs_each_step_r_times_and_keeps_the_known_region(network):
    known, mask, calls = torch.rand(SHAPE), condition(), []

    def counting(model_input, timesteps):
        calls.append(int(timesteps[0]))
        return network(model_input, timesteps=timesteps)

    wrapped = torch.nn.Module()
    wrapped.forward = counting
    result = sample(wrapped, ddim(), SamplingRequest(SHAPE, steps=3, condition=mask, known=known, generate_mask=mask,
                                                     resampling=2))
    assert len(calls) == 2 + 2 + 1  # the last step is not resampled
    assert torch.equal(result[mask == 0], known[mask == 0])


def test_micro_batches_give_the_same_slices_as_one_call():
    from monai.networks.nets import DiffusionModelUNet

    torch.manual_seed(0)
    network = DiffusionModelUNet(spatial_dims=2, in_channels=2, out_channels=1, channels=(8, 16),
                                 attention_levels=(False, False), num_res_blocks=1, norm_num_groups=8)
    mask = torch.zeros((4, 1, 16, 16))
    mask[..., 4:12, 4:12] = 1
    whole = sample(network, ddim(), SamplingRequest((4, 1, 16, 16), steps=3, seed=1, condition=mask))
    chunked = sample(network, ddim(), SamplingRequest((4, 1, 16, 16), steps=3, seed=1, condition=mask, max_batch=1))
    assert torch.allclose(whole, chunked, atol=1e-5)


def test_sdedit_starts_part_way_from_the_initial_image_and_runs_fewer_steps(network):
    initial, calls = torch.rand(SHAPE), []

    def counting(model_input, timesteps):
        calls.append(int(timesteps[0]))
        return network(model_input, timesteps=timesteps)

    wrapped = torch.nn.Module()
    wrapped.forward = counting
    partial = sample(wrapped, ddim(), SamplingRequest(SHAPE, steps=10, condition=condition(), initial=initial,
                                                      strength=0.3))
    assert len(calls) == 3 and max(calls) <= 0.3 * 99
    full = sample(network, ddim(), SamplingRequest(SHAPE, steps=10, condition=condition()))
    assert (partial - initial).abs().mean() < (full - initial).abs().mean()
    with pytest.raises(InputError, match="initial image"):
        SamplingRequest(SHAPE, strength=0.5).validate()
