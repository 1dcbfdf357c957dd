"""A small 3D U-Net that corrects the mirror fill: it sees the voided image, the region, the mirror fill
and the smooth fill, and adds a learned residual inside the region only.

Starting from the mirror fill rather than from an empty hole keeps the structure the mirror brings
(training on voided holes alone reaches a grey disc: see issue 13); the residual's gain starts at zero,
so an untrained network returns the mirror fill exactly and training can only move away from it where
the loss says so. Intensities are divided by the voided image's 99.5th percentile, the scale the BraTS
local-synthesis metric normalises by.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from monai.networks.nets import UNet
from scipy import ndimage
from torch import nn
from torch.nn import functional as F

from synthtrust.models.checkpoints import read_state_dict

PATCH = 48  # voxels per side the network sees around the region (2 mm IXI voxels: 96 mm)


@dataclass(frozen=True)
class FillNetworkConfig:
    channels: tuple[int, ...] = (16, 32, 64)
    patch: int = PATCH

    def to_dict(self) -> dict:
        return {**asdict(self), "kind": "healthy-fill-refiner", "inputs": ["voided", "region", "mirror", "smooth"]}


class FillRefiner(nn.Module):
    def __init__(self, config: FillNetworkConfig = FillNetworkConfig()) -> None:
        super().__init__()
        self.config = config
        self.unet = UNet(spatial_dims=3, in_channels=4, out_channels=1, channels=config.channels,
                         strides=(2,) * (len(config.channels) - 1), num_res_units=1)
        self.gain = nn.Parameter(torch.zeros(1))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` (batch, 4, z, y, x): voided, region, mirror fill, smooth fill (scaled). Returns the fill."""
        region, mirror = inputs[:, 1:2], inputs[:, 2:3]
        return mirror + region * self.gain * self.unet(inputs)


def intensity_scale(voided: np.ndarray, region: np.ndarray) -> float:
    outside = voided[~region]
    positive = outside[outside > 0]
    return float(np.percentile(positive, 99.5)) if positive.size else 1.0


def network_inputs(voided: np.ndarray, region: np.ndarray, mirror: np.ndarray, smooth: np.ndarray,
                   scale: float) -> np.ndarray:
    """The four input channels of one patch, as float32 (4, z, y, x)."""
    return np.stack([voided / scale, region.astype(np.float64), mirror / scale, smooth / scale]).astype(np.float32)


def patch_box(centre, shape, patch: int = PATCH) -> tuple[slice, ...]:
    """A ``patch``-voxel cube around ``centre``, moved inside the array (shorter where the array is)."""
    starts = [int(np.clip(c - patch // 2, 0, max(n - patch, 0))) for c, n in zip(centre, shape, strict=True)]
    return tuple(slice(s, min(s + patch, n)) for s, n in zip(starts, shape, strict=True))


def pad_to(array: np.ndarray, patch: int = PATCH) -> np.ndarray:
    return np.pad(array, [(0, patch - n) for n in array.shape], mode="constant")


def load_refiner(path) -> FillRefiner:
    network = FillRefiner()
    network.load_state_dict(read_state_dict(path))
    return network.eval()


def refine(network: FillRefiner, voided: np.ndarray, region: np.ndarray, mirror: np.ndarray,
           smooth: np.ndarray) -> np.ndarray:
    """The refined fill of ``region`` (whole arrays in; the network sees one patch around the region)."""
    box = patch_box(np.array(ndimage.center_of_mass(region)).astype(int), region.shape, network.config.patch)
    scale = intensity_scale(voided, region)
    inputs = network_inputs(voided[box], region[box], mirror[box], smooth[box], scale)
    batch = torch.from_numpy(np.stack([pad_to(c, network.config.patch) for c in inputs]))[None]
    with torch.no_grad():
        output = network(batch)[0, 0].numpy()
    result = mirror.astype(np.float64).copy()
    crop = tuple(slice(0, b.stop - b.start) for b in box)
    result[box] = np.where(region[box], output[crop] * scale, result[box])
    return result


def _gaussian(sigma: float = 1.5, radius: int = 5) -> torch.Tensor:
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def masked_ssim(prediction: torch.Tensor, target: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Mean SSIM inside ``region`` with the metric's windows (Gaussian sigma 1.5 over array axes z and y)."""
    kernel = _gaussian().to(prediction)

    def blur(values: torch.Tensor) -> torch.Tensor:
        values = F.conv3d(F.pad(values, (0, 0, 0, 0, 5, 5), mode="replicate"), kernel.view(1, 1, -1, 1, 1))
        return F.conv3d(F.pad(values, (0, 0, 5, 5, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1, 1))

    c1, c2 = 0.01**2, 0.03**2
    mean_p, mean_t = blur(prediction), blur(target)
    var_p = blur(prediction * prediction) - mean_p**2
    var_t = blur(target * target) - mean_t**2
    covariance = blur(prediction * target) - mean_p * mean_t
    ssim = ((2 * mean_p * mean_t + c1) * (2 * covariance + c2)) / ((mean_p**2 + mean_t**2 + c1) * (var_p + var_t + c2))
    return (ssim * region).sum() / region.sum().clamp(min=1)


def fill_loss(prediction: torch.Tensor, target: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """In-region L1 plus (1 - in-region SSIM), both on the metric's [0, 1] scale (the rest is zeroed, as the
    metric zeroes it, so the windows at the region's edge see what the metric sees)."""
    prediction, target = prediction * region, target.clamp(0, 1) * region
    l1 = ((prediction - target).abs() * region).sum() / region.sum().clamp(min=1)
    return l1 + (1 - masked_ssim(prediction, target, region))
