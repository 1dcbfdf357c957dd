"""Every text file the product reads or writes says its encoding: Slicer on Windows defaults to cp1252, and a
library that sets the C locale (seen under slicer-core) makes the default ASCII, while model cards, the metric
catalogue and our JSON hold non-ASCII text."""

from __future__ import annotations

import ast
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def text_io_without_encoding(source: Path) -> list[str]:
    name = source.relative_to(REPOSITORY) if source.is_relative_to(REPOSITORY) else source.name
    found = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or any(k.arg == "encoding" for k in node.keywords):
            continue
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in ("read_text", "write_text"):
            found.append(f"{name}:{node.lineno}")
        elif isinstance(function, ast.Name) and function.id == "open":
            mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            binary = isinstance(mode, ast.Constant) and "b" in str(mode.value)
            if not binary:
                found.append(f"{name}:{node.lineno}")
    return found


def test_every_text_read_and_write_of_the_product_names_utf8():
    sources = [*(REPOSITORY / "Logic").rglob("*.py"), *(REPOSITORY / "SynthTrustSlicer").rglob("*.py")]
    assert len(sources) > 50, "the scan looks in the wrong place"
    unnamed = [place for source in sources for place in text_io_without_encoding(source)]
    assert not unnamed, unnamed


def test_the_scan_finds_an_open_without_encoding(tmp_path):
    sample = tmp_path / "probe.py"
    sample.write_text("open('x')\nopen('y', 'rb')\nPath('z').read_text()\nopen('w', encoding='utf-8')\n",
                      encoding="utf-8")
    assert text_io_without_encoding(sample) == ["probe.py:1", "probe.py:3"]
