"""The two learned engines behind the :class:`~synthtrust.synthesis.base.Synthesizer` interface.

*inpaint* regenerates the lesion region only (the generator sees the image around it; RePaint-style
replacement keeps everything else, and only lesion voxels are written back, so every other voxel is
bit-identical). *conditional* generates the whole region around the lesion from the label map and the
anatomy mask alone (Med-DDPM style) and blends it in over ``blend_mm`` beyond the lesion; with
``whole_image`` it generates the whole image (when it fits the generator's limit).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

import synthtrust
from synthtrust.editing.edit import mask_checksum
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image, cast_like, require_same_grid
from synthtrust.labels.schema import LabelSchema
from synthtrust.models.channels import canonical_channel
from synthtrust.segmentation.loading import load_default_segmenter
from synthtrust.synthesis.base import SynthesisResult, validate_synthesis_inputs
from synthtrust.synthesis.diffusion import region as grid
from synthtrust.synthesis.diffusion.guidance import SegmenterGuidance
from synthtrust.synthesis.diffusion.memory import after_out_of_memory, estimate_sampling_bytes, pick_device
from synthtrust.synthesis.diffusion.model import (
    Generator,
    load_default_generator,
    load_generator,
    make_scheduler,
)
from synthtrust.synthesis.diffusion.sampler import SamplingRequest, StepProgress, sample
from synthtrust.synthesis.options import EngineOptions

SCHEMA_TASKS = {"brats": "brain-tumor", "emidec": "cardiac-scar"}
# Share of the lesion that may lie outside the anatomy before the edit is refused (hand-drawn borders leak).
MAX_OUTSIDE_ANATOMY = 0.25


class DiffusionSynthesizer:
    """Inpainting or mask-conditioned generation with a generator model (lazily loaded)."""

    def __init__(self, engine: str, generator: Generator | None = None, model: str | Path | None = None,
                 device: str = "auto", steps: int = 25, scheduler: str = "ddim", guidance: float = 0.0,
                 guidance_steps: tuple[float, float] = (0.0, 0.5), segmenter=None, precision: str = "float32",
                 threads: int | None = None, blend_mm: float = 3.0, whole_image: bool = False, eta: float = 0.0,
                 resampling: int = 1):
        if engine not in ("inpaint", "conditional"):
            raise InputError(f"diffusion engine {engine!r} is unknown; use inpaint or conditional")
        if steps < 1:
            raise InputError(f"--steps {steps} must be at least 1")
        if resampling < 1:
            raise InputError(f"--resampling {resampling} must be at least 1 (1 = no RePaint resampling)")
        if guidance < 0:
            raise InputError(f"--guidance {guidance} must be 0 (off) or positive")
        self.name = engine
        self.generator, self.model = generator, model
        self.device, self.steps, self.scheduler, self.eta = device, int(steps), scheduler, float(eta)
        self.guidance, self.guidance_steps, self.segmenter = float(guidance), tuple(guidance_steps), segmenter
        self.precision, self.threads = precision, threads
        self.blend_mm, self.whole_image, self.resampling = float(blend_mm), bool(whole_image), int(resampling)
        self.notes: list[str] = []

    @classmethod
    def from_options(cls, engine: str, options: EngineOptions, device: str = "auto",
                     segmenter=None) -> DiffusionSynthesizer:
        """The engine the typed options describe (unset options keep the defaults above)."""
        options.check()
        return cls(engine, device=device, segmenter=segmenter, **options.engine_arguments())

    # ------------------------------------------------------------------ models
    def load(self, task: str, modalities: list[str]) -> Generator:
        if self.generator is None:
            self.generator = (load_generator(self.model) if self.model else
                              load_default_generator(task, modalities, self.name))
        config = self.generator.config
        if config.task != task:
            raise InputError(f"generator {self.generator.model_id} makes {config.task} images, not {task}; choose a "
                             f"{task} generator or change --schema")
        if self.name not in config.engines:
            raise InputError(f"generator {self.generator.model_id} serves {config.engines}, not the {self.name} "
                             "engine; choose another model or engine")
        names = [canonical_channel(m) for m in modalities]
        if sorted(names) != sorted(config.channels):
            raise InputError(f"generator {self.generator.model_id} reads {len(config.channels)} channel(s) "
                             f"{'+'.join(config.channels)} but the images are {'+'.join(names)}; pass those "
                             "channels (--modalities), choose a generator for yours, or use --engine template")
        return self.generator

    def guidance_segmenter(self, task: str, modalities: list[str]):
        if self.segmenter is None:
            self.segmenter = load_default_segmenter(task, modalities, device="cpu")
        return self.segmenter

    # ------------------------------------------------------------------ synthesis
    def prepare(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                anatomy: Image | None = None):
        """Every check that needs no sampling (inputs, model, anatomy, steps, region size), and the model
        loaded: callers run it first so bad input is refused before any work or output starts."""
        lesion_region = validate_synthesis_inputs(channels, lesion, schema, modalities)
        task = SCHEMA_TASKS.get(schema.name)
        if task is None:
            raise InputError(f"the learned engines read brats or emidec label maps, not {schema.name}; relabel the "
                             "lesion or use --engine template")
        generator = self.load(task, modalities)
        if self.steps > generator.config.num_train_timesteps:
            raise InputError(f"--steps {self.steps} exceeds the {generator.config.num_train_timesteps} timesteps "
                             f"generator {generator.model_id} was trained with; use at most that many")
        anatomy_mask = grid.anatomy_mask(channels, lesion, schema, anatomy)
        outside = float(np.count_nonzero(lesion_region & ~anatomy_mask)) / float(np.count_nonzero(lesion_region))
        if outside > MAX_OUTSIDE_ANATOMY:
            where = "brain" if task == "brain-tumor" else "myocardium"
            raise InputError(f"{outside:.0%} of the lesion lies outside the anatomy ({where}); move or redraw it "
                             "inside, or pass the right --anatomy mask")
        region = grid.choose_region(lesion_region, lesion.spacing_zyx, generator.config, self.whole_image)
        return lesion_region, task, generator, anatomy_mask, region

    def synthesize(self, channels: list[Image], lesion: Image, schema: LabelSchema, modalities: list[str],
                   seed: int = 0, progress=None, should_cancel=None, anatomy: Image | None = None) -> SynthesisResult:
        started = time.perf_counter()
        self.notes = []
        lesion_region, task, generator, anatomy_mask, region = self.prepare(channels, lesion, schema, modalities,
                                                                            anatomy)
        result = self._generate(channels, lesion.array, lesion_region, anatomy_mask, region, generator, task,
                                modalities, seed, progress, should_cancel)
        result.provenance.update({"schema": schema.name, "mask_sha256": mask_checksum(lesion.array),
                                  "seconds": round(time.perf_counter() - started, 3)})
        return result

    def fill_healthy(self, channels: list[Image], region: Image, task: str, modalities: list[str], seed: int = 0,
                     progress=None, should_cancel=None, anatomy: Image | None = None,
                     strength: float = 1.0) -> SynthesisResult:
        """Inpaint ``region`` (a mask) with healthy tissue: the BraTS local-synthesis task, and a way to
        remove a lesion from an image. Voxels outside the region come back bit-identical.

        ``strength`` < 1 starts the reverse process part-way (SDEdit) from a smooth fill of the region by its
        surroundings instead of from pure noise, running about ``strength x steps`` steps."""
        started = time.perf_counter()
        self.notes = []
        if self.name != "inpaint":
            raise InputError("healthy-tissue filling needs the inpaint engine (it keeps the image around the region)")
        if not channels:
            raise InputError("no image channel was given; pass at least one image")
        for channel in channels:
            require_same_grid(channels[0], channel, what="channel")
        require_same_grid(channels[0], region, what="region mask")
        mask = region.array > 0
        if not mask.any() or mask.all():
            raise InputError("the region to fill must be a part of the image: it is "
                             f"{'empty' if not mask.any() else 'the whole image'}")
        generator = self.load(task, modalities)
        schema = generator.config.schema
        anatomy_mask = grid.anatomy_mask(channels, region.with_array(np.zeros(mask.shape, np.uint8)), schema, anatomy)
        box = grid.choose_region(mask, region.spacing_zyx, generator.config, self.whole_image)
        no_lesion = np.zeros(mask.shape, np.uint8)
        result = self._generate(channels, no_lesion, mask, anatomy_mask | mask, box, generator, task, modalities,
                                seed, progress, should_cancel, strength=strength)
        result.provenance.update({"purpose": "healthy-tissue inpainting", "mask_sha256": mask_checksum(mask),
                                  "strength": strength,
                                  "seconds": round(time.perf_counter() - started, 3)})
        return result

    def _generate(self, channels: list[Image], labels: np.ndarray, lesion_region: np.ndarray,
                  anatomy_mask: np.ndarray, region, generator: Generator, task: str, modalities: list[str], seed: int,
                  progress, should_cancel, strength: float = 1.0) -> SynthesisResult:
        """Generate inside ``lesion_region`` conditioned on ``labels``; the shared half of both entry points."""
        config = generator.config
        order = [[canonical_channel(m) for m in modalities].index(name) for name in config.channels]
        spacing = channels[0].spacing_zyx
        box = region.box

        scales = [grid.IntensityScale.of(channels[c].array, config.intensity_clip) for c in order]
        crop = np.stack([channels[c].array[box].astype(np.float32) for c in order])
        known = grid.to_model_batch(crop, region, config)
        known = torch.cat([scale.to_model(known[:, i:i + 1]) for i, scale in enumerate(scales)], dim=1)
        labels_crop = labels[box]
        one_hot = grid.to_model_batch(grid.one_hot_labels(labels_crop, config.lesion_values), region, config) > 0.5
        anatomy_model = grid.to_model_batch(anatomy_mask[box][None].astype(np.float32), region, config) > 0.5
        lesion_model = grid.to_model_batch(lesion_region[box][None].astype(np.float32), region, config) > 0.25
        # Generate one model voxel beyond the lesion so its border is synthesized, not interpolated.
        pool = F.max_pool3d if config.spatial_dims == 3 else F.max_pool2d
        generate = pool(lesion_model.float(), 3, stride=1, padding=1)
        conditional = self.name == "conditional"
        condition = grid.conditioning(known * (1 - generate), generate, one_hot.float(), anatomy_model.float(),
                                      conditional)
        request = SamplingRequest(tuple(known.shape), steps=self.steps, seed=seed, eta=self.eta, condition=condition,
                                  known=None if conditional else known,
                                  generate_mask=None if conditional else generate,
                                  guidance_steps=self.guidance_steps, precision=self.precision,
                                  resampling=self.resampling if not conditional else 1, strength=strength,
                                  initial=grid.smooth_fill(known, generate) if strength < 1.0 else None)
        guidance = None
        if self.guidance > 0:
            guidance = self._guidance(task, modalities, config, labels_crop, region, generate)
            request.guidance = guidance

        def report(step: StepProgress) -> None:
            if progress is not None:
                progress(step.step, step.total, step.message())

        generated, device_used = self._sample(generator, request, report, should_cancel)
        # The model's range is [-1, 1] (clipped z-scores): never write back values beyond what it was taught.
        values = grid.from_model_batch(generated.float().clamp(-1.0, 1.0).cpu(), region, config)
        values = np.stack([scales[i].from_model(torch.from_numpy(values[i])).numpy() for i in range(len(order))])

        edit_region, weight = self._write_region(lesion_region, box, spacing, region, conditional)
        outputs = [None] * len(channels)
        for i, c in enumerate(order):
            channel = channels[c]
            output = channel.array.copy()
            view = output[box]
            inside, share = edit_region[box], weight[box][edit_region[box]]
            mixed = (1.0 - share) * view[inside].astype(np.float64) + share * values[i][inside]
            view[inside] = cast_like(mixed, channel.array.dtype)
            outputs[c] = channel.with_array(output, name=f"{channel.name} synthetic")
        provenance = {
            "engine": self.name, "software_version": synthtrust.__version__, "seed": int(seed),
            **generator.describe(), "steps": self.steps, "scheduler": self.scheduler, "eta": self.eta,
            "resampling": self.resampling if not conditional else 1,
            "guidance": self.guidance, "guidance_steps": list(self.guidance_steps),
            "guidance_losses": [round(v, 4) for v in guidance.losses] if guidance else [],
            "device": str(device_used), "precision": self.precision, "notes": list(self.notes),
            "modalities": list(modalities), "region_box_zyx": [[s.start, s.stop] for s in box], "model_grid_shape": list(region.model_shape),
            "blend_mm": self.blend_mm if conditional else 0.0, "whole_image": self.whole_image,
            "intensity_scales": [{"channel": c, "mean": round(s.mean, 5), "std": round(s.std, 5)}
                                 for c, s in zip(order, scales, strict=True)],
        }
        return SynthesisResult(outputs, edit_region, provenance)

    def _write_region(self, lesion_region: np.ndarray, box, spacing, region, conditional: bool):
        """Voxels to write and their blend weight: the lesion only (inpaint), or a feathered margin."""
        if not conditional:
            return lesion_region, lesion_region.astype(np.float64)
        within = np.zeros(lesion_region.shape, bool)
        within[box] = True
        if self.whole_image:
            return within, within.astype(np.float64)
        distance = ndimage.distance_transform_edt(~lesion_region[box], sampling=spacing)
        weight = np.zeros(lesion_region.shape)
        weight[box] = np.clip(1.0 - distance / max(self.blend_mm, 1e-6), 0.0, 1.0)
        return weight > 0, weight

    def _guidance(self, task, modalities, config, labels_crop, region, generate):
        segmenter = self.guidance_segmenter(task, modalities)
        if sorted(segmenter.config.channels) != sorted(config.channels):
            raise InputError(f"guidance segmenter {segmenter.model_id} reads {segmenter.config.channels}, the "
                             f"generator {config.channels}; pick a segmenter for the same channels")
        values = list(segmenter.config.label_values)
        classes = np.zeros(labels_crop.shape, np.int64)
        for index, value in enumerate(values):
            if value:
                classes[labels_crop == value] = index
        class_volume = grid.to_model_batch(grid.one_hot_labels(classes, list(range(len(values)))), region, config)
        target = class_volume.argmax(dim=1)
        mask = generate[:, 0]
        if config.spatial_dims == 2:  # slices (S, y, x) stack along z into one volume for the 3D segmenter
            target, mask = target[None], mask[None]
        order = [config.channels.index(c) for c in segmenter.config.channels]
        network = segmenter.network if order == sorted(order) else _Reordered(segmenter.network, order)
        multiple = 2 ** len(segmenter.config.network_kwargs.get("strides", (2, 2, 2)))
        return SegmenterGuidance(network, target, mask.float(), self.guidance, config.intensity_clip,
                                 config.spatial_dims, multiple)

    def _sample(self, generator: Generator, request: SamplingRequest, report, should_cancel):
        """Sample on the chosen device. On CUDA out-of-memory: 2D models retry with half as many slices per
        network call (same result), then the CPU; every fallback is recorded in ``notes``."""
        config = generator.config
        needed = estimate_sampling_bytes(config, request.shape)
        device = pick_device(self.device, needed, self.notes)
        threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(int(self.threads))
        try:
            while True:
                try:
                    network = generator.network.to(device)
                    return sample(network, make_scheduler(config, self.scheduler), request, device, report,
                                  should_cancel), device
                except torch.cuda.OutOfMemoryError:
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    device = after_out_of_memory(device, request, needed, self.notes)
                    if device is None:
                        raise
        finally:
            torch.set_num_threads(threads)
            if self.segmenter is not None and getattr(self.segmenter, "device", None) is not None:
                self.segmenter.network.to(self.segmenter.device)  # guidance may have moved it


class _Reordered(torch.nn.Module):
    """Feeds the generator's channel order to a segmenter that reads the same channels in another order."""

    def __init__(self, network: torch.nn.Module, order: list[int]):
        super().__init__()
        self.network, self.order = network, order

    def forward(self, volume: torch.Tensor) -> torch.Tensor:
        return self.network(volume[:, self.order])
