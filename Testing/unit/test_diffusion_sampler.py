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
