"""Measure the shipped diffusion generators on ../shared/data: off-target change, conditioning fidelity,
healthy-tissue inpainting (BraTS 2023 local-synthesis protocol) and speed.

Usage (2 CPU threads; about 40 minutes with the defaults):
    .venv/bin/python scripts/evaluate_generators.py --out docs/generator_evaluation.json --update-cards
        [--brain-edits 6] [--scar-edits 6] [--healthy-masks 4] [--held-out-model PATH] [--device cpu]

Edits are placed at seeded random positions: tumours (15-30 mm core) in healthy brain of the two TCGA-LGG
cases, away from the real tumour; scars (1-3 adjacent AHA segments, transmurality 0.25-1) on unseen LGE
phantoms, the unseen Sunnybrook heart SC-HF-I-5 rendered LGE-like, and the real EMIDEC P100 LGE heart
(research evaluation only: its licence forbids training shipped weights on it). Every engine setting sees
the same edits and seeds. Fidelity is the loop's audit: Dice(intended lesion, the default segmenter's
lesion) >= 0.6, with what the segmenter finds in the image's own real lesion (the TCGA tumour, the EMIDEC
scar, grown by 2 mm) left out, as ``run_loop(existing_lesion=...)`` does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "Logic"))

from synthtrust.editing.scar import place_scar  # noqa: E402
from synthtrust.editing.tumor import place_tumor  # noqa: E402
from synthtrust.errors import InputError  # noqa: E402
from synthtrust.imaging.io import load_image  # noqa: E402
from synthtrust.labels.schema import EMIDEC, brats_schema  # noqa: E402
from synthtrust.metrics.local_synthesis import local_synthesis_scores  # noqa: E402
from synthtrust.models.device import choose_device  # noqa: E402
from synthtrust.segmentation.loading import load_default_segmenter  # noqa: E402
from synthtrust.synthesis.engines import make_synthesizer  # noqa: E402
from synthtrust.synthesis.options import EngineOptions  # noqa: E402
from synthtrust.training.datasets import data_root  # noqa: E402
from synthtrust.trust.audits import conditioning_fidelity  # noqa: E402

TCGA_CASES = ("TCGA-FG-6692", "TCGA-DU-7294")
RINGS = ((1, 2, 3, 4, 5, 6), (7, 8, 9, 10, 11, 12), (13, 14, 15, 16))
THRESHOLD = 0.6


# ------------------------------------------------------------------ images and edits
def brain_case(root: Path, case: str):
    folder = root / "brainles_tcga" / case
    flair = load_image(folder / "sri24_skullstripped" / f"{case}_fla.nii.gz", "FLAIR")
    t1c = load_image(folder / "sri24_skullstripped" / f"{case}_t1c.nii.gz", "T1c")
    real = load_image(folder / "algorithm_segmentations" / "fusion_simple.nii.gz", "real tumour")
    return flair, t1c, real


def tumour_edits(flair, real, count: int, seed: int):
    """Tumours in healthy brain: centre >= 12 mm inside the brain and >= 25 mm from the real tumour."""
    brain = flair.array > 0
    depth = ndimage.distance_transform_edt(brain, sampling=flair.spacing_zyx)
    clearance = ndimage.distance_transform_edt(real.array == 0, sampling=flair.spacing_zyx)
    pool = np.argwhere((depth > 12.0) & (clearance > 25.0))
    rng, edits = np.random.default_rng(seed), []
    while len(edits) < count:
        z, y, x = pool[rng.integers(len(pool))]
        size = float(rng.uniform(15.0, 30.0))
        try:
            edit = place_tumor(flair, flair.geometry.index_to_physical((x, y, z)), size, seed=int(rng.integers(1000)))
        except InputError:
            continue
        if not np.any(edit.labels.array[real.array > 0]):
            edits.append((edit, {"size_mm": round(size, 1), "center_zyx": [int(z), int(y), int(x)]}))
    return edits


def hearts(root: Path):
    """(name, LGE image, EMIDEC anatomy labels without scar, real scar or None), none seen in training."""
    from synthtrust.phantoms.cardiac import lge_like_from_labels, make_lge_phantom

    for seed in (901, 902):
        image, anatomy = make_lge_phantom(seed=seed)
        yield f"LGE phantom seed {seed} (unseen)", image, anatomy, None
    folder = root / "sunnybrook_cine"
    anatomy = load_image(folder / "SC-HF-I-5_label.nii.gz", "anatomy")
    anatomy = anatomy.with_array(anatomy.array.astype(np.uint8))
    image = lge_like_from_labels(anatomy, seed=903, image=load_image(folder / "SC-HF-I-5_image.nii.gz", "cine"))
    yield "Sunnybrook SC-HF-I-5 rendered LGE-like (unseen anatomy)", image, anatomy, None
    labels = load_image(root / "emidec_Case_P100" / "Case_P100_label.nii.gz", "labels")
    healthy = np.where(np.isin(labels.array, (3, 4)), 2, labels.array).astype(np.uint8)
    image = load_image(root / "emidec_Case_P100" / "Case_P100_image.nii.gz", "LGE")
    yield "EMIDEC P100 real LGE (its own scar relabelled myocardium)", image.with_array(
        image.array.astype(np.float32)), labels.with_array(healthy), np.isin(labels.array, (3, 4))


def scar_edits(anatomy, count: int, seed: int):
    rng, edits = np.random.default_rng(seed), []
    while len(edits) < count:
        ring = RINGS[int(rng.integers(len(RINGS)))]
        start, width = int(rng.integers(len(ring))), int(rng.integers(1, 4))
        segments = [ring[(start + k) % len(ring)] for k in range(width)]
        transmurality = float(rng.choice([0.25, 0.5, 0.75, 1.0]))
        try:
            edit = place_scar(anatomy, segments, transmurality, mvo=float(rng.choice([0.0, 0.3])),
                              seed=int(rng.integers(1000)))
        except InputError:
            continue
        edits.append((edit, {"segments": segments, "transmurality": transmurality}))
    return edits


# ------------------------------------------------------------------ scoring
def settings(task: str, modalities: list[str], segmenter, args) -> dict:
    common = {"task": task, "channels": modalities, "device": args.device}
    plain, guided = EngineOptions(steps=args.steps), EngineOptions(steps=args.steps, guidance=args.guidance)
    return {
        "template": lambda: make_synthesizer("template"),
        "inpaint": lambda: make_synthesizer("inpaint", plain, **common),
        "conditional": lambda: make_synthesizer("conditional", plain, **common),
        f"inpaint + guidance {args.guidance:g}": lambda: make_synthesizer(
            "inpaint", guided, segmenter=segmenter, **common),
        f"inpaint + filter K={args.candidates}": lambda: _filter(make_synthesizer("inpaint", plain, **common),
                                                                 segmenter, args.candidates),
    }


def _filter(inner, segmenter, candidates: int):
    from synthtrust.synthesis.quality import QualityFilter

    # Stops at the first candidate that passes: the share of edits it rescues is what a user gets.
    return QualityFilter(inner, segmenter, THRESHOLD, candidates, stop_at_first_pass=True)


def run_edit(synthesizer, channels, edit, schema, modalities, segmenter, seed: int, existing=None) -> dict:
    """One edit through the loop; what the segmenter finds in ``existing`` (a real lesion already in the
    image) is left out, as ``run_loop`` does."""
    from synthtrust.metrics import evaluate_labels
    from synthtrust.trust.audits import without_existing_lesions

    started = time.perf_counter()
    result = synthesizer.synthesize(channels, edit.labels, schema, modalities, seed=seed)
    synthesized = time.perf_counter()
    prediction = segmenter.predict(result.channels, channel_names=modalities)
    segmented = time.perf_counter()
    intended = schema.lesion_mask(edit.labels.array)
    found = without_existing_lesions(prediction.labels.array, existing, intended, edit.labels.spacing_zyx)
    dice = conditioning_fidelity(intended, schema.lesion_mask(found), THRESHOLD)["dice"]
    evaluate_labels(edit.labels.array, found, schema, edit.labels.spacing_zyx)
    evaluated = time.perf_counter()
    changed = np.any([o.array != s.array for o, s in zip(channels, result.channels, strict=True)], axis=0)
    record = {"dice": round(dice, 4), "passed": dice >= THRESHOLD,
              "changed_outside_lesion": int(np.count_nonzero(changed & ~intended)),
              "changed_outside_edit_region": int(np.count_nonzero(changed & ~result.edit_region)),
              "seconds_synthesis": round(synthesized - started, 2), "seconds_segment": round(segmented - synthesized, 2),
              "seconds_evaluate": round(evaluated - segmented, 2)}
    quality = result.provenance.get("quality_filter")
    if quality:
        record["candidates_tried"] = len(quality["candidates"])
    return record


def summarise(records: list[dict]) -> dict:
    dice = [r["dice"] for r in records]
    summary = {"edits": len(records), "fidelity_pass_rate": round(float(np.mean([r["passed"] for r in records])), 3),
               "mean_dice": round(float(np.mean(dice)), 3), "median_dice": round(float(np.median(dice)), 3),
               "max_changed_outside_lesion": max(r["changed_outside_lesion"] for r in records),
               "max_changed_outside_edit_region": max(r["changed_outside_edit_region"] for r in records),
               "median_seconds_synthesis": round(statistics.median(r["seconds_synthesis"] for r in records), 2),
               "median_seconds_pipeline": round(statistics.median(
                   r["seconds_synthesis"] + r["seconds_segment"] + r["seconds_evaluate"] for r in records), 2)}
    if "candidates_tried" in records[0]:
        summary["mean_candidates_tried"] = round(float(np.mean([r["candidates_tried"] for r in records])), 2)
    return summary


def fidelity(task: str, groups, modalities: list[str], args) -> dict:
    """groups: (name, channels, edits, existing lesion); every setting runs every edit with the same seed."""
    schema = brats_schema() if task == "brain-tumor" else EMIDEC
    segmenter = load_default_segmenter(task, modalities, args.device)
    out = {"segmenter": segmenter.model_id, "settings": {}, "images": [group[0] for group in groups]}
    for name, make in settings(task, modalities, segmenter, args).items():
        synthesizer, records = make(), []
        for image_name, channels, edits, existing in groups:
            for k, (edit, parameters) in enumerate(edits):
                record = run_edit(synthesizer, channels, edit, schema, modalities, segmenter, seed=k,
                                  existing=existing)
                records.append({"image": image_name, **parameters, **record})
                print(f"{task} | {name} | {image_name} | edit {k}: Dice {record['dice']:.3f}", flush=True)
        out["settings"][name] = {"summary": summarise(records), "edits": records}
        per_image = {}
        for image_name, *_ in groups:
            mine = [r for r in records if r["image"] == image_name]
            per_image[image_name] = round(float(np.mean([r["passed"] for r in mine])), 3)
        out["settings"][name]["summary"]["pass_rate_per_image"] = per_image
    return out


# ------------------------------------------------------------------ healthy-tissue inpainting
def healthy_inpainting(root: Path, masks: int, args, model: Path | None) -> dict:
    """Fill tumour-shaped masks in healthy brain; score each method inside the mask (BraTS 2023 protocol)."""
    from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer
    from synthtrust.synthesis.diffusion.region import smooth_fill

    engine = DiffusionSynthesizer("inpaint", model=model, device=args.device, steps=args.steps)
    methods = [f"diffusion, strength {s:g}" for s in args.healthy_strength] + ["mean fill", "smooth fill"]
    rows = []
    for index, case in enumerate(TCGA_CASES if model is None else (args.held_out_case,)):
        flair, t1c, real = brain_case(root, case)
        for k, (edit, parameters) in enumerate(tumour_edits(flair, real, masks, seed=100 + index)):
            mask = edit.labels.array > 0
            voided = [c.with_array(np.where(mask, 0, c.array).astype(c.array.dtype)) for c in (flair, t1c)]
            region = edit.labels.with_array(mask.astype(np.uint8))
            fills, seconds = {}, {}
            for strength, name in zip(args.healthy_strength, methods, strict=False):
                started = time.perf_counter()
                result = engine.fill_healthy(voided, region, "brain-tumor", ["flair", "t1c"], seed=k,
                                             strength=strength)
                seconds[name] = round(time.perf_counter() - started, 2)
                fills[name] = [c.array for c in result.channels]
            inside = torch.from_numpy(mask)[None, None].float()
            for original in (flair, t1c):
                shell = ndimage.binary_dilation(mask, iterations=3) & ~mask & (original.array > 0)
                fills.setdefault("mean fill", []).append(np.where(mask, original.array[shell].mean(), original.array))
                known = torch.from_numpy(np.where(mask, 0, original.array).astype(np.float32))[None, None]
                fills.setdefault("smooth fill", []).append(smooth_fill(known, inside, 150)[0, 0].numpy())
            row = {"case": case, **parameters, "mask_ml": round(float(mask.sum()) / 1000.0, 1), "seconds": seconds}
            for name in methods:
                for channel, original, empty, filled in zip(("flair", "t1c"), (flair, t1c), voided, fills[name],
                                                            strict=True):
                    scores = local_synthesis_scores(filled, original.array, empty.array, mask)
                    row[f"{name} | {channel}"] = {m: round(scores[m], 4) for m in ("ssim", "psnr_db", "mse")}
            rows.append(row)
            print(f"healthy | {case} | mask {k}: " + ", ".join(
                f"{name} FLAIR SSIM {row[f'{name} | flair']['ssim']:.3f}" for name in methods), flush=True)
    summary = {"masks": len(rows), "model": str(model) if model else "shipped default", "steps": args.steps,
               "median_seconds": {name: round(statistics.median(r["seconds"][name] for r in rows), 2)
                                  for name in methods[:len(args.healthy_strength)]}}
    for name in methods:
        for channel in ("flair", "t1c"):
            key = f"{name} | {channel}"
            summary[key] = {m: round(float(np.mean([r[key][m] for r in rows])), 4) for m in ("ssim", "psnr_db", "mse")}
    return {"summary": summary, "masks": rows}


# ------------------------------------------------------------------ speed
def speed(args) -> dict:
    from synthtrust.synthesis.diffusion.model import load_default_generator, make_scheduler
    from synthtrust.synthesis.diffusion.sampler import SamplingRequest, sample

    device = choose_device(args.device)
    out = {"device": str(device), "threads": torch.get_num_threads()}
    for task, channels, shape in (("brain-tumor", ["flair", "t1c"], (1, 64, 64, 64)),
                                  ("cardiac-scar", ["lge"], (10, 128, 128))):
        generator = load_default_generator(task, channels, "inpaint")
        config = generator.config
        batch = (shape[0], len(config.channels), *shape[1:])
        condition = torch.zeros((shape[0], config.condition_channels, *shape[1:]))
        network = generator.network.to(device)
        times = []
        for repeat in range(args.speed_repeats):
            request = SamplingRequest(batch, steps=25, seed=repeat, condition=condition)
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            sample(network, make_scheduler(config, "ddim"), request, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        label = "64^3 region" if task == "brain-tumor" else "10 slices of 128^2"
        out[task] = {"region": label, "model_grid_shape": list(batch), "steps": 25, "scheduler": "ddim",
                     "seconds": [round(t, 2) for t in times], "median_seconds": round(statistics.median(times), 2)}
        print(f"speed | {task} | {label}: median {statistics.median(times):.2f} s", flush=True)
    out["pipeline"] = pipeline_speed(args, device)
    return out


def pipeline_speed(args, device: torch.device) -> dict:
    """edit -> synthesize (inpaint, 25 DDIM steps) -> segment -> evaluate on a real TCGA brain, timed."""
    from synthtrust.metrics import evaluate_labels
    from synthtrust.trust.audits import without_existing_lesions

    flair, t1c, real = brain_case(data_root(args.data_root), TCGA_CASES[0])
    modalities, schema = ["flair", "t1c"], brats_schema()
    synthesizer = make_synthesizer("inpaint", EngineOptions(steps=25), task="brain-tumor", channels=modalities,
                                   device=str(device))
    segmenter = load_default_segmenter("brain-tumor", modalities, str(device))
    times = []
    for repeat in range(args.speed_repeats + 1):  # the first run warms up (model loading, kernels)
        started = time.perf_counter()
        edit, _ = tumour_edits(flair, real, 1, seed=repeat)[0]
        result = synthesizer.synthesize([flair, t1c], edit.labels, schema, modalities, seed=repeat)
        prediction = segmenter.predict(result.channels, channel_names=modalities)
        found = without_existing_lesions(prediction.labels.array, real.array > 0, edit.labels.array > 0,
                                         edit.labels.spacing_zyx)
        evaluate_labels(edit.labels.array, found, schema, edit.labels.spacing_zyx)
        times.append(time.perf_counter() - started)
    print(f"speed | pipeline: {[round(t, 2) for t in times]}", flush=True)
    return {"what": "place a tumour, inpaint it (25 DDIM steps), segment, evaluate; TCGA-FG-6692 240x240x155",
            "seconds_after_warm_up": [round(t, 2) for t in times[1:]],
            "median_seconds": round(statistics.median(times[1:]), 2)}


# ------------------------------------------------------------------ model cards
def card_section(results: dict, task: str) -> str:
    key = "brain" if task == "brain-tumor" else "scar"
    block = results[key]
    lines = ["## Measured quality and speed", "",
             "Measured by `scripts/evaluate_generators.py` on the CPU (2 threads, 25 DDIM steps); full figures in "
             "`docs/generator_evaluation.json` and `docs/performance.md`.", ""]
    lines.append(f"Conditioning fidelity (share of edits whose lesion the default segmenter {block['segmenter']} "
                 f"recovers with Dice >= {THRESHOLD}; `{block['command']}`, {block['date']}), on "
                 f"{', '.join(block['images'])}:")
    lines.append("")
    lines.append("| setting | edits | pass rate | mean Dice | changed voxels outside the lesion (max) | synthesis s |")
    lines.append("|---|---|---|---|---|---|")
    for name, setting in block["settings"].items():
        s = setting["summary"]
        lines.append(f"| {name} | {s['edits']} | {s['fidelity_pass_rate']:.0%} | {s['mean_dice']:.3f} | "
                     f"{s['max_changed_outside_lesion']} | {s['median_seconds_synthesis']} |")
    lines.append("")
    if task == "brain-tumor" and "healthy" in results:
        for label, block in (("shipped model (brains seen in training)", results["healthy"]),
                             ("leave-one-out model (brain never seen)", results.get("healthy_held_out"))):
            if not block:
                continue
            s = block["summary"]
            lines.append(f"Healthy-tissue inpainting, BraTS 2023 local-synthesis protocol, {label}, {s['masks']} "
                         f"tumour-shaped masks (SSIM / PSNR dB / MSE inside the mask; `{block['command']}`):")
            lines.append("")
            lines.append("| method | FLAIR | T1c |")
            lines.append("|---|---|---|")
            for key in [k[:-len(" | flair")] for k in s if k.endswith(" | flair")]:
                cells = [f"{s[f'{key} | {c}']['ssim']:.3f} / {s[f'{key} | {c}']['psnr_db']:.2f} / "
                         f"{s[f'{key} | {c}']['mse']:.4f}" for c in ("flair", "t1c")]
                lines.append(f"| {key} | {cells[0]} | {cells[1]} |")
            lines.append("")
            mine, baseline = s.get("diffusion, strength 1 | flair"), s.get("smooth fill | flair")
            if mine and baseline and mine["ssim"] < baseline["ssim"]:
                lines.append(f"Limitation: filling from noise scores below the smooth-fill baseline (FLAIR SSIM "
                             f"{mine['ssim']:.3f} against {baseline['ssim']:.3f}): the generator fills holes darker "
                             "than the tissue around them (docs/performance.md). Do not use it to remove lesions "
                             "for quantitative work.")
                lines.append("")
    speed_block = results["speed"][task]
    lines.append(f"Speed (`{results['speed']['command']}`, {results['speed']['date']}): {speed_block['region']} "
                 f"({speed_block['model_grid_shape']}), 25 DDIM steps on {results['speed']['device']} with "
                 f"{results['speed']['threads']} threads: median {speed_block['median_seconds']} s.")
    if task == "brain-tumor" and "pipeline" in results["speed"]:
        lines.append(f"Whole pipeline ({results['speed']['pipeline']['what']}): median "
                     f"{results['speed']['pipeline']['median_seconds']} s.")
    return "\n".join(lines) + "\n"


def update_card(path: Path, section: str) -> None:
    """Replace the card's "Measured quality and speed" section (up to the next heading) with ``section``."""
    text = path.read_text(encoding="utf-8")
    start = text.find("## Measured quality and speed")
    if start < 0:
        raise SystemExit(f"{path} has no 'Measured quality and speed' section")
    end = text.find("\n## ", start + 1)
    path.write_text(text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else ""), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--brain-edits", type=int, default=6, help="tumour edits per TCGA brain")
    parser.add_argument("--scar-edits", type=int, default=6, help="scar edits per heart")
    parser.add_argument("--healthy-masks", type=int, default=4, help="healthy-inpainting masks per TCGA brain")
    parser.add_argument("--held-out-model", type=Path, help="a brain generator trained with --hold-out CASE")
    parser.add_argument("--held-out-case", default="TCGA-DU-7294")
    parser.add_argument("--healthy-strength", type=lambda t: [float(v) for v in t.split(",")], default=[1.0, 0.4],
                        help="healthy filling: strengths to measure (1 = from noise; <1 = SDEdit from a smooth fill)")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--speed-repeats", type=int, default=2)
    parser.add_argument("--only", choices=("all", "speed", "brain", "scar", "healthy", "none"), default="all",
                        help="measure one block and merge it into --out; none: measure nothing (with --update-cards, "
                             "rewrite the model cards from --out)")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "docs" / "generator_evaluation.json")
    parser.add_argument("--update-cards", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = data_root(args.data_root)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() and args.only != "all" else {}
    stamp = {"command": "python scripts/evaluate_generators.py " + " ".join(sys.argv[1:]),
             "date": time.strftime("%Y-%m-%d"), "torch": torch.__version__,
             "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    measured = {"speed", "brain", "scar", "healthy", "healthy_held_out"} if args.only == "all" else {args.only} - {"none"}
    if args.only == "healthy":
        measured.add("healthy_held_out")
    if args.only in ("all", "speed"):
        results["speed"] = speed(args)
    if args.only in ("all", "brain"):
        groups = []
        for index, case in enumerate(TCGA_CASES):
            flair, t1c, real = brain_case(root, case)
            groups.append((case, [flair, t1c], tumour_edits(flair, real, args.brain_edits, seed=index),
                           real.array > 0))
        results["brain"] = fidelity("brain-tumor", groups, ["flair", "t1c"], args)
    if args.only in ("all", "scar"):
        groups = [(name, [image], scar_edits(anatomy, args.scar_edits, seed=index), existing)
                  for index, (name, image, anatomy, existing) in enumerate(hearts(root))]
        results["scar"] = fidelity("cardiac-scar", groups, ["lge"], args)
    if args.only in ("all", "healthy"):
        results["healthy"] = healthy_inpainting(root, args.healthy_masks, args, None)
        if args.held_out_model:
            results["healthy_held_out"] = healthy_inpainting(root, args.healthy_masks, args, args.held_out_model)
    for key in ("speed", "brain", "scar", "healthy", "healthy_held_out"):
        if key in results and key in measured:
            results[key].update(stamp)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: (v.get("settings", {}) and {n: s["summary"] for n, s in v["settings"].items()})
                      or v.get("summary", v) for k, v in results.items() if k in measured}, indent=1))
    if args.update_cards:
        models = REPOSITORY / "Resources" / "Models"
        update_card(models / "brain-tumor-flair-t1c-diffusion.md", card_section(results, "brain-tumor"))
        update_card(models / "cardiac-scar-lge-diffusion.md", card_section(results, "cardiac-scar"))


if __name__ == "__main__":
    main()
