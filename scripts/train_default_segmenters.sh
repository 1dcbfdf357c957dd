#!/usr/bin/env bash
# Train the three shipped default segmenters into Resources/Models and register them in its manifest.
#
# Data: ../shared/data (TCGA-LGG CC BY 3.0, MNI ICBM152 2009a, Sunnybrook CC0) plus lesions the project
# synthesizes; never EMIDEC (non-commercial; used only as an external evaluation in the cardiac card).
# Each run is seeded and uses 2 CPU threads, so it reproduces the same weights bit for bit on the same
# machine and software. Estimated on an idle 2-core x86_64 CPU (torch 2.13, measured per-iteration times):
#   brain-tumor-flair-t1c-unet  1500 iterations  ~8 min  (data ~25 s, 0.27 s/iteration, validation ~40 s)
#   brain-tumor-t1-unet         1400 iterations  ~9 min  (data ~80 s, 0.29 s/iteration, validation ~35 s)
#   cardiac-scar-lge-unet       2500 iterations  ~8 min  (data ~10 s, 0.18 s/iteration, validation ~5 s)
# Usage: scripts/train_default_segmenters.sh [DATA_ROOT]   (default: ../shared/data beside the repository)
set -euo pipefail

REPOSITORY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Relative paths from the repository root, so the commands recorded in the model cards are portable.
cd "$REPOSITORY"
DATA_ROOT="${1:-${SYNTHTRUST_SHARED_DATA:-../shared/data}}"
OUT="Resources/Models"
SYNTHTRUST="${SYNTHTRUST:-.venv/bin/synthtrust}"
# One thread pool of 2 for torch and the numerical libraries: the time estimates and bit-for-bit
# reproducibility assume it.
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2

"$SYNTHTRUST" train-segmenter --task brain-tumor --channels flair,t1c --architecture unet \
    --iterations 1500 --seed 0 --threads 2 --device cpu --data-root "$DATA_ROOT" --out "$OUT" \
    --title "Brain tumour (FLAIR + T1c), UNet, 2 mm" --update-manifest

"$SYNTHTRUST" train-segmenter --task brain-tumor --channels t1 --architecture unet \
    --iterations 1400 --seed 0 --threads 2 --device cpu --data-root "$DATA_ROOT" --out "$OUT" \
    --title "Brain tumour (T1), UNet, 2 mm" --update-manifest

"$SYNTHTRUST" train-segmenter --task cardiac-scar --channels lge --architecture unet \
    --iterations 2500 --seed 0 --threads 2 --device cpu --data-root "$DATA_ROOT" --out "$OUT" \
    --title "Myocardial scar (LGE), UNet, 1.5 x 1.5 x 8 mm" --update-manifest
