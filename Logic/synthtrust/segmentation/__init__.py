"""Segmenters: MONAI networks behind one interface, loaded from local files only.

What segmenters share with generators (manifest, checkpoints, bundle folders, device, channel names) is in
:mod:`synthtrust.models`; their training data and training are in :mod:`synthtrust.training`, above this
package and :mod:`synthtrust.synthesis`. ``import synthtrust.segmentation`` stays light.
"""

from __future__ import annotations

from synthtrust.segmentation.config import ARCHITECTURES, NetworkConfig, preset_config
from synthtrust.segmentation.loading import (
           load_bundle,
           load_checkpoint,
           load_default_segmenter,
           load_segmenter,
)
from synthtrust.segmentation.networks import build_network
from synthtrust.segmentation.segmenter import SegmentationResult, Segmenter

__all__ = ["ARCHITECTURES", "NetworkConfig", "SegmentationResult", "Segmenter", "build_network", "load_bundle",
           "load_checkpoint", "load_default_segmenter", "load_segmenter", "preset_config"]
