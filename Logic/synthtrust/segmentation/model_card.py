"""The files a training run leaves beside its weights: network config, loss curve, model card, manifest
entry; and the optional entry in a models manifest."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

import synthtrust
from synthtrust.errors import InputError
from synthtrust.imaging.io import atomic_path
from synthtrust.provenance import write_json
from synthtrust.segmentation.datasets import data_root
from synthtrust.segmentation.manifest import MANIFEST_NAME, ModelEntry

WEIGHTS_LICENCE = "BSD-3-Clause (weights); training data licences listed in training_data"


def external_evaluation(segmenter, root: Path | None = None) -> dict:
    """Cardiac models: Dice on the real EMIDEC LGE case, when present. EMIDEC is CC BY-NC-SA 4.0: it is
    used here only to *evaluate*, never to train."""
    if segmenter.config.task != "cardiac-scar":
        return {}
    folder = data_root(root) / "emidec_Case_P100"
    if not (folder / "Case_P100_image.nii.gz").is_file():
        return {}
    from synthtrust.imaging.io import load_image
    from synthtrust.segmentation.datasets import Case
    from synthtrust.segmentation.training import region_dice

    image = load_image(folder / "Case_P100_image.nii.gz", "lge")
    labels = load_image(folder / "Case_P100_label.nii.gz", "labels")
    case = Case("EMIDEC Case_P100", [image.with_array(image.array.astype(np.float32))],
                labels.with_array(labels.array.astype(np.uint8)), "EMIDEC")
    return {"case": "EMIDEC Case_P100 (real LGE; CC BY-NC-SA 4.0, evaluation only)",
            "dice": {k: round(v, 4) for k, v in region_dice(case, segmenter).items()}}


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


def _write_loss_curve(losses: list[float], stem: Path, title: str) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = stem.with_name(stem.name + "_loss.csv")
    with atomic_path(table) as temporary:
        temporary.write_text("iteration,loss\n" + "".join(f"{i + 1},{v:.6f}\n" for i, v in enumerate(losses)))
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=90)
    axis.plot(np.arange(1, len(losses) + 1), losses, color="0.75", linewidth=0.8, label="per iteration")
    window = max(len(losses) // 25, 1)
    if window > 1:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axis.plot(np.arange(window, len(losses) + 1), smooth, color="C0", label=f"mean of {window}")
    axis.set(xlabel="iteration", ylabel="Dice + cross-entropy loss", title=title)
    axis.legend()
    figure.tight_layout()
    image = stem.with_name(stem.name + "_loss.png")
    with atomic_path(image) as temporary:
        figure.savefig(temporary, format="png")
    plt.close(figure)
    return image, table


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
    curve, table = _write_loss_curve(report.losses, stem, config.network.id)
    report.files["loss_curve"], report.files["loss_table"] = str(curve), str(table)
    card = stem.with_suffix(".md")
    report.files["model_card"] = str(card)
    with atomic_path(card) as temporary:
        temporary.write_text(_card(config, report))
    entry = stem.with_name(stem.name + ".manifest-entry.json")
    write_json(manifest_entry(config, report), entry)
    report.files["manifest_entry"] = str(entry)


def update_manifest(manifest: str | os.PathLike, entry: dict) -> Path:
    """Add ``entry`` to a models manifest, replacing one with the same id (the file is created if absent)."""
    manifest = Path(manifest)
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text())
        except json.JSONDecodeError as error:
            raise InputError(f"model manifest {manifest} is not valid JSON ({error}); fix it first") from None
    else:
        data = {"models": []}
    if manifest.name != MANIFEST_NAME:
        raise InputError(f"{manifest} is not named {MANIFEST_NAME}")
    data["models"] = [m for m in data.get("models", []) if m.get("id") != entry["id"]] + [entry]
    return write_json(data, manifest)
