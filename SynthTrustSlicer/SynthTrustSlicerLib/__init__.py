"""Slicer-aware helpers of the SynthTrustSlicer module: the GUI-free logic (scene in, worker jobs out, results
imported into the scene) and the worker process. Nothing here imports qt or ctk, so scripts and tests use it
without the Slicer application."""

from __future__ import annotations
