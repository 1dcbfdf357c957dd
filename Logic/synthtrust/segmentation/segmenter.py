"""The segmenter interface: image channels in; a label map and class probabilities out, on the input grid."""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from synthtrust.errors import CancelledError, InputError
from synthtrust.imaging.image import Image
from synthtrust.models.channels import canonical_channel
from synthtrust.models.device import choose_device
from synthtrust.segmentation.config import NetworkConfig
from synthtrust.segmentation.outputs import sigmoid_decode, softmax_decode
from synthtrust.segmentation.preprocessing import (
    classes_to_input_grid,
    prepare_channels,
    probabilities_to_input_grid,
)

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class SegmentationResult:
    """A prediction on the input grid: labels in the task schema's values, probabilities per class
    ``(K, z, y, x)`` float32 summing to 1 (class ``k`` = ``provenance['label_values'][k]``)."""

    labels: Image
    probabilities: np.ndarray
    provenance: dict


def count_windows(size_xyz, roi_size, overlap: float) -> int:
    """How many windows sliding-window inference visits (for progress; MONAI pads small volumes)."""
    total = 1
    for size, roi in zip(size_xyz, roi_size, strict=True):
        size = max(size, roi)
        step = roi if size == roi else max(int(roi * (1.0 - overlap)), 1)
        total *= math.ceil((size - roi) / step) + 1
    return total


class Segmenter:
    """A MONAI network with its :class:`NetworkConfig`, ready for sliding-window inference."""

    def __init__(self, network: torch.nn.Module, config: NetworkConfig, device: str = "auto",
                 model_id: str = "", sha256: str = "", source: str = ""):
        self.config = config
        self.device = choose_device(device)
        self.network = network.to(self.device).eval()
        self.model_id = model_id or config.id or "unnamed model"
        self.sha256 = sha256
        self.source = source

    def describe_channels(self) -> str:
        return f"{self.config.in_channels} channel(s) ({', '.join(self.config.channels)}, in that order)"

    def order_channels(self, channels: list[Image], names: list[str] | None = None) -> list[Image]:
        """Check the channel count (and names, when given) and return the channels in the model's order."""
        if len(channels) != self.config.in_channels:
            raise InputError(f"model {self.model_id} needs {self.describe_channels()} but {len(channels)} image(s) "
                             "were given; pass one --image per channel and name them with --channels")
        if names is None:
            return list(channels)
        names = [canonical_channel(n) for n in names]
        if len(names) != len(channels):
            raise InputError(f"{len(channels)} image(s) but {len(names)} channel name(s) {names}; name each image")
        if sorted(names) != sorted(self.config.channels):
            raise InputError(f"model {self.model_id} needs {self.describe_channels()} but the images are "
                             f"{', '.join(names)}; pass those channels or choose a model for yours")
        return [channels[names.index(name)] for name in self.config.channels]

    def predict(self, channels: list[Image], progress: ProgressCallback | None = None,
                should_cancel: Callable[[], bool] | None = None,
                channel_names: list[str] | None = None) -> SegmentationResult:
        """Segment ``channels`` (one image per model channel, on one grid); see :class:`SegmentationResult`."""
        from monai.inferers import sliding_window_inference

        channels = self.order_channels(channels, channel_names)
        started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        started = time.perf_counter()
        volume, working = prepare_channels(channels, self.config)
        total = count_windows(volume.shape[1:], self.config.roi_size, self.config.overlap)
        done = 0

        def predictor(batch: torch.Tensor) -> torch.Tensor:
            nonlocal done
            if should_cancel is not None and should_cancel():
                raise CancelledError("segmentation cancelled; nothing was written")
            output = self.network(batch)
            done = min(done + batch.shape[0], total)
            if progress is not None:
                progress(done, total, f"segmenting: window {done}/{total}")
            return output

        with torch.inference_mode():
            tensor = torch.from_numpy(volume)[None].to(self.device)
            logits = sliding_window_inference(tensor, list(self.config.roi_size), self.config.sw_batch_size,
                                              predictor, overlap=self.config.overlap, mode=self.config.blend_mode)
            if self.config.output == "sigmoid":
                probabilities, classes = sigmoid_decode(logits[0].float(), self.config.multilabel_plan(),
                                                        self.config.threshold)
            else:
                probabilities, classes = softmax_decode(logits[0].float())
            classes, probabilities = classes.cpu().numpy(), probabilities.cpu().numpy()
        source = channels[0].geometry
        # Labels are the model's own decisions carried back by nearest neighbour; probabilities linearly.
        values = np.asarray(self.config.label_values, np.uint8)
        labels = values[classes_to_input_grid(classes, working, source)]
        probabilities = probabilities_to_input_grid(probabilities, working, source)
        provenance = {
            "model_id": self.model_id, "sha256": self.sha256, "source": self.source,
            "architecture": self.config.architecture, "task": self.config.task, "schema": self.config.schema,
            "channels": list(self.config.channels), "label_values": list(self.config.label_values),
            "device": str(self.device), "working_spacing_mm": list(working.spacing),
            "roi_size": list(self.config.roi_size), "overlap": self.config.overlap,
            "sw_batch_size": self.config.sw_batch_size, "blend_mode": self.config.blend_mode,
            "output": self.config.output, **({"output_regions": list(self.config.output_regions),
                                              "threshold": self.config.threshold}
                                             if self.config.output == "sigmoid" else {}),
            "normalization": self.config.normalization, "windows": total, "started": started_at,
            "seconds": round(time.perf_counter() - started, 3),
        }
        return SegmentationResult(channels[0].with_array(labels, name="prediction"), probabilities, provenance)
