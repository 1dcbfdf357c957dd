"""Training data for generators: whole cases moved once onto the model grid, then random patches.

A patch is either a *lesion* patch (centred near the real lesion; the region to generate is the lesion)
or a *healthy* patch (a random blob inside the anatomy is hidden and must be filled with healthy tissue,
the BraTS local-synthesis task). Shipped generators learn lesion appearance only from real lesions where
the licence allows (brain: the two TCGA-LGG cases) and from project-generated scars (cardiac).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from synthtrust.errors import InputError
from synthtrust.synthesis.diffusion.config import GeneratorConfig
from synthtrust.synthesis.diffusion.region import IntensityScale, anatomy_mask
from synthtrust.training import datasets
from synthtrust.training.datasets import Case, CaseSpec, data_root, toy_case


@dataclass
class PreparedCase:
    name: str
    images: np.ndarray  # (C, z, y, x) model units on the model grid
    labels: np.ndarray  # (z, y, x) label values on the model grid
    anatomy: np.ndarray  # (z, y, x) bool


def model_grid_shape(shape_zyx, spacing_zyx, config: GeneratorConfig) -> tuple[int, int, int]:
    target = config.spacing_mm[::-1]
    return tuple(n if (config.spatial_dims == 2 and axis == 0) else max(1, round(n * s / t))
                 for axis, (n, s, t) in enumerate(zip(shape_zyx, spacing_zyx, target, strict=True)))


def prepare_case(case: Case, config: GeneratorConfig) -> PreparedCase:
    names = [image.name for image in case.channels]
    shape = model_grid_shape(case.labels.array.shape, case.labels.spacing_zyx, config)
    scaled = []
    for image in case.channels:
        scale = IntensityScale.of(image.array, config.intensity_clip)
        volume = torch.from_numpy(image.array.astype(np.float32))[None, None]
        scaled.append(scale.to_model(F.interpolate(volume, size=shape, mode="trilinear", align_corners=False))[0, 0])
    labels = torch.from_numpy(case.labels.array.astype(np.int64))[None, None].float()
    labels = F.interpolate(labels, size=shape, mode="nearest")[0, 0].numpy().astype(np.int16)
    anatomy = anatomy_mask(case.channels, case.labels, config.schema, None).astype(np.float32)
    anatomy = F.interpolate(torch.from_numpy(anatomy)[None, None], size=shape, mode="trilinear",
                            align_corners=False)[0, 0].numpy() > 0.5
    if not anatomy.any():
        raise InputError(f"training case {case.name} ({names}) has no anatomy voxels; check its images")
    return PreparedCase(case.name, torch.stack(scaled).numpy(), labels, anatomy)


def _blob(shape: tuple[int, ...], center, radius: float, rng: np.random.Generator) -> np.ndarray:
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    scales = rng.uniform(0.7, 1.3, len(shape))
    distance = np.sqrt(sum(((g - c) / s) ** 2 for g, c, s in zip(grids, center, scales, strict=True)))
    rough = ndimage.gaussian_filter(rng.standard_normal(shape), 2.0)
    return distance <= radius * (1.0 + 0.6 * rough / max(float(np.abs(rough).max()), 1e-6))


def sample_patch(case: PreparedCase, config: GeneratorConfig, rng: np.random.Generator,
                 lesion_share: float = 0.5, healthy_radius_mm: tuple[float, float] = (4.0, 12.0)
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(images, labels, anatomy, generate mask) of one patch; 2D configs give one slice (1, y, x)."""
    size = list(config.patch_size[::-1]) if config.spatial_dims == 3 else [1, *config.patch_size[::-1]]
    lesion = np.isin(case.labels, config.lesion_values)
    use_lesion = lesion.any() and rng.random() < lesion_share
    pool = np.argwhere(lesion if use_lesion else case.anatomy)
    center = pool[rng.integers(len(pool))].copy()
    if use_lesion and config.spatial_dims == 3:  # the lesion need not sit in the middle of the patch
        center += rng.integers(-size[0] // 4, size[0] // 4 + 1, 3)
    start = [int(np.clip(c - s // 2, 0, max(n - s, 0))) for c, s, n in zip(center, size, case.labels.shape,
                                                                            strict=True)]
    box = tuple(slice(b, b + s) for b, s in zip(start, size, strict=True))

    def cut(array: np.ndarray, fill) -> np.ndarray:
        out = np.full(array.shape[:-3] + tuple(size), fill, dtype=array.dtype)
        piece = array[(..., *box)]
        out[(..., *tuple(slice(0, n) for n in piece.shape[-3:]))] = piece
        return out

    images, labels, anatomy = cut(case.images, -1.0), cut(case.labels, 0), cut(case.anatomy, False)
    if use_lesion:
        generate = np.isin(labels, config.lesion_values)
    else:
        spacing = config.spacing_mm[0]
        local = np.argwhere(anatomy)
        centre = local[rng.integers(len(local))] if len(local) else np.array(size) // 2
        shape = tuple(size) if config.spatial_dims == 3 else tuple(size[1:])
        radius = rng.uniform(*healthy_radius_mm) / spacing
        blob = _blob(shape, centre if config.spatial_dims == 3 else centre[1:], radius, rng)
        generate = (blob if config.spatial_dims == 3 else blob[None]) & anatomy
    generate = ndimage.binary_dilation(generate, iterations=1) if generate.any() else generate
    if rng.random() < 0.5:  # left-right flip: lesions occur on both sides
        images, labels, anatomy, generate = (np.flip(a, -1) for a in (images, labels, anatomy, generate))
    return images, labels, anatomy, generate


def generator_cases(task: str, channels: list[str], seed: int = 0, root: str | os.PathLike | None = None,
                    cardiac_cases: int = 12) -> tuple[list[CaseSpec], list[dict]]:
    """Training cases of a shipped generator and the sources (name, licence) they come from."""
    root = data_root(root)
    if task == "brain-tumor":
        cases = [CaseSpec(f"{c} (real)", datasets.TCGA.name, lambda c=c: datasets.tcga_real_case(root, c, channels))
                 for c in datasets.TCGA_CASES]
        return cases, [{"source": datasets.TCGA.name, "licence": datasets.TCGA.licence,
                        "cases": len(cases), "use": "real tumours (fusion labels) and healthy tissue"}]
    if task == "cardiac-scar":
        dataset = datasets.cardiac_scar_dataset(seed, phantom_cases=cardiac_cases // 2, sunnybrook_variants=2,
                                                validation_cases=0, root=root)
        counts = dataset.source_counts()
        return dataset.training, [{"source": s.name, "licence": s.licence,
                                   "cases": counts.get(s.name, {}).get("training", 0),
                                   "use": "LGE-like images with project-placed, template-synthesized scars"}
                                  for s in dataset.sources]
    raise InputError(f"task {task!r} has no generator training data; use brain-tumor or cardiac-scar")


def toy_cases(task: str, channels: list[str], count: int = 2, shape=(24, 32, 32)) -> list[CaseSpec]:
    return [CaseSpec(f"toy {k}", "toy", lambda k=k: toy_case(task, channels, k, shape)) for k in range(count)]
