"""A self-contained HTML report: slice views, metric tables and trust tables, with the formulas."""

from __future__ import annotations

import html
from pathlib import Path

from synthtrust.imaging.io import atomic_path

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}
td.text{text-align:left}.pass{color:#0a0;font-weight:bold}.fail{color:#c00;font-weight:bold}
.note{color:#555;font-size:0.9em}img{max-width:100%}
"""


def _cell(value) -> str:
    if isinstance(value, bool):
        css = "pass" if value else "fail"
        return f'<td class="{css}">{"pass" if value else "fail"}</td>'
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>"
    if isinstance(value, int):
        return f"<td>{value}</td>"
    return f'<td class="text">{html.escape(str(value))}</td>'


def table(rows: list[dict], columns: list[str] | None = None, titles: dict[str, str] | None = None) -> str:
    """An HTML table of ``rows``; ``titles`` become header tooltips (e.g. formulas, units)."""
    if not rows:
        return '<p class="note">(no rows)</p>'
    columns = columns or list(rows[0])
    titles = titles or {}
    head = "".join(f'<th title="{html.escape(titles.get(c, ""))}">{html.escape(c)}</th>' for c in columns)
    body = "".join("<tr>" + "".join(_cell(row.get(c, "")) for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(path: str | Path, title: str, sections: list[tuple[str, str]], footer: str = "") -> Path:
    """Write ``sections`` (heading, HTML body) as one page, atomically."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>{body}")
    parts.append(f'<p class="note">{footer}</p></body></html>')
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text("\n".join(parts), encoding="utf-8")
    return path
