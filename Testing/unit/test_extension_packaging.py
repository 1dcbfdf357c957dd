"""The Slicer extension's packaging: the catalog entry follows the ExtensionsIndex schema and agrees with
the CMake metadata, the module's CMake lists every helper file, and the icon is the size Slicer expects."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
CATALOG_ENTRY = REPOSITORY / "Resources" / "ExtensionsIndex" / "SynthTrustSlicer.json"
# Properties of slicer-extension-catalog-entry-schema-v1.0.1.json (Slicer/Slicer, Schemas/); the schema
# sets additionalProperties to false, so any other key makes the ExtensionsIndex check fail.
SCHEMA_PROPERTIES = {"$schema", "category", "scm_url", "scm_revision", "scm_type", "build_dependencies",
                     "build_subdirectory", "enabled", "tier"}
SCHEMA_REQUIRED = {"$schema", "category", "scm_url"}


def cmake_variable(name: str) -> str:
    match = re.search(rf'set\({name} "([^"]*)"\)', (REPOSITORY / "CMakeLists.txt").read_text())
    assert match, f"{name} is not set in the top-level CMakeLists.txt"
    return match.group(1)


def test_catalog_entry_has_only_schema_keys_and_the_required_ones():
    entry = json.loads(CATALOG_ENTRY.read_text())
    assert set(entry) <= SCHEMA_PROPERTIES
    assert SCHEMA_REQUIRED <= set(entry)
    assert entry["$schema"].endswith("slicer-extension-catalog-entry-schema-v1.0.1.json#")
    assert 1 <= entry["tier"] <= 5


def test_catalog_entry_agrees_with_the_cmake_metadata():
    entry = json.loads(CATALOG_ENTRY.read_text())
    assert entry["category"] == cmake_variable("EXTENSION_CATEGORY")
    assert entry["build_dependencies"] == cmake_variable("EXTENSION_DEPENDS").split(";")
    assert entry["scm_url"].removesuffix(".git") == cmake_variable("EXTENSION_HOMEPAGE")


def test_module_cmake_lists_every_helper_file():
    listed = set(re.findall(r"\$\{MODULE_NAME\}Lib/(\w+\.py)", (REPOSITORY / "SynthTrustSlicer" / "CMakeLists.txt").read_text()))
    present = {p.name for p in (REPOSITORY / "SynthTrustSlicer" / "SynthTrustSlicerLib").glob("*.py")}
    assert sorted(present - listed) == [], "add these to MODULE_PYTHON_SCRIPTS in SynthTrustSlicer/CMakeLists.txt"
    assert sorted(listed - present) == []


def test_module_icon_is_a_128_pixel_png():
    data = (REPOSITORY / "Resources" / "Icons" / "SynthTrustSlicer.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (128, 128)


def test_module_files_import_no_heavy_package_at_import_time():
    # torch comes through PyTorchUtils and monai after the user agrees: never at module import.
    import ast

    folder = REPOSITORY / "SynthTrustSlicer"
    for path in [folder / "SynthTrustSlicer.py", *sorted((folder / "SynthTrustSlicerLib").glob("*.py"))]:
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = {a.name.split(".")[0] for n in top if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in top if isinstance(n, ast.ImportFrom)}
        assert not names & {"torch", "monai", "safetensors", "einops"}, path.name
