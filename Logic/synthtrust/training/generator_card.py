"""The model card of a generator: what it is, what it was trained on (and under which licences), how,
and what was measured. Measured quality and speed are appended by ``scripts/evaluate_generators.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

QUALITY_MARKER = "## Measured quality and speed"


def card_text(training, log, entry: dict) -> str:
    config = training.config
    last = log.losses[-min(50, len(log.losses)):]
    mode = ("3D region-of-interest patches" if config.spatial_dims == 3 else
            "2D slices (slice-wise generation for thick-slice data)")
    lines = [
        f"# Model card: {config.id}", "",
        f"{training.title or config.id}: a MONAI `DiffusionModelUNet` that generates **{config.task}** lesions in "
        f"the channel(s) **{', '.join(config.channels)}**, serving the engines {', '.join(config.engines)}.", "",
        "## Model", "",
        f"- {mode}; model grid spacing {config.spacing_mm} mm (x, y, z; 0 = the image's own); largest region "
        f"{config.max_region} voxels.",
        f"- Network channels {config.network_channels}, attention {config.attention_levels}, "
        f"{config.num_res_blocks} residual block(s) per level; {log.parameters:,} parameters.",
        f"- Input: noisy image + conditioning (masked image, generation mask, one-hot {config.lesion_values}, "
        "anatomy mask); intensities are foreground z-scores clipped to +-"
        f"{config.intensity_clip:g} and scaled to [-1, 1].",
        f"- Noise schedule: {config.beta_schedule}, {config.num_train_timesteps} training timesteps; sampled with "
        "DDIM (default 25 steps) or DDPM.",
        f"- Weights: `{entry['file']}`, {entry['size_bytes'] / 1e6:.2f} MB, sha256 `{entry['sha256']}`.", "",
        "## Training", "",
        f"- {training.iterations} iterations, batch {training.batch_size}, AdamW lr {training.learning_rate:g}, seed "
        f"{training.seed}, device {training.device}; {log.seconds / 60:.1f} min"
        + (f" (resumed at iteration {log.resumed_from})" if log.resumed_from else "")
        + (f"; fine-tuned from `{Path(training.init_from).name}` (sha256 `{training.init_sha256}`)"
           if training.init_from else "") + ".",
        f"- Patches: {training.lesion_share:.0%} around lesions, the rest healthy-tissue inpainting of random blobs "
        f"(radius {training.healthy_radius_mm[0]:g}-{training.healthy_radius_mm[1]:g} mm); "
        f"{training.conditional_share:.0%} of samples as conditional generation (image hidden).",
        f"- Final loss (mean of the last {len(last)} iterations): {np.mean(last):.4f}; curve: `{config.id}_loss.png`.",
        "", "## Training data", "",
    ]
    for source in training.sources:
        lines.append(f"- {source['source']} ({source['licence']}): {source['cases']} case(s), {source['use']}.")
    lines += ["", "EMIDEC (CC BY-NC-SA) and other non-commercial data are never used for shipped weights.", "",
              "## Limitations", "",
              "- Trained on the CPU within minutes on very few real lesions: textures are smoother and less varied "
              "than real ones. Treat outputs as a research tool; check the fidelity audit of every synthesis.", "",
              QUALITY_MARKER, "", "Not measured yet: run `scripts/evaluate_generators.py --update-cards`.", "",
              "## Reproduce", "", f"```\n{training.command or '(trained from Python, not the CLI)'}\n```", ""]
    return "\n".join(lines)


def with_quality(card: str, quality_lines: list[str]) -> str:
    """Replace the card's measured-quality section with ``quality_lines``."""
    head, _, tail = card.partition(QUALITY_MARKER)
    rest = tail.split("\n## ", 1)
    following = ("\n## " + rest[1]) if len(rest) > 1 else "\n"
    return head + QUALITY_MARKER + "\n\n" + "\n".join(quality_lines) + "\n" + following

