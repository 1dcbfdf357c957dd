"""``train_generator``: teach a DiffusionModelUNet to denoise lesion and healthy patches given the
conditioning channels (config.py), for both learned engines at once.

Each iteration draws its patches and noise from generators seeded by (seed, iteration), so a run
resumed from its checkpoint continues exactly as an uninterrupted one would. Losses are MSE on the
noise, weighted x4 inside the region to generate (that is where the engines use the model).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import synthtrust
from synthtrust.errors import CancelledError, InputError
from synthtrust.imaging.io import atomic_path
from synthtrust.models.checkpoints import fit_state_dict, save_weights
from synthtrust.models.model_files import write_loss_curve
from synthtrust.provenance import file_sha256, json_text
from synthtrust.synthesis.diffusion.config import GeneratorConfig
from synthtrust.synthesis.diffusion.model import build_network, load_generator_checkpoint, make_scheduler
from synthtrust.synthesis.diffusion.region import conditioning, one_hot_labels
from synthtrust.training.generator_card import card_text
from synthtrust.training.generator_data import prepare_case, sample_patch

INSIDE_WEIGHT = 4.0


@dataclass
class GeneratorTraining:
    config: GeneratorConfig
    cases: list  # CaseSpec
    sources: list[dict]
    out: Path
    iterations: int = 1000
    batch_size: int = 4
    learning_rate: float = 3e-4
    seed: int = 0
    conditional_share: float = 0.3  # share of samples trained as conditional generation (image hidden)
    lesion_share: float = 0.5
    healthy_radius_mm: tuple[float, float] = (4.0, 12.0)  # radius range of the healthy blobs to fill
    device: str = "cpu"
    threads: int | None = None
    title: str = ""
    checkpoint_every: int = 100
    init_from: Path | None = None  # fine-tune: start from these generator weights (same network) instead of at random
    init_sha256: str = ""  # filled in from init_from, for the model card
    command: str = ""  # the command line that ran this training, for the model card

    def validate(self) -> None:
        self.config.validate()
        if self.iterations < 1 or self.batch_size < 1:
            raise InputError("iterations and batch size must be at least 1")
        if not self.config.id:
            raise InputError("the generator needs an id (--id); it names its files")
        if not self.cases:
            raise InputError("no training cases; check --data-root")


@dataclass
class TrainingLog:
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    parameters: int = 0
    resumed_from: int = 0


def _checkpoint_path(training: GeneratorTraining) -> Path:
    return training.out / f"{training.config.id}.checkpoint.pt"


def _batch(prepared, training: GeneratorTraining, iteration: int):
    config = training.config
    rng = np.random.default_rng([training.seed, iteration])
    engines = config.engines
    images, conditions = [], []
    for _ in range(training.batch_size):
        case = prepared[int(rng.integers(len(prepared)))]
        patch, labels, anatomy, generate = sample_patch(case, config, rng, training.lesion_share,
                                                       tuple(training.healthy_radius_mm))
        squeeze = (lambda a: a[..., 0, :, :]) if config.spatial_dims == 2 else (lambda a: a)
        image = torch.from_numpy(np.ascontiguousarray(squeeze(patch)))
        generate_t = torch.from_numpy(np.ascontiguousarray(squeeze(generate[None]))).float()
        one_hot = torch.from_numpy(np.ascontiguousarray(squeeze(one_hot_labels(labels, config.lesion_values))))
        anatomy_t = torch.from_numpy(np.ascontiguousarray(squeeze(anatomy[None]))).float()
        conditional = "conditional" in engines and ("inpaint" not in engines or
                                                    rng.random() < training.conditional_share)
        condition = conditioning((image * (1 - generate_t))[None], generate_t[None], one_hot[None], anatomy_t[None],
                                 conditional)[0]
        images.append(image)
        conditions.append(condition)
    return torch.stack(images).float(), torch.stack(conditions).float()


def train_generator(training: GeneratorTraining, resume: bool = False,
                    progress: Callable[[int, int, float], None] | None = None,
                    should_cancel: Callable[[], bool] | None = None,
                    files_folder: Path | None = None) -> TrainingLog:
    """Train (or resume) and write ``<id>.safetensors``, ``<id>.json``, the loss curve and a checkpoint.

    The checkpoint goes into ``training.out`` as training goes; the model files into ``files_folder``
    (default ``training.out``; the CLI passes a scratch folder it publishes when this returns)."""
    training.validate()
    config = training.config
    device = torch.device(training.device)
    if training.threads:
        torch.set_num_threads(int(training.threads))
    torch.manual_seed(training.seed)
    network = build_network(config).to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=training.learning_rate, weight_decay=1e-4)
    scheduler = make_scheduler(config, "ddpm")
    log = TrainingLog(parameters=sum(p.numel() for p in network.parameters()))
    training.out.mkdir(parents=True, exist_ok=True)
    checkpoint = _checkpoint_path(training)
    start = 0
    if training.init_from is not None and not (resume and checkpoint.is_file()):
        _start_from_weights(network, training)
    if resume:
        start = _resume(checkpoint, training, network, optimizer, log)
    prepared = [prepare_case(spec.build(), config) for spec in training.cases]
    began = time.perf_counter() - log.seconds
    network.train()
    for iteration in range(start, training.iterations):
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"training cancelled at iteration {iteration}; the last checkpoint is kept")
        images, conditions = _batch(prepared, training, iteration)
        images, conditions = images.to(device), conditions.to(device)
        generator = torch.Generator().manual_seed(training.seed * 1_000_003 + iteration)
        noise = torch.randn(images.shape, generator=generator).to(device)
        timesteps = torch.randint(0, config.num_train_timesteps, (images.shape[0],), generator=generator).to(device)
        noisy = scheduler.add_noise(images, noise, timesteps)
        for group in optimizer.param_groups:  # linear warm-up over the first 5 % of iterations
            group["lr"] = training.learning_rate * min(1.0, (iteration + 1) / max(1, training.iterations // 20))
        prediction = network(torch.cat([noisy, conditions], dim=1), timesteps=timesteps)
        weight = 1.0 + (INSIDE_WEIGHT - 1.0) * conditions[:, len(config.channels):len(config.channels) + 1]
        loss = ((prediction - noise) ** 2 * weight).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        optimizer.step()
        log.losses.append(float(loss.detach()))
        log.seconds = time.perf_counter() - began
        if progress is not None:
            progress(iteration + 1, training.iterations, log.losses[-1])
        if (iteration + 1) % training.checkpoint_every == 0 or iteration + 1 == training.iterations:
            _save_checkpoint(network, optimizer, iteration + 1, log, checkpoint, training.config)
    write_generator_files(network, training, log, files_folder)
    return log


def _checkpoint_identity(config: GeneratorConfig) -> dict:
    """What a checkpoint must share with the training that resumes it."""
    return {"id": config.id, "task": config.task, "channels": list(config.channels),
            "spatial_dims": config.spatial_dims, "network_channels": list(config.network_channels),
            "engines": list(config.engines)}


def _resume(path: Path, training: GeneratorTraining, network, optimizer, log: TrainingLog) -> int:
    """Load ``path`` (tensors and plain values only: ``weights_only=True``) into the network and optimizer;
    refuse a missing, corrupt or foreign checkpoint. Returns the iteration to continue from."""
    if not path.is_file():
        raise InputError(f"--resume: there is no checkpoint {path} to continue from; run without --resume to "
                         "start a new training")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zips, pickles with code, random bytes: many exception types
        first = (str(error).strip().splitlines() or [""])[0][:160]
        raise InputError(f"--resume: checkpoint {path} cannot be read ({type(error).__name__}: {first}); it is "
                         "corrupt or not a training checkpoint: delete it and train without --resume") from None
    expected = ("network", "optimizer", "iteration", "losses", "seconds")
    if not isinstance(state, dict) or any(key not in state for key in expected):
        raise InputError(f"--resume: {path} is not a generator training checkpoint (it needs {', '.join(expected)}); "
                         "delete it and train without --resume")
    identity, mine = state.get("config"), _checkpoint_identity(training.config)
    if isinstance(identity, dict):
        differences = [f"{key} {identity.get(key)} there, {mine[key]} here" for key in mine
                       if key != "id" and identity.get(key) != mine[key]]
        if differences:
            raise InputError(f"--resume: checkpoint {path} belongs to another training ({'; '.join(differences)}); "
                             "resume with the same task, channels, engine and --network-channels, or choose another "
                             "--out or --id")
    fit_state_dict(network, state["network"], f"{path} (--resume)", "this training's options")
    try:
        optimizer.load_state_dict(state["optimizer"])
        start, losses, seconds = int(state["iteration"]), [float(v) for v in state["losses"]], float(state["seconds"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise InputError(f"--resume: the optimizer state or counters in {path} do not fit this training "
                         f"({type(error).__name__}); delete the checkpoint and train without --resume") from None
    if not 0 <= start <= len(losses):
        raise InputError(f"--resume: checkpoint {path} says iteration {start} but holds {len(losses)} losses; it is "
                         "damaged: delete it and train without --resume")
    log.losses, log.seconds, log.resumed_from = losses, seconds, start
    return start


def _start_from_weights(network: torch.nn.Module, training: GeneratorTraining) -> None:
    """Fine-tuning: the weights of an earlier generator with the same network (its config JSON beside it)."""
    source = load_generator_checkpoint(training.init_from)
    mine, theirs = training.config, source.config
    if (mine.task, list(mine.channels), mine.spatial_dims) != (theirs.task, list(theirs.channels), theirs.spatial_dims):
        raise InputError(f"--init-from {training.init_from} is a {theirs.spatial_dims}D {theirs.task} generator for "
                         f"{'+'.join(theirs.channels)}; this training is {mine.spatial_dims}D {mine.task} for "
                         f"{'+'.join(mine.channels)}; start from a generator of the same task and channels")
    try:
        network.load_state_dict(source.network.state_dict())
    except RuntimeError as error:
        raise InputError(f"--init-from {training.init_from}: its network differs from this training's "
                         f"({str(error).splitlines()[0]}); use the same --network-channels") from None
    training.init_sha256 = source.sha256


def _save_checkpoint(network, optimizer, iteration: int, log: TrainingLog, path: Path,
                     config: GeneratorConfig) -> None:
    with atomic_path(path) as temporary:
        torch.save({"network": network.state_dict(), "optimizer": optimizer.state_dict(), "iteration": iteration,
                    "losses": log.losses, "seconds": log.seconds, "config": _checkpoint_identity(config)}, temporary)


def write_generator_files(network, training: GeneratorTraining, log: TrainingLog, folder: Path | None = None) -> dict:
    """Weights, config, loss curve, model card and a manifest entry (``<id>.manifest-entry.json``)."""
    config, out = training.config, Path(folder or training.out)
    weights = save_weights(network, out / f"{config.id}.safetensors", {"id": config.id, "task": config.task})
    config.save(out / f"{config.id}.json")
    write_loss_curve(log.losses, out / config.id, f"{config.id}: noise MSE (x{INSIDE_WEIGHT:g} inside the region)",
                     "noise MSE")
    entry = {
        "id": config.id, "kind": "generator", "engines": list(config.engines), "task": config.task,
        "channels": list(config.channels), "file": weights.name, "sha256": file_sha256(weights),
        "title": training.title or config.id, "config": f"{config.id}.json", "size_bytes": weights.stat().st_size,
        "licence": "BSD-3-Clause (weights); see training_data for the data licences",
        "training_data": training.sources, "model_card": f"{config.id}.md", "version": synthtrust.__version__,
    }
    with atomic_path(out / f"{config.id}.md") as temporary:
        temporary.write_text(card_text(training, log, entry), encoding="utf-8")
    with atomic_path(out / f"{config.id}.manifest-entry.json") as temporary:
        temporary.write_text(json_text(entry) + "\n", encoding="utf-8")  # a diverged loss is written as null
    return entry
