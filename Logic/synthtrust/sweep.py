"""What-if sweeps: one edit -> synthesize -> segment -> evaluate loop per point of a grid of edits
(scar in each AHA segment x transmurality levels; tumour at positions x sizes), returned as a tidy table:
one row per edit and variant (:class:`synthtrust.results.SweepRow`), with the edit's parameters, metrics
per region, audits and timings; :func:`dice_per_segment` aggregates a scar sweep per AHA segment.

An edit that cannot be placed (e.g. an AHA segment outside a short stack) gives a row with its reason
in ``status`` instead of stopping the sweep.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthtrust.editing.edit import Edit
from synthtrust.errors import CancelledError, InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import atomic_path
from synthtrust.labels.schema import LabelSchema
from synthtrust.loop import run_loop
from synthtrust.metrics import DEFAULT_HD95
from synthtrust.results.records import SWEEP_REGION_METRICS, SegmentDice, SweepRow
from synthtrust.results.table import sweep_csv_columns


@dataclass
class SweepPoint:
    """One edit of the grid: its parameters (the table's leading columns) and how to make it."""

    parameters: dict
    make: Callable[[], Edit]


def scar_points(anatomy: Image, segments=range(1, 18), transmurality=(0.25, 0.5, 1.0), extent: float = 1.0,
                irregularity: float = 0.3, mvo: float = 0.0, seed: int = 0, rv_insertion_mm=None) -> list[SweepPoint]:
    from synthtrust.editing.scar import place_scar

    return [SweepPoint({"segment": int(s), "transmurality": float(t), "extent": extent},
                       lambda s=s, t=t: place_scar(anatomy, [int(s)], float(t), extent, irregularity, mvo, seed,
                                                   rv_insertion_mm))
            for s in segments for t in transmurality]


def tumour_points(image: Image, centers_lps, sizes_mm, brain_mask: Image | None = None, seed: int = 0,
                  **shape) -> list[SweepPoint]:
    from synthtrust.editing.tumor import place_tumor

    points = []
    for index, center in enumerate(centers_lps):
        for size in sizes_mm:
            parameters = {"position": index, "center_lps": ",".join(f"{v:.1f}" for v in center), "size_mm": size}
            points.append(SweepPoint(parameters, lambda c=center, s=size: place_tumor(
                image, c, s, seed=seed, brain_mask=brain_mask, **shape)))
    return points


def _row(parameters: dict, variant, edit: Edit, schema: LabelSchema, k: int, seconds_total: float) -> SweepRow:
    regions = {region: {name: getattr(metrics, name) for name in SWEEP_REGION_METRICS}
               for region, metrics in variant.metrics.regions.items()}
    lesion_ml = float(schema.lesion_mask(edit.labels.array).sum() * edit.labels.geometry.voxel_volume_ml)
    return SweepRow(dict(parameters), "ok", "", k, variant.seed, lesion_ml, regions, variant.audits,
                    {**variant.seconds, "total": seconds_total})


def run_sweep(points: list[SweepPoint], task: str, channels: list[Image], modalities: list[str],
              schema: LabelSchema, synthesizer, segmenter, variants: int = 1, seed: int = 0,
              progress: Callable[[int, int, str], None] | None = None,
              should_cancel: Callable[[], bool] | None = None, existing_lesion=None,
              hd95: str = DEFAULT_HD95) -> list[SweepRow]:
    """Rows of the tidy table (see the module docstring); inputs are never modified. ``existing_lesion``:
    lesions already in the image, left out of every edit's metrics and audits (``run_loop``)."""
    rows = []
    for index, point in enumerate(points):
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"sweep cancelled after {index} of {len(points)} edits; nothing was written")
        if progress is not None:
            progress(index + 1, len(points), f"edit {index + 1}/{len(points)}: {point.parameters}")
        started = time.perf_counter()
        try:
            edit = point.make()
        except InputError as error:
            rows.append(SweepRow(dict(point.parameters), f"not placed: {error}"))
            continue
        try:
            result = run_loop(task, channels, modalities, edit, schema, segmenter, synthesizer, n_variants=variants,
                              seed=seed, n_bootstrap=200, existing_lesion=existing_lesion, hd95=hd95)
        except InputError as error:  # e.g. the region exceeds the generator's limit: one row, not the sweep
            rows.append(SweepRow(dict(point.parameters), f"not synthesized: {error}"))
            continue
        for k, variant in enumerate(result.variants):
            rows.append(_row(point.parameters, variant, edit, schema, k, round(time.perf_counter() - started, 3)))
    return rows


def dice_per_segment(rows: list[SweepRow], region: str) -> list[SegmentDice]:
    """Mean Dice of ``region`` per (segmenter, AHA segment) over the placed edits (variants and
    transmurality levels); segments whose scar could not be placed are left out (their rows say why)."""
    scores: dict[tuple[str, int], list[float]] = {}
    for row in rows:
        value = row.dice(region) if row.ok else float("nan")
        if np.isfinite(value):
            scores.setdefault((row.segmenter, int(row.parameters["segment"])), []).append(value)
    return [SegmentDice(segmenter, segment, float(np.mean(values)), len(values))
            for (segmenter, segment), values in sorted(scores.items())]


def write_table(rows: list[SweepRow], path: str | Path) -> Path:
    """Write rows as CSV (columns: the table definition's keys, the union of all rows' in first-seen order),
    atomically."""
    flat = [row.values() for row in rows]  # NaN stays "nan" in the CSV, as a spreadsheet reads it
    path = Path(path)
    with atomic_path(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=sweep_csv_columns(flat))
        writer.writeheader()
        writer.writerows(flat)
    return path
