"""Why healthy-tissue filling scores low: trace where the brain generator's fill goes dark.

Prints (figures quoted in docs/performance.md, "Healthy-tissue inpainting"):
1. the network's one-step estimate of the clean image inside training-like healthy holes, per noise level;
2. full 25-step DDIM sampling of a 4.7-voxel (9 mm) hole in white matter of TCGA-FG-6692, four seeds, in
   model units (brain tissue near 0, background -1);
3. the engine's fill of a 6 mm sphere of that white matter, and of the evaluation's first 38 mL mask, in
   FLAIR intensities.

    .venv/bin/python scripts/diagnose_healthy_fill.py [--model OTHER.safetensors]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evaluate_generators as evaluation  # noqa: E402

from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer  # noqa: E402
from synthtrust.synthesis.diffusion.model import load_default_generator, load_generator, make_scheduler  # noqa: E402
from synthtrust.synthesis.diffusion.region import conditioning, one_hot_labels  # noqa: E402
from synthtrust.synthesis.diffusion.sampler import SamplingRequest, sample  # noqa: E402
from synthtrust.training.datasets import data_root  # noqa: E402
from synthtrust.training.generator_data import generator_cases, prepare_case, sample_patch  # noqa: E402

CASE = "TCGA-FG-6692"
WHITE_MATTER_ZYX = (96, 170, 83)  # 1 mm voxel in healthy white matter, far from the real tumour


def condition_of(image, generate, anatomy, labels, config):
    one_hot = torch.from_numpy(np.ascontiguousarray(one_hot_labels(labels, config.lesion_values)))[None].float()
    return conditioning(image * (1 - generate), generate, one_hot, anatomy, False)


def one_step_estimates(generator, prepared) -> None:
    config, network = generator.config, generator.network.eval()
    scheduler, rng = make_scheduler(config, "ddpm"), np.random.default_rng(5)
    for k in range(3):
        patch, labels, anatomy, generate = sample_patch(prepared, config, rng, 0.0, (6.0, 10.0))
        image = torch.from_numpy(np.ascontiguousarray(patch))[None].float()
        mask = torch.from_numpy(np.ascontiguousarray(generate))[None, None].float()
        anatomy_t = torch.from_numpy(np.ascontiguousarray(anatomy))[None, None].float()
        condition, inside = condition_of(image, mask, anatomy_t, labels, config), mask[0, 0] > 0
        estimates = []
        for t in (50, 300, 600, 900):
            noise = torch.randn(image.shape, generator=torch.Generator().manual_seed(t))
            timestep = torch.tensor([t])
            noisy = scheduler.add_noise(image, noise, timestep)
            with torch.no_grad():
                predicted = network(torch.cat([noisy, condition], 1), timesteps=timestep)
            alpha_bar = scheduler.alphas_cumprod[t]
            clean = (noisy - (1 - alpha_bar).sqrt() * predicted) / alpha_bar.sqrt()
            estimates.append(f"t={t}: {clean[0, 0][inside].mean():.2f}")
        print(f"1. hole {k}: truth {image[0, 0][inside].mean():.2f}; one-step estimate " + ", ".join(estimates))


def sampled_hole(generator, prepared) -> None:
    config, network = generator.config, generator.network.eval()
    centre = [c // 2 for c in WHITE_MATTER_ZYX]  # the 2 mm model grid
    box = tuple(slice(c - 16, c + 16) for c in centre)
    image = torch.from_numpy(np.ascontiguousarray(prepared.images[(slice(None), *box)]))[None].float()
    z, y, x = np.indices((32, 32, 32))
    mask = torch.from_numpy(((z - 16) ** 2 + (y - 16) ** 2 + (x - 16) ** 2 <= 4.7 ** 2).astype(np.float32))[None, None]
    anatomy = torch.from_numpy(prepared.anatomy[box].astype(np.float32))[None, None]
    condition = condition_of(image, mask, anatomy, np.zeros((32, 32, 32), np.int16), config)
    inside, means = mask[0, 0] > 0, []
    for seed in range(4):
        request = SamplingRequest(tuple(image.shape), steps=25, seed=seed, condition=condition, known=image,
                                  generate_mask=mask)
        means.append(f"{sample(network, make_scheduler(config, 'ddim'), request)[0, 0][inside].mean():.2f}")
    print(f"2. 9 mm hole in white matter: truth {image[0, 0][inside].mean():.2f}; sampled (seeds 0-3) "
          + ", ".join(means))


def engine_fills(model: Path | None, root: Path) -> None:
    flair, t1c, real = evaluation.brain_case(root, CASE)
    z, y, x = np.indices(flair.array.shape)
    sphere = (sum((a - c) ** 2 for a, c in zip((z, y, x), WHITE_MATTER_ZYX, strict=True)) <= 36) & (flair.array > 0)
    edit, _ = evaluation.tumour_edits(flair, real, 1, seed=100)[0]  # the evaluation's first healthy mask
    engine = DiffusionSynthesizer("inpaint", device="cpu", steps=25, model=model)
    for name, mask in (("6 mm sphere", sphere), (f"{edit.labels.array.astype(bool).sum() / 1000:.0f} mL mask",
                                                  edit.labels.array > 0)):
        voided = [c.with_array(np.where(mask, 0, c.array).astype(c.array.dtype)) for c in (flair, t1c)]
        result = engine.fill_healthy(voided, flair.with_array(mask.astype(np.uint8)), "brain-tumor",
                                     ["flair", "t1c"], seed=0)
        truth, fill = flair.array[mask].astype(float), result.channels[0].array[mask].astype(float)
        print(f"3. {name}: FLAIR truth {truth.mean():.0f}, fill {fill.mean():.0f}; "
              f"{np.mean(fill < 30):.0%} of the fill at background level (< 30)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="another brain generator (default: the shipped one)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = (load_generator(args.model) if args.model
                 else load_default_generator("brain-tumor", ["flair", "t1c"], "inpaint"))
    cases, _ = generator_cases("brain-tumor", ["flair", "t1c"], 0, None)
    prepared = prepare_case(next(c for c in cases if CASE in c.name).build(), generator.config)
    one_step_estimates(generator, prepared)
    sampled_hole(generator, prepared)
    engine_fills(args.model, data_root(None))


if __name__ == "__main__":
    main()
