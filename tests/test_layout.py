"""The package's shape (issue 17): imports flow one way through the pipeline's stages, no two modules
import each other (directly or round a loop), each stage imports only what its package's
``__init__`` says it may, no module grows past ``MAX_LINES``, and every data file of the package
ships with it.

Every module is read with ``ast``, imports inside functions included (a lazy import is still a
dependency), so nothing here is imported to be judged.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from locations import ROOT

PACKAGE = ROOT / "voiceguide"
STAGES = ("core", "script", "plan", "voice", "sound", "export")
"""The stage packages, in the pipeline's order; each may import those before it."""
ALLOWED: dict[str, set[str]] = {
    **{stage: set(STAGES[:i]) for i, stage in enumerate(STAGES)},
    "render": set(STAGES),
    "library": {*STAGES, "render"},
    "terminal": set(STAGES),
    "cli": {*STAGES, "render", "library", "terminal"},
    "bench": {*STAGES, "render", "library"},
    "__main__": {"cli"},
}
"""What each stage (a package, or a module at the top) may import besides itself. Any module may
import the top package ``voiceguide`` for what it defines itself (``__version__``): its top level
imports nothing of voiceguide (``test_the_package_itself_imports_nothing_at_its_top_level``)."""

KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}
"""Imports against the pipeline that the code makes, by (stage, module imported), each with why:
none. (The script stage's checks of the files a routine names live in ``script/media.py``.)"""

MAX_LINES = 600
OVER_MAX_LINES: set[str] = set()
"""Modules over ``MAX_LINES`` today (each goes from here when it is under; the test says so): none."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> str:
    """``core`` for ``voiceguide.core.audio``, ``render`` for ``voiceguide.render``; ``voiceguide``
    for the top package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports_of(module: str) -> set[str]:
    """The voiceguide modules ``module`` imports, anywhere in it: for ``from X import name``, the
    module ``X.name`` where there is one, else ``X``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:  # ``import voiceguide.a.b`` of a name inside a module
                name = name.rpartition(".")[0]
            if name.split(".")[0] == "voiceguide" and name != module:
                found.add(name)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def against_the_pipeline() -> dict[tuple[str, str], list[str]]:
    """Every import a stage may not make: by (stage, module imported), the modules that make it."""
    found: dict[tuple[str, str], list[str]] = {}
    for module, targets in GRAPH.items():
        stage = stage_of(module)
        for target in targets:
            if stage_of(target) in (stage, "voiceguide") or stage_of(target) in ALLOWED[stage]:
                continue
            found.setdefault((stage, target), []).append(module)
    return found


def test_every_stage_has_a_rule():
    assert {stage_of(module) for module in MODULES} - {"voiceguide"} == set(ALLOWED)


def test_the_rules_are_what_each_package_says():
    """Each stage package's ``__init__`` docstring ends ``May import: ...``, naming what ``ALLOWED``
    gives it."""
    for stage in (*STAGES, "library"):
        init = PACKAGE / stage / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        says = docstring.split("May import:")[1]
        named = set(re.findall(r"\b(" + "|".join(ALLOWED) + r")\b", says))
        assert named == ALLOWED[stage], f"{init.relative_to(ROOT)} says it may import{says}"


def test_imports_follow_the_pipeline():
    found = against_the_pipeline()
    unexpected = {key: by for key, by in found.items() if key not in KNOWN_EXCEPTIONS}
    assert not unexpected, "\n".join(
        f"{', '.join(by)} ({stage}) imports {target}: {stage} may import "
        + (f"only {', '.join(sorted(ALLOWED[stage]))}" if ALLOWED[stage] else "nothing else of voiceguide")
        for (stage, target), by in sorted(unexpected.items()))
    gone = sorted(set(KNOWN_EXCEPTIONS) - set(found))
    assert not gone, f"no longer imported, so remove them from KNOWN_EXCEPTIONS: {gone}"


def test_no_import_cycles():
    cycles = [a_cycle(GRAPH, group) for group in strongly_connected(GRAPH) if len(group) > 1]
    assert not cycles, "modules that import each other, round a loop:\n" + "\n".join(
        " -> ".join(cycle) for cycle in cycles)


def test_the_package_itself_imports_nothing_at_its_top_level():
    """So every module may import it for ``__version__``, and ``import voiceguide`` stays light
    (its exports are looked up when first used)."""
    assert GRAPH["voiceguide"] == set()


def test_the_top_level_is_the_stages_and_a_few_modules():
    """The listing of ``voiceguide/`` reads as the pipeline: the stage packages, and at most 8
    modules beside them (the front door, the command line, the benchmark, ...)."""
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    modules = [path.name for path in PACKAGE.glob("*.py")]
    assert packages == {*STAGES, "library"}
    assert len(modules) <= 8, modules


def test_no_module_is_too_long():
    lengths = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
               for path in MODULES.values()}
    long = {path: n for path, n in lengths.items() if n > MAX_LINES and path not in OVER_MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
    short = sorted(path for path in OVER_MAX_LINES if lengths.get(path, 0) <= MAX_LINES)
    assert not short, f"now at most {MAX_LINES} lines (or gone), so remove them from OVER_MAX_LINES: {short}"


def test_every_data_file_of_the_package_is_package_data():
    """A file beside the code that is not code (the page's ``library/web/`` files) ships in a
    non-editable install only if ``pyproject.toml`` names it as package data."""
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["tool"]["setuptools"]["package-data"]
    data = [path.relative_to(ROOT) for path in PACKAGE.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc")]
    assert data, "the page's web files are package data"
    for file in data:
        owners = [name for name in declared if file.is_relative_to(name.replace(".", "/"))]
        assert owners, f"{file}: no package-data entry for its package"
        package = max(owners, key=len)
        inside = file.relative_to(package.replace(".", "/"))
        assert any(inside.match(pattern) for pattern in declared[package]), \
            f"{file} is not in pyproject.toml's package-data for {package}"


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for after in sorted(graph.get(node, ())):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in on_stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def a_cycle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """The shortest loop of imports from the first (by name) of ``group``, a strongly connected
    component, back to it: ``[a, b, a]``."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for after in sorted(graph[node] & set(group)):
            if after == start:
                return paths[node] + [start]
            if after not in paths:
                paths[after] = paths[node] + [after]
                queue.append(after)
    raise AssertionError(f"{group} is not strongly connected")


def test_the_walker_sees_a_cycle_and_an_import_against_the_pipeline():
    assert [sorted(g) for g in strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
            if len(g) > 1] == [["a", "b", "c"]]
    assert a_cycle({"a": {"b", "d"}, "b": {"a"}, "d": {"a"}}, ["a", "b", "d"]) == ["a", "b", "a"]
    assert "voiceguide.core.files" in GRAPH["voiceguide.render"]  # from voiceguide.core.files import ...
    assert "voiceguide.voice.phrasing" in GRAPH["voiceguide.render"]  # from voiceguide.voice import phrasing
    assert "voiceguide.library.page" in GRAPH["voiceguide.library.index"]  # inside a function
    assert "voiceguide" in GRAPH["voiceguide.library.build"]  # from voiceguide import __version__
