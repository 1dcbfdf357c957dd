"""The Slicer extension's packaging: the catalog entry follows the ExtensionsIndex schema and agrees with
the CMake metadata, the module's CMake lists every helper file and keeps the build tree up to date, and the
icon is the size Slicer expects."""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
CATALOG_ENTRY = REPOSITORY / "Resources" / "ExtensionsIndex" / "SynthTrustSlicer.json"
# Properties of slicer-extension-catalog-entry-schema-v1.0.1.json (Slicer/Slicer, Schemas/); the schema
# sets additionalProperties to false, so any other key makes the ExtensionsIndex check fail.
SCHEMA_PROPERTIES = {"$schema", "category", "scm_url", "scm_revision", "scm_type", "build_dependencies",
                     "build_subdirectory", "enabled", "tier"}
SCHEMA_REQUIRED = {"$schema", "category", "scm_url"}


def cmake_variable(name: str) -> str:
    match = re.search(rf'set\({name} "([^"]*)"\)', (REPOSITORY / "CMakeLists.txt").read_text(encoding="utf-8"))
    assert match, f"{name} is not set in the top-level CMakeLists.txt"
    return match.group(1)


def test_catalog_entry_has_only_schema_keys_and_the_required_ones():
    entry = json.loads(CATALOG_ENTRY.read_text(encoding="utf-8"))
    assert set(entry) <= SCHEMA_PROPERTIES
    assert SCHEMA_REQUIRED <= set(entry)
    assert entry["$schema"].endswith("slicer-extension-catalog-entry-schema-v1.0.1.json#")
    assert 1 <= entry["tier"] <= 5


def test_catalog_entry_agrees_with_the_cmake_metadata():
    entry = json.loads(CATALOG_ENTRY.read_text(encoding="utf-8"))
    assert entry["category"] == cmake_variable("EXTENSION_CATEGORY")
    assert entry["build_dependencies"] == cmake_variable("EXTENSION_DEPENDS").split(";")
    assert entry["scm_url"].removesuffix(".git") == cmake_variable("EXTENSION_HOMEPAGE")


def test_module_cmake_lists_every_helper_file():
    listed = set(re.findall(r"\$\{MODULE_NAME\}Lib/(\w+\.py)", (REPOSITORY / "SynthTrustSlicer" / "CMakeLists.txt").read_text(encoding="utf-8")))
    present = {p.name for p in (REPOSITORY / "SynthTrustSlicer" / "SynthTrustSlicerLib").glob("*.py")}
    assert sorted(present - listed) == [], "add these to MODULE_PYTHON_SCRIPTS in SynthTrustSlicer/CMakeLists.txt"
    assert sorted(listed - present) == []


def test_code_that_only_the_readme_figures_and_tests_use_is_not_installed():
    # The headless results picture (scripts/headless_render) serves the README figure and the rendering tests.
    top = (REPOSITORY / "CMakeLists.txt").read_text(encoding="utf-8")
    assert sorted(re.findall(r"install\(DIRECTORY (\S+)", top)) == ["Logic/synthtrust", "Resources"]
    shipped = [*(REPOSITORY / "Logic" / "synthtrust").rglob("*.py"), *(REPOSITORY / "SynthTrustSlicer").rglob("*.py")]
    imports = re.compile(r"^\s*(from|import) headless_render", re.M)
    assert [p.name for p in shipped if imports.search(p.read_text(encoding="utf-8"))] == []
    assert not list((REPOSITORY / "SynthTrustSlicer" / "SynthTrustSlicerLib").glob("render*.py"))


def test_module_icon_is_a_128_pixel_png():
    data = (REPOSITORY / "Resources" / "Icons" / "SynthTrustSlicer.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (128, 128)


def test_module_files_import_no_heavy_package_at_import_time():
    # torch comes through PyTorchUtils and monai after the user agrees: never at module import.
    import ast

    folder = REPOSITORY / "SynthTrustSlicer"
    for path in [folder / "SynthTrustSlicer.py", *sorted((folder / "SynthTrustSlicerLib").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = {a.name.split(".")[0] for n in top if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in top if isinstance(n, ast.ImportFrom)}
        assert not names & {"torch", "monai", "safetensors", "einops"}, path.name


def test_the_build_tree_copy_runs_on_every_build_not_once_at_configure_time():
    text = (REPOSITORY / "SynthTrustSlicer" / "CMakeLists.txt").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert "file(COPY" not in code, "a configure-time copy goes stale when Resources/ or the core is edited"
    target = re.search(r"add_custom_target\(\$\{MODULE_NAME\}BuildTreeFiles ALL(.*?)\)\n", code, re.S)
    assert target and "CMake/SynthTrustCopyToBuildTree.cmake" in target.group(1)
    assert "slicerMacroBuildScriptedModule(" in code and "slicer_add_python_unittest(" in code


def run_copy_script(source: Path, destination: Path) -> None:
    import subprocess

    script = REPOSITORY / "SynthTrustSlicer" / "CMake" / "SynthTrustCopyToBuildTree.cmake"
    subprocess.run(["cmake", f"-DSOURCE_DIR={source}", f"-DDESTINATION_DIR={destination}", "-P", str(script)],
                   check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_the_build_tree_copy_follows_an_edit_and_leaves_out_bytecode(tmp_path):
    import os

    source, build = tmp_path / "checkout", tmp_path / "qt-scripted-modules"
    (source / "Resources" / "UI").mkdir(parents=True)
    (source / "Logic" / "synthtrust" / "__pycache__").mkdir(parents=True)
    ui = source / "Resources" / "UI" / "SynthTrustSlicer.ui"
    ui.write_text("<ui>first</ui>", encoding="utf-8")
    (source / "Logic" / "synthtrust" / "__init__.py").write_text("", encoding="utf-8")
    (source / "Logic" / "synthtrust" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    run_copy_script(source, build)
    copied = build / "SynthTrustSlicer" / "Resources" / "UI" / "SynthTrustSlicer.ui"
    assert copied.read_text(encoding="utf-8") == "<ui>first</ui>" and (build / "synthtrust" / "__init__.py").is_file()
    assert not (build / "synthtrust" / "__pycache__").exists()
    ui.write_text("<ui>edited</ui>", encoding="utf-8")
    stat = ui.stat()
    os.utime(ui, (stat.st_atime, stat.st_mtime + 10))  # an edit made after the first build
    run_copy_script(source, build)
    assert copied.read_text(encoding="utf-8") == "<ui>edited</ui>"
