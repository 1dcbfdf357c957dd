"""SynthTrustSlicer core: synthetic lesions you can trust, or see why not.

Pure Python (numpy, SimpleITK, torch, MONAI). Only ``synthtrust.scene`` imports ``slicer``.
"""

from __future__ import annotations

__version__ = "0.1.0"
