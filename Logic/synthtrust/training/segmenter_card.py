"""What a segmenter's training run leaves beside its weights: network config, loss curve, model card and
manifest entry (written through :mod:`synthtrust.models.model_files`, which generators share)."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import torch

import synthtrust
from synthtrust.models.manifest import ModelEntry
from synthtrust.models.model_files import write_loss_curve, write_manifest_entry, write_model_card

WEIGHTS_LICENCE = "BSD-3-Clause (weights); training data licences listed in training_data"


def manifest_entry(config, report) -> dict:
    """The model's entry for ``Resources/Models/manifest.json`` (paths relative to the weights' folder)."""
    network = config.network
    schema = network.label_schema()
    counts = config.dataset.source_counts()
    licences = {source.name: source.licence for source in config.dataset.sources}
    entry = ModelEntry(
        id=network.id, task=network.task, channels=list(network.channels),
        file=Path(report.files["weights"]).name, sha256=report.sha256,
        title=config.title or f"{network.task} from {'+'.join(network.channels)} ({network.architecture})",
        labels={str(v): schema.labels.get(v, "background") for v in network.label_values},
        config=Path(report.files["config"]).name, size_bytes=report.size_bytes, licence=WEIGHTS_LICENCE,
        training_data=[{"source": name, "licence": licences.get(name, "unknown"), "training_cases": n["training"],
                        "validation_cases": n["validation"]} for name, n in counts.items()],
        model_card=Path(report.files["model_card"]).name,
        validation_dice={k: round(v, 4) for k, v in report.validation_dice.items()},
        cpu_seconds=report.cpu_inference_seconds,
        memory={"peak_process_mb": report.peak_memory_mb, "note": "peak of the training process: an upper "
                "bound for inference"},
        version=synthtrust.__version__)
    return entry.to_dict()


def _card(config, report) -> str:
    network, dataset = config.network, config.dataset
    schema = network.label_schema()
    licences = {source.name: source for source in dataset.sources}
    counts = dataset.source_counts()
    labels = ", ".join(f"{v} {schema.labels.get(v, 'background')}" for v in network.label_values)
    last = report.losses[-min(50, len(report.losses)):]
    grid = (f"resampled to {list(network.target_spacing_mm)} mm (x, y, z)" if network.target_spacing_mm
            else "kept at the input's own spacing")
    lines = [
        f"# Model card: {network.id}", "",
        f"{config.title or network.id}: a MONAI {network.architecture} that segments **{network.task}** "
        f"({schema.name} labels: {labels}) from the channel(s) **{', '.join(network.channels)}**.", "",
        "## Model", "",
        f"- Network: MONAI `{network.architecture}` with `{json.dumps(network.network_kwargs)}`; "
        f"{report.parameters:,} parameters.",
        f"- Input: {network.normalization} normalisation per channel, {grid}; sliding window {list(network.roi_size)} voxels, overlap {network.overlap}. Predictions go back "
        "to the input grid (labels nearest neighbour, probabilities linear).",
        f"- Weights: `{Path(report.files['weights']).name}`, {report.size_bytes / 1e6:.2f} MB, sha256 "
        f"`{report.sha256}`; licence {WEIGHTS_LICENCE}.", "",
        "## Training data and licences", "",
        "| source | licence | training cases | validation cases | citation |", "|---|---|---|---|---|",
    ]
    for name, count in counts.items():
        source = licences.get(name)
        lines.append(f"| {name} | {source.licence if source else '?'} | {count['training']} | "
                     f"{count['validation']} | {source.citation if source else ''} |")
    lines += ["", f"{dataset.description}. Builder parameters: `{json.dumps(dataset.parameters)}`. No "
              "non-commercial data (EMIDEC) was used for training.",
              *(["Brain labels of the real TCGA cases are a fusion of five BraTS-2020 algorithms, not expert "
                 "truth."] if any("TCGA" in name for name in counts) else []),
              "", "## Training", "",
              f"- Command: `{config.command or '(Python API)'}`",
              f"- Seed {config.seed}, {config.iterations} iterations, batch {config.batch_size}; "
              f"hyper-parameters `{json.dumps(config.hyperparameters())}`.",
              f"- Time: {json.dumps(report.seconds)} s on {platform.machine()} {platform.system()}, torch "
              f"{torch.__version__}, SynthTrustSlicer {synthtrust.__version__}.",
              f"- Loss: first {report.losses[0]:.3f}, mean of the last {len(last)} {np.mean(last):.3f}; curve "
              f"`{Path(report.files['loss_curve']).name}` (values in `{Path(report.files['loss_table']).name}`).",
              "", "## Validation (held-out cases, never trained on)", "",
              "| region | mean Dice |", "|---|---|"]
    lines += [f"| {region} | {dice:.3f} |" for region, dice in report.validation_dice.items()]
    lines += ["", "Per case: " + "; ".join(f"{name}: " + ", ".join(f"{r} {d:.3f}" for r, d in dice.items())
                                         for name, dice in report.validation_cases.items())]
    if report.external_evaluation:
        ext = report.external_evaluation
        lines += ["", f"External evaluation on {ext['case']}: " +
                  ", ".join(f"{k} {v:.3f}" for k, v in ext["dice"].items()) + "."]
    lines += ["", "## Cost", "",
              f"- CPU inference: {report.cpu_inference_seconds} s on {report.reference_image} with "
              f"{torch.get_num_threads()} thread(s).",
              f"- Peak memory of the training process: {report.peak_memory_mb:.0f} MB (an upper bound for inference).",
              "", "## Intended use and limits", "",
              "A small working default for the demo, the what-if loop and teaching; not a clinical segmenter. "
              "Validation cases are synthetic lesions on anatomies that also appear in training (few real subjects "
              "are licensed for training), so these numbers measure fit to the project's synthetic data and "
              "overstate accuracy on new subjects."]
    return "\n".join(lines) + "\n"


def write_model_files(config, report) -> None:
    """Write config, loss curve, model card and manifest entry beside the weights; fill ``report.files``."""
    out = Path(config.out_dir)
    stem = out / config.network.id
    report.files["config"] = str(config.network.save(stem.with_suffix(".json")))
    curve, table = write_loss_curve(report.losses, stem, config.network.id, "Dice + cross-entropy loss")
    report.files["loss_curve"], report.files["loss_table"] = str(curve), str(table)
    card = stem.with_suffix(".md")
    report.files["model_card"] = str(card)
    write_model_card(_card(config, report), card)
    entry = stem.with_name(stem.name + ".manifest-entry.json")
    write_manifest_entry(manifest_entry(config, report), entry)
    report.files["manifest_entry"] = str(entry)


