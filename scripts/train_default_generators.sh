#!/usr/bin/env bash
# Train the shipped diffusion generators (one per task; each serves the inpaint and conditional engines)
# on licence-permitted data only: TCGA-LGG real tumours (CC BY 3.0) for the brain; Sunnybrook anatomies
# (CC0) rendered LGE-like and the project's LGE phantoms, with project-placed scars, for the heart.
# Seeded, 2 CPU threads. Measured on an idle 2-core x86_64 CPU (torch 2.13):
#   brain-tumor-flair-t1c-diffusion  3D, 32^3 patches at 2 mm, batch 4   ~0.8 s/iteration
#   cardiac-scar-lge-diffusion       2D, 64^2 slices at 1.5 mm, batch 16 ~0.6 s/iteration
# Interrupted runs continue with the same command plus --resume.
# Usage: scripts/train_default_generators.sh [DATA_ROOT]   (default: ../shared/data beside the repository)
set -euo pipefail

REPOSITORY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPOSITORY"
DATA_ROOT="${1:-${SYNTHTRUST_SHARED_DATA:-../shared/data}}"
OUT="Resources/Models"
SYNTHTRUST="${SYNTHTRUST:-.venv/bin/synthtrust}"
BRAIN_ITERATIONS="${BRAIN_ITERATIONS:-1500}"
CARDIAC_ITERATIONS="${CARDIAC_ITERATIONS:-1500}"
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2

"$SYNTHTRUST" train-generator --task brain-tumor --channels flair,t1c --iterations "$BRAIN_ITERATIONS" \
    --batch-size 4 --seed 0 --threads 2 --device cpu --data-root "$DATA_ROOT" --out "$OUT" \
    --title "Brain tumour generator (FLAIR + T1c), 3D diffusion, 2 mm" --update-manifest ${RESUME:+--resume}

"$SYNTHTRUST" train-generator --task cardiac-scar --channels lge --iterations "$CARDIAC_ITERATIONS" \
    --batch-size 16 --seed 0 --threads 2 --device cpu --data-root "$DATA_ROOT" --out "$OUT" \
    --title "Myocardial scar generator (LGE), 2D slice-wise diffusion, 1.5 mm" --update-manifest ${RESUME:+--resume}
