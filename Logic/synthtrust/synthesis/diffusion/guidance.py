"""Segmenter guidance: during the early, structure-forming steps, nudge the predicted noise so that the
denoised estimate is segmented as the intended lesion (LGESynthNet's reward, applied at sampling time as
classifier guidance: eps' = eps + w * sqrt(1 - alpha_bar) * g, with g the gradient of the segmenter's
cross-entropy w.r.t. the denoised estimate, scaled to unit RMS so that w reads the same for any model).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class SegmenterGuidance:
    """A :data:`~synthtrust.synthesis.diffusion.sampler.GuidanceFunction` built from a MONAI segmenter."""

    def __init__(self, network: torch.nn.Module, target_classes: torch.Tensor, region: torch.Tensor, weight: float,
                 clip: float, spatial_dims: int, multiple: int = 8):
        self.network = network.eval()
        self.target = target_classes  # (1, *segmenter spatial) class indices of the intended labels
        self.region = region  # (1, *segmenter spatial) where the loss counts (the generated voxels)
        self.weight = float(weight)
        self.clip = float(clip)  # model units * clip = the z-scores the segmenters were trained on
        self.spatial_dims = spatial_dims
        self.multiple = multiple
        self.losses: list[float] = []

    def to_segmenter_input(self, estimate: torch.Tensor) -> torch.Tensor:
        """Model batch -> (1, C, z, y, x) padded to the segmenter's size multiple."""
        volume = estimate * self.clip
        if self.spatial_dims == 2:  # slices (S, C, y, x) become one volume along z
            volume = volume.permute(1, 0, 2, 3)[None]
        pads = []
        for size in reversed(volume.shape[2:]):
            pads += [0, (-size) % self.multiple]
        return F.pad(volume, pads)

    def __call__(self, noisy: torch.Tensor, noise: torch.Tensor, timestep: int, alpha_bar: float) -> torch.Tensor:
        estimate = ((noisy - math.sqrt(1.0 - alpha_bar) * noise) / math.sqrt(alpha_bar)).detach().requires_grad_(True)
        self.network.to(estimate.device)
        logits = self.network(self.to_segmenter_input(estimate))
        crop = tuple(slice(0, s) for s in self.target.shape[1:])
        logits = logits[(slice(None), slice(None), *crop)]
        loss_map = F.cross_entropy(logits, self.target.to(estimate.device), reduction="none")
        region = self.region.to(estimate.device)
        loss = (loss_map * region).sum() / region.sum().clamp(min=1.0)
        (gradient,) = torch.autograd.grad(loss, estimate)
        self.losses.append(float(loss.detach()))
        gradient = gradient / gradient.pow(2).mean().sqrt().clamp(min=1e-12)
        return noise + self.weight * math.sqrt(1.0 - alpha_bar) * gradient.detach()
