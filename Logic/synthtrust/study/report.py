"""The study's pictures and pages: ``curves.png`` (each factor against alpha, with its CI), ``study.csv``
and ``report.html``."""

from __future__ import annotations

import csv
import html
from pathlib import Path

import numpy as np

from synthtrust.trust.factors import TITLES


def _series(by_alpha: list[dict], factor: str) -> dict[str, tuple[list, list, list, list]]:
    """label -> (alphas, values, lows, highs) for one factor (one line per region and test set)."""
    lines: dict[str, tuple[list, list, list, list]] = {}
    for entry in by_alpha:
        for v in entry["trust"]["values"]:
            if v["factor"] != factor:
                continue
            label = f"{v['region']} ({v['test_set']})"
            a, val, lo, hi = lines.setdefault(label, ([], [], [], []))
            a.append(entry["alpha"])
            val.append(np.nan if v["value"] is None else v["value"])
            lo.append(np.nan if v["ci_low"] is None else v["ci_low"])
            hi.append(np.nan if v["ci_high"] is None else v["ci_high"])
    return lines


def draw_curves(by_alpha: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    factors = ("T1", "T2", "T3", "T4", "T5")
    figure, axes = plt.subplots(1, 5, figsize=(22, 4.4))
    for axis, factor in zip(axes, factors, strict=True):
        for label, (alphas, values, lows, highs) in _series(by_alpha, factor).items():
            line, = axis.plot(alphas, values, marker="o", label=label)
            axis.fill_between(alphas, lows, highs, color=line.get_color(), alpha=0.15)
        axis.set_title(f"{factor} {TITLES[factor]}")
        axis.set_xlabel("alpha (fraction of real training cases)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=6)
    figure.suptitle(title + " (shaded: 95 % bootstrap CI)")
    figure.tight_layout()
    figure.savefig(path, dpi=90, format="png")  # the temporary name has no .png
    plt.close(figure)


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _number(value) -> str:
    return "undefined" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.3f}"


def write_html(study: dict, rows: list[dict], curves_name: str, path: Path) -> None:
    """A self-contained page beside curves.png: settings, split, verdicts, the factor table with formulas."""
    escape = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>SynthTrust mixture study</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style></head><body>",
             f"<h1>Mixture study: {escape(study['settings']['task'])}</h1>",
             f"<p>{escape(study['factors']['source'])}. Real data: {escape(str(study['data']['real']['path']))}; "
             f"{len(study['data']['train_patients'])} training and {len(study['data']['test_patients'])} test "
             f"patients; slices per pool: {escape(str(study['data']['slices']))}.</p>",
             f"<img src='{escape(curves_name)}' alt='trust factors against alpha' style='max-width:100%'>",
             "<h2>Findings of the paper, checked here</h2><table><tr><th>finding</th><th>holds</th>"
             "<th>observed</th></tr>"]
    for verdict in study["verdicts"]:
        parts.append(f"<tr><td>{escape(verdict['finding'])}</td><td>{'yes' if verdict['holds'] else 'no'}</td>"
                     f"<td>{escape(verdict['observed'])}</td></tr>")
    parts.append("</table><h2>Factors per alpha</h2><table><tr>" +
                 "".join(f"<th>{escape(k)}</th>" for k in rows[0]) + "</tr>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{escape(_number(v) if isinstance(v, float) or v is None else str(v))}"
                                      "</td>" for v in row.values()) + "</tr>")
    parts.append("</table></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
