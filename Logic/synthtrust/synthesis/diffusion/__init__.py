"""Diffusion engines (issue #3, in progress): the sampling loop they share."""
