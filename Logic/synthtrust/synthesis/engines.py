"""The engines a user can pick (CLI ``--engine``, the panel's engine box) and how each is built.

``template`` is instant and needs no model; ``inpaint`` and ``conditional`` are the learned diffusion
engines and load a generator model (a shipped default chosen by task and channels, or a local file).
"""

from __future__ import annotations

from synthtrust.errors import InputError
from synthtrust.synthesis.options import EngineOptions

ENGINE_DESCRIPTIONS = {
    "template": "Instant: paints the lesion from intensity models estimated on the image (no model, CPU).",
    "inpaint": "Diffusion inpainting: regenerates only the lesion region; every other voxel is kept bit-identical.",
    "conditional": "Mask-conditioned diffusion (Med-DDPM style): generates a region around the lesion from the "
                   "label map and blends it into the image.",
}
ENGINE_NAMES = tuple(ENGINE_DESCRIPTIONS)
LEARNED_ENGINES = ("inpaint", "conditional")


def make_synthesizer(engine: str, options: EngineOptions | dict | None = None, *, task: str | None = None,
                     channels: list[str] | None = None, device: str = "auto", segmenter=None):
    """A :class:`~synthtrust.synthesis.base.Synthesizer` for ``engine``, wrapped in the quality filter when
    ``options`` ask for one.

    ``options`` are the one typed definition of what an engine takes (a dict is read as one, strictly: an
    unknown key is refused naming the valid ones); the template engine uses only the filter's. ``task`` and
    ``channels`` (modality names) pick the default segmenter of the filter when no ``segmenter`` is given;
    ``device`` is where the learned engine (and that segmenter) run.
    """
    if engine not in ENGINE_DESCRIPTIONS:
        raise InputError(f"engine {engine!r} is unknown; use one of {', '.join(ENGINE_NAMES)}")
    if isinstance(options, dict):
        options = EngineOptions.from_json(options, "engine options")
    options = options or EngineOptions()
    options.check()
    if engine == "template":
        from synthtrust.synthesis.template import TemplateSynthesizer

        synthesizer = TemplateSynthesizer()
    else:
        from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer

        synthesizer = DiffusionSynthesizer.from_options(engine, options, device=device, segmenter=segmenter)
    threshold, candidates = options.quality_threshold, options.candidates or 1
    if threshold is None and candidates <= 1:
        return synthesizer
    from synthtrust.synthesis.quality import QualityFilter

    segmenter = segmenter or _default_segmenter(task, channels, device)
    return QualityFilter(synthesizer, segmenter, 0.6 if threshold is None else threshold, candidates)


def _default_segmenter(task: str | None, channels: list[str] | None, device: str):
    from synthtrust.segmentation.loading import load_default_segmenter

    if not task or not channels:
        raise InputError("the quality filter needs a segmenter: pass one, or the task and channels to pick the "
                         "default")
    return load_default_segmenter(task, channels, device or "auto")
