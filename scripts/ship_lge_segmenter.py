"""Ship the slice-wise LGE segmenter beside the shipped cardiac default, only if it beats it on the real
EMIDEC slices (myocardium and scar Dice both higher), with its model card and manifest entry.

Beside, not in place, for now: the golden run (Testing/data/golden_run.json, scripts/record_golden_run.py)
records the heart sweep judged by the default segmenter, so making this model the default means
re-recording it; until then it is used with --model / --segmenter PATH.

    .venv/bin/python scripts/ship_lge_segmenter.py --checkpoint runs/lge2d/checkpoint.pt \
        --evaluation runs/eval_new.json --baseline runs/eval_shipped.json --log runs/lge2d/train.log \
        --out Resources/Models

Both evaluation files come from scripts/evaluate_lge_emidec.py on all 708 slices.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Logic"))

from synthtrust.models.model_files import update_manifest, write_manifest_entry, write_model_card  # noqa: E402
from synthtrust.provenance import file_sha256  # noqa: E402
from synthtrust.training.lge_segmenter import UNET_CHANNELS, export_slice_segmenter, read_checkpoint  # noqa: E402

MODEL_ID = "cardiac-scar-lge-unet2d"
TITLE = "Myocardial scar (LGE), slice-wise UNet trained on domain-randomised renderings, 1.5 mm in-plane"


def figures_table(evaluation: dict) -> str:
    rows = ["| method | blood pool | myocardium | scar | MVO |", "|---|---|---|---|---|"]
    for method, regions in evaluation["pooled_dice"].items():
        cells = [f"{regions[r]:.3f}" if r in regions else "" for r in ("blood pool", "myocardium", "scar", "MVO")]
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--evaluation", required=True, type=Path)
    parser.add_argument("--baseline", required=True, type=Path)
    parser.add_argument("--log", required=True, type=Path, help="the training log (its commands and losses)")
    parser.add_argument("--out", default=Path("Resources/Models"), type=Path)
    parser.add_argument("--update-manifest", action="store_true",
                        help="also list it in manifest.json (after the current default, which stays the default)")
    args = parser.parse_args()
    new = json.loads(args.evaluation.read_text(encoding="utf-8"))
    old = json.loads(args.baseline.read_text(encoding="utf-8"))
    if new["slices"] != 708 or old["slices"] != 708:
        sys.exit("both evaluations must cover all 708 EMIDEC slices (run evaluate_lge_emidec.py without --every)")
    new_dice, old_dice = new["pooled_dice"]["network"], old["pooled_dice"]["network"]
    if not (new_dice["myocardium"] > old_dice["myocardium"] and new_dice["scar"] > old_dice["scar"]):
        sys.exit(f"not shipped: on EMIDEC the new model scores myocardium {new_dice['myocardium']:.3f} / scar "
                 f"{new_dice['scar']:.3f}, the shipped one {old_dice['myocardium']:.3f} / {old_dice['scar']:.3f}")
    saved = read_checkpoint(args.checkpoint)
    weights = export_slice_segmenter(args.checkpoint, args.out / f"{MODEL_ID}.safetensors", MODEL_ID,
                                     {"training_data": "Sunnybrook (CC0) label maps + project phantoms, rendered"})
    size = weights.stat().st_size
    p100 = new.get("Case_P100", {}).get("dice", {})
    card = f"""# Model card: {MODEL_ID}

{TITLE}: a slice-wise MONAI UNet that segments **cardiac-scar** (EMIDEC labels: 0 background, 1 blood pool,
2 myocardium, 3 scar, 4 MVO) from one **lge** channel, on stacks of any slice count (1-15).

## Model

- Network: a 2D MONAI UNet, channels {list(UNET_CHANNELS)}, strides 2, one residual unit, instance norm,
  shipped as the equivalent 3D UNet with (3, 3, 1) kernels and (2, 2, 1) strides (`docs/segmenters.md`).
- Input: zscore-nonzero normalisation; resampled to 1.5 mm in-plane, the stack's own slice spacing kept;
  sliding window 128 x 128 x 1, overlap 0.25.
- Weights: `{MODEL_ID}.safetensors`, {size / 1e6:.2f} MB, sha256 `{file_sha256(weights)}`; licence BSD-3-Clause
  (weights).

## Training data and licences

Only label maps; no real LGE intensities (the SynthSeg idea, Billot et al. 2023):

| source | licence | what |
|---|---|---|
| Sunnybrook cardiac data, 4 hearts (SC-HF-I-1, 2, 4, 5) | CC0 1.0; Radau et al., MIDAS J 2009 | blood pool and myocardium contours, their cine images as real surroundings |
| SynthTrustSlicer LGE phantoms | BSD-3-Clause (project-generated) | label maps (`synthtrust.phantoms.cardiac`) |

Each in 4 wall-thickness variants with 6 scars each placed by the project's editor, rendered with random
LGE-typical or fully random contrasts (`synthtrust.training.lge_rendering`). EMIDEC (CC BY-NC-SA 4.0) was used
for evaluation only, never for training.

## Training

- Command: `.venv/bin/python scripts/train_lge_segmenter.py --data-root ../shared/data --out runs/lge2d
  --until 20:01 --threads 1 --phantoms 2 --scars-per-variant 6`, in three runs, each resumed from the last
  checkpoint of the one before: run 1 (`--phantoms 3`, the first renderer) to iteration 819, run 2 (full-chest
  surroundings, clutter) to 1675, run 3 (+ compressed LGE contrast) to 3671, stopped by hand at 19:53 UTC.
- {saved["iteration"]} iterations of batch 8 (128 x 128 slices), {saved["seconds"]:.0f} s of wall-clock training
  on one torch thread of a shared 2-core CPU (about 10-20 % of one core under the load of four engineers),
  AdamW 2e-3 with a cosine over the time to the deadline, DiceCE loss.

## Evaluation on real LGE, never trained on (EMIDEC, CC BY-NC-SA 4.0, evaluation only)

`.venv/bin/python scripts/evaluate_lge_emidec.py --checkpoint runs/lge2d/final.pt --data-root
../shared/data --threads 2 --json runs/eval_new.json`: {new["cases"]} cases, {new["slices"]} slices
({new["infarct_cases"]} with infarct), stacked per case at an assumed 1.6 x 1.6 x 10 mm (the PNGs kept no spacing);
Dice pooled over all slices:

{figures_table(new)}

Mean scar Dice over the infarct cases: network {new["mean_scar_dice_infarct_cases"]["network"]:.3f}; mean absolute
scar volume error per case {new["mean_abs_scar_volume_error_ml"]["network"]:.1f} ml.
EMIDEC Case_P100 (NIfTI, 1.41 x 1.41 x 13 mm): {", ".join(f"{k} {v:.3f}" for k, v in p100.items())}.

The current default (`cardiac-scar-lge-unet`, 3D) scored blood pool {old_dice["blood pool"]:.3f}, myocardium {old_dice["myocardium"]:.3f},
scar {old_dice["scar"]:.3f}, MVO {old_dice["MVO"]:.3f} on the same slices.

## Intended use and limits

A judge for the what-if loop on real LGE (`--model` / `--segmenter` PATH; not yet the default, see
`docs/segmenters.md`); not a clinical segmenter. Aim of
issue 11: myocardium >= 0.75 and scar >= 0.55 on these slices; see the figures above for how far it is.
"""
    write_model_card(card, args.out / f"{MODEL_ID}.md")
    entry = {"id": MODEL_ID, "task": "cardiac-scar", "channels": ["lge"], "file": f"{MODEL_ID}.safetensors",
             "sha256": file_sha256(weights), "title": TITLE,
             "labels": {"0": "background", "1": "blood pool", "2": "myocardium", "3": "scar", "4": "MVO"},
             "config": f"{MODEL_ID}.json", "size_bytes": size,
             "licence": "BSD-3-Clause (weights); training data licences listed in training_data",
             "training_data": [
                 {"source": "Sunnybrook cardiac data (LV contours), label maps rendered LGE-like with random contrasts",
                  "licence": "CC0 1.0", "training_cases": 4, "validation_cases": 0},
                 {"source": "SynthTrustSlicer LGE phantoms (label maps)", "licence": "BSD-3-Clause (project-generated)",
                  "training_cases": 2, "validation_cases": 0}],
             "model_card": f"{MODEL_ID}.md",
             "validation_dice": {k: round(v, 4) for k, v in new_dice.items()},
             "version": "0.2.0"}
    write_manifest_entry(entry, args.out / f"{MODEL_ID}.manifest-entry.json")
    if args.update_manifest:
        update_manifest(args.out / "manifest.json", entry)
    print(f"shipped {weights}: myocardium {new_dice['myocardium']:.3f}, scar {new_dice['scar']:.3f}")


if __name__ == "__main__":
    main()
