"""The engines a user can pick (CLI ``--engine``, the panel's engine box) and how each is built.

``template`` is instant and needs no model; ``inpaint`` and ``conditional`` are the learned diffusion
engines and load a generator model (a shipped default chosen by task and channels, or a local file).
"""

from __future__ import annotations

from synthtrust.errors import InputError

ENGINE_DESCRIPTIONS = {
    "template": "Instant: paints the lesion from intensity models estimated on the image (no model, CPU).",
    "inpaint": "Diffusion inpainting: regenerates only the lesion region; every other voxel is kept bit-identical.",
    "conditional": "Mask-conditioned diffusion (Med-DDPM style): generates a region around the lesion from the "
                   "label map and blends it into the image.",
}
ENGINE_NAMES = tuple(ENGINE_DESCRIPTIONS)
LEARNED_ENGINES = ("inpaint", "conditional")


def make_synthesizer(engine: str, **options):
    """A :class:`~synthtrust.synthesis.base.Synthesizer` for ``engine``.

    Options of the learned engines (ignored by ``template``): ``task``, ``channels`` (modality names),
    ``model`` (path to weights, a config or a MONAI bundle folder; default: the shipped model), ``device``,
    ``steps``, ``scheduler``, ``guidance``, ``guidance_steps``, ``quality_threshold``, ``candidates``,
    ``segmenter``.
    """
    if engine not in ENGINE_DESCRIPTIONS:
        raise InputError(f"engine {engine!r} is unknown; use one of {', '.join(ENGINE_NAMES)}")
    threshold, candidates = options.pop("quality_threshold", None), options.pop("candidates", None) or 1
    if engine == "template":
        from synthtrust.synthesis.template import TemplateSynthesizer

        synthesizer = TemplateSynthesizer()
    else:
        from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer

        synthesizer = DiffusionSynthesizer.from_options(engine, **options)
    if threshold is None and candidates <= 1:
        return synthesizer
    from synthtrust.synthesis.quality import QualityFilter

    segmenter = options.get("segmenter") or _default_segmenter(options)
    return QualityFilter(synthesizer, segmenter, 0.6 if threshold is None else threshold, candidates)


def _default_segmenter(options: dict):
    from synthtrust.segmentation.loading import load_default_segmenter

    task, channels = options.get("task"), options.get("channels")
    if not task or not channels:
        raise InputError("the quality filter needs a segmenter: pass one, or the task and channels to pick the "
                         "default")
    return load_default_segmenter(task, channels, options.get("device") or "auto")
