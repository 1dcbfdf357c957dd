"""What segmenters and generators share: the model manifest, weight files and checkpoints, MONAI bundle
folders, device choice, channel names, and the files a training run leaves (loss curve, manifest entry).

One concept per module. ``manifest``, ``channels`` and ``files`` need only the standard library, so the
Slicer panel can list the models before PyTorch is installed; this package file imports nothing for the
same reason.
"""

from __future__ import annotations
