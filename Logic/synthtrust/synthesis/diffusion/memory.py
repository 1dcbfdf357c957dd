"""Before sampling: how much memory a region needs, and which device can hold it.

The estimate counts the activations the denoising UNet keeps alive at once (a few feature maps per
level, each channels x voxels x 4 bytes) plus the sampler's own tensors. It was checked against peak
RSS on the CPU (docs/performance.md); it errs on the high side so that CUDA rarely runs out.
"""

from __future__ import annotations

import math

import torch

from synthtrust.errors import InputError
from synthtrust.imaging.io import available_memory_bytes

FEATURE_MAPS_PER_LEVEL = 6  # input, two convolutions, normalisation, skip connection, upsampled copy
SAMPLER_TENSORS = 8  # noisy image, known image, noise, condition channels, guidance copies


def estimate_sampling_bytes(config, shape: tuple[int, ...]) -> int:
    """Peak bytes to sample a batch of ``shape`` = (batch, channels, *spatial) with ``config``'s network."""
    batch, channels = shape[0], shape[1]
    voxels = batch * math.prod(shape[2:])
    total = 0
    for level, width in enumerate(config.network_channels):
        total += FEATURE_MAPS_PER_LEVEL * width * voxels / (2 ** config.spatial_dims) ** level
    total += SAMPLER_TENSORS * (channels + config.condition_channels) * voxels
    return int(4 * total + 64 * 2**20)


def pick_device(requested: str, needed_bytes: int, notes: list[str]) -> torch.device:
    """The device to sample on; a GPU without room for the region hands over to the CPU, with a note."""
    from synthtrust.models.device import choose_device

    device = choose_device(requested)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if needed_bytes > free:
            notes.append(f"the region needs about {needed_bytes / 2**30:.1f} GiB but the GPU has "
                         f"{free / 2**30:.1f} GiB free; generated on the CPU")
            device = torch.device("cpu")
    if device.type == "cpu" and needed_bytes > available_memory_bytes():
        raise InputError(f"the region needs about {needed_bytes / 2**30:.1f} GiB of memory but only "
                         f"{available_memory_bytes() / 2**30:.1f} GiB is available; generate a smaller region "
                         "(a smaller lesion, or lesion by lesion) or free memory")
    return device


def after_out_of_memory(device: torch.device, request, needed_bytes: int, notes: list[str]) -> torch.device | None:
    """What to try after an out-of-memory error: fewer slices per network call (2D models; the result is
    the same), then the CPU; ``None`` when nothing is left to try. Each step is recorded in ``notes``."""
    batch = request.max_batch or request.shape[0]
    if batch > 1:
        request.max_batch = batch // 2
        notes.append(f"{device.type} ran out of memory with {batch} slices per network call; retried with "
                     f"{request.max_batch}")
        return device
    if device.type != "cpu":
        notes.append(f"CUDA ran out of memory for a {tuple(request.shape)} region; generated on the CPU")
        return pick_device("cpu", needed_bytes, notes)
    return None
