"""The real/synthetic mixture study (after arXiv 2502.02076): segmenters trained on mixtures with a fraction
alpha of real cases, tested on a real and a synthetic test set, and the trust factors T1-T5 read off per
alpha with bootstrap intervals. Each (alpha, seed) is one resumable task run by a local process pool or Ray."""

from __future__ import annotations

from synthtrust.study.settings import StudySettings, StudyTask

__all__ = ["StudySettings", "StudyTask"]
