"""Segmenters: MONAI networks behind one interface, loaded from local files only, and their training.

Heavy modules (training, datasets) are imported on use, so ``import synthtrust.segmentation`` stays light.
"""

from __future__ import annotations

from synthtrust.segmentation.config import ARCHITECTURES, NetworkConfig, canonical_channel, preset_config
from synthtrust.segmentation.loading import load_bundle, load_checkpoint, load_segmenter
from synthtrust.segmentation.manifest import (
    ModelEntry,
    load_default_segmenter,
    read_manifest,
    resolve_default_model,
    verify_model_file,
)
from synthtrust.segmentation.networks import build_network
from synthtrust.segmentation.segmenter import SegmentationResult, Segmenter, choose_device

__all__ = ["ARCHITECTURES", "ModelEntry", "NetworkConfig", "SegmentationResult", "Segmenter", "build_network",
           "canonical_channel", "choose_device", "load_bundle", "load_checkpoint", "load_default_segmenter",
           "load_segmenter", "preset_config", "read_manifest", "resolve_default_model", "verify_model_file"]
