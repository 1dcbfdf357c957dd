"""A run's ``results.json`` (the worker's :class:`synthtrust.results.RunRecord`) as rows of the module's tables:
the results table, Dice per variant for the plot, and, for a scar sweep, its tidy table and Dice per AHA
segment. The rows, columns and headers are the core's one table definition (:mod:`synthtrust.results.table`);
this module only names what the logic turns into table and plot nodes."""

from __future__ import annotations

from synthtrust.results.table import (
    RESULTS_TABLE,
    SEGMENT,
    descriptions,
    dice_per_segment_rows,
    dice_per_variant_rows,
    results_rows,
    segment_dice,
    sweep_rows,
)

SEGMENT_COLUMN = SEGMENT.header


def column_descriptions() -> dict:
    """Tooltips of the results table: what each column means, T1-T5 with their formulas."""
    return descriptions(RESULTS_TABLE)


__all__ = ["SEGMENT_COLUMN", "column_descriptions", "dice_per_segment_rows", "dice_per_variant_rows", "results_rows",
           "segment_dice", "sweep_rows"]
