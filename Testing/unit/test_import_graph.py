"""The project's own imports, read from the source (``ast``, imports inside functions included), show three
layers in one direction: core (``Logic/synthtrust`` without ``scene``) <- MRML adapter (``synthtrust.scene``)
<- panel (``SynthTrustSlicer/``, and beside it the core's own front ends, the CLI and the demo); no cycle
between our modules or our packages; heavy third-party packages imported lazily where the panel's start-up
would reach them; and every helper file of the module used by it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
CORE_ROOT = REPOSITORY / "Logic"
PANEL_ROOT = REPOSITORY / "SynthTrustSlicer"
MODULE_FILE = "SynthTrustSlicer"
# Installed into Slicer on the user's say-so (PyTorchUtils, pip), so never on the start-up path.
# (Slicer bundles numpy, scipy, SimpleITK and VTK: those may load at start-up.)
HEAVY = {"torch", "monai", "safetensors", "einops", "nilearn", "yaml"}
# The core's own front ends sit beside the panel, above the adapter: the CLI and the demo write scene bundles.
FRONT_ENDS = ("synthtrust.cli", "synthtrust.demo", "synthtrust.demo_outputs", "synthtrust.__main__")
GUI = {"qt", "ctk", "PySide6", "PythonQt"}


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    imports: set[str] = field(default_factory=set)  # every import, anywhere in the file
    start_up: set[str] = field(default_factory=set)  # what runs when the file is imported


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def collect_modules() -> dict[str, Module]:
    files = [(p, CORE_ROOT) for p in (CORE_ROOT / "synthtrust").rglob("*.py")]
    files += [(PANEL_ROOT / f"{MODULE_FILE}.py", PANEL_ROOT)]
    files += [(p, PANEL_ROOT) for p in (PANEL_ROOT / f"{MODULE_FILE}Lib").glob("*.py")]
    modules = {}
    for path, root in files:
        name, is_package = module_name(path, root)
        modules[name] = Module(name, path, is_package)
    return modules


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_nodes(body: list[ast.stmt], at_start_up: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement with whether it runs when the file is imported (module and class bodies,
    not function bodies, not ``if TYPE_CHECKING:`` blocks)."""
    for statement in body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            yield statement, at_start_up
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from import_nodes(statement.body, False)
        elif isinstance(statement, ast.If) and is_type_checking(statement):
            yield from import_nodes(statement.body, False)
            yield from import_nodes(statement.orelse, at_start_up)
        else:
            # Class bodies, try/except/else/finally, with, for, while and other if blocks run on import.
            for child_body in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(statement, child_body, None)
                if isinstance(children, list):
                    yield from import_nodes(children, at_start_up)


def targets(statement: ast.stmt, module: Module, modules: dict[str, Module]) -> set[str]:
    """The modules an import names: ours by full name, third-party ones by their top-level name."""
    if isinstance(statement, ast.Import):
        names = [alias.name for alias in statement.names]
    else:
        base = statement.module or ""
        if statement.level:
            package = module.name if module.is_package else module.name.rpartition(".")[0]
            for _ in range(statement.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in statement.names]
    found = set()
    for name in names:
        while name not in modules and "." in name and name.split(".")[0] in {"synthtrust", f"{MODULE_FILE}Lib"}:
            name = name.rpartition(".")[0]
        found.add(name if name in modules else name.split(".")[0])
    return found


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    modules = collect_modules()
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        for statement, at_start_up in import_nodes(tree.body, True):
            names = targets(statement, module, modules)
            module.imports |= names
            if at_start_up:
                module.start_up |= names
    return modules


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def layer(name: str) -> str:
    if within(name, "synthtrust.scene"):
        return "adapter"
    if any(within(name, front_end) for front_end in FRONT_ENDS):
        return "front end"
    if within(name, "synthtrust"):
        return "core"
    return "panel"


RANK = {"core": 0, "adapter": 1, "front end": 2, "panel": 2}


def package_of(module: Module) -> str:
    """The unit a package cycle is counted between: a top-level package or module of the core
    (``synthtrust.synthesis`` with its ``diffusion``), the module's helper package, the module file."""
    parts = module.name.split(".")
    return ".".join(parts[:2]) if parts[0] == "synthtrust" else parts[0]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as the list of its nodes, first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return path[path.index(successor):] + [successor]
            if successor not in state:
                cycle = visit(successor)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_reader_finds_imports_inside_functions_relative_imports_and_type_checking_blocks(tmp_path):
    source = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nimport numpy\n"
              "if TYPE_CHECKING:\n    import torch\ntry:\n    import yaml\nexcept ImportError:\n    import json\n"
              "def f():\n    from . import sibling\n    import monai\n"
              "class C:\n    import vtk\n    def g(self):\n        from .sibling import thing\n")
    module = Module("synthtrust.pkg.mod", tmp_path / "mod.py", False)
    known = {"synthtrust.pkg.sibling": None, "synthtrust.pkg": None, "synthtrust.pkg.mod": module}
    start_up, anywhere = set(), set()
    for statement, at_start_up in import_nodes(ast.parse(source).body, True):
        names = targets(statement, module, known)
        anywhere |= names
        start_up |= names if at_start_up else set()
    assert start_up == {"__future__", "typing", "numpy", "yaml", "json", "vtk"}
    assert anywhere - start_up == {"torch", "synthtrust.pkg.sibling", "monai"}


def test_the_core_never_imports_the_adapter_or_a_front_end_and_the_adapter_never_imports_either(modules):
    upward = []
    for module in modules.values():
        for target in module.imports & modules.keys():
            if RANK[layer(target)] > RANK[layer(module.name)]:
                upward.append(f"{module.name} -> {target}")
    assert upward == []


def test_only_the_adapter_imports_slicer_and_vtk_and_no_core_file_imports_a_gui_toolkit(modules):
    for module in modules.values():
        if layer(module.name) == "core":
            assert not module.imports & ({"slicer", "vtk"} | GUI), module.name
        if layer(module.name) == "adapter":
            assert not module.imports & GUI, module.name


def test_no_cycle_between_our_modules_counting_imports_inside_functions(modules):
    graph = {name: module.imports & modules.keys() - {name} for name, module in modules.items()}
    assert find_cycle(graph) is None


def test_no_cycle_between_our_packages(modules):
    graph: dict[str, set[str]] = {}
    for module in modules.values():
        source = package_of(module)
        for target in module.imports & modules.keys():
            destination = package_of(modules[target])
            if destination != source:
                graph.setdefault(source, set()).add(destination)
    # The training package sits above both segmentation and synthesis (its data uses the template engine,
    # the engines use segmenters): the edges the cut produced, so a move back would show here.
    assert {"synthtrust.segmentation", "synthtrust.synthesis"} <= graph["synthtrust.training"]
    assert "synthtrust.segmentation" in graph["synthtrust.synthesis"]
    assert find_cycle(graph) is None


def start_up_closure(modules: dict[str, Module]) -> set[str]:
    """Our modules that run when Slicer loads the module file (parent packages included)."""
    seen, todo = set(), [MODULE_FILE]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo += [n for n in (modules[name].start_up & modules.keys()) | set(parents) if n in modules]
    return seen


def test_slicer_loading_the_module_imports_no_heavy_package(modules):
    closure = start_up_closure(modules)
    assert {"SynthTrustSlicerLib.logic", "synthtrust.scene"} <= closure, "the reader missed the module's imports"
    heavy = sorted(f"{name} imports {sorted(modules[name].start_up & HEAVY)}" for name in closure
                   if modules[name].start_up & HEAVY)
    assert heavy == [], "import these inside the functions that need them"


def test_every_helper_file_of_the_module_is_used_by_the_module(modules):
    seen, todo = set(), [MODULE_FILE]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [n for n in modules[name].imports & modules.keys() if layer(n) == "panel"]
    helpers = {name for name in modules if name.startswith(f"{MODULE_FILE}Lib.")}
    assert sorted(helpers - seen) == [], "unused by the module: move to scripts/ or Testing/, or delete"
