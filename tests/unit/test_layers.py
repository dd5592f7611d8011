"""Imports point one way: down the layers of DESIGN.md ("Layout"), and round no cycle.

Every module under ``src/sageyard`` is parsed with :mod:`ast` (nothing is imported), and
every import it holds counts: at the top, inside functions, and under ``TYPE_CHECKING``.
A type-only import is still a dependency (the importer's signatures name the other
module's types, and mypy and IDEs follow it), so it must point downwards too. A literal
``importlib.import_module("sageyard....")`` counts as well. ``"module:NAME"`` registry
entries are not imports: they are how a lower layer names a higher one without depending
on it (a program's facade class, CONVENTIONS.md "Backends by name"), resolved only when a
caller above asks; names built at run time and lazy ``__getattr__`` tables are not seen.

The layers, top to bottom (packages in one row, separated by ``|``, are peers of one
layer and may import each other, since DESIGN says "its own layer or the ones below")::

    cli | server  >  train  >  tuning | evaluation  >  jobs  >  executors | runtime | programs
                  >  models | ai_registry  >  store | storage  >  core

(``evaluation``, the evaluation pipelines over training jobs, sits beside ``tuning``, the
other service that creates training jobs.) The modules whose paths the real SDK fixes but
which are facade by nature
(``FACADE_BY_PATH``: those under ``core/`` that DESIGN.md names, and ``DataSet``'s module,
which takes a ``Session`` and checks files by the programs' dataset formats as the SDK's
does) and the root ``sageyard/__init__.py`` count as ``train``. ``sageyard.testing`` holds
the conformance suites for tests: it may import anything below ``cli``, and no module
imports it.

Imports that break these rules today are listed in ``KNOWN_VIOLATIONS`` (and cycles in
``KNOWN_CYCLES``), each with the issue-9 item that removes it. The lists only shrink: a
test fails on any new violation, and also on a listed one that no longer occurs.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "sageyard"

#: Bottom to top; the packages of one row are peers.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("store", "storage"),
    ("models", "ai_registry"),
    ("executors", "runtime", "programs"),
    ("jobs",),
    ("tuning", "evaluation"),
    ("train",),
    ("cli", "server"),
)
TESTING = "testing"
TOP = len(LAYERS) - 1

#: Public paths the real SDK fixes whose contents are facade: under ``core`` (DESIGN.md),
#: ``sagemaker.ai_registry.dataset`` and ``.evaluator`` (DataSet, Evaluator: Session-taking
#: public classes that only the facade imports), and ``sagemaker.serve`` (which only says
#: that sageyard does not serve).
FACADE_BY_PATH = (
    "sageyard.core.session",
    "sageyard.core.helper",
    "sageyard.core.resources",
    "sageyard.core.image_uris",
    "sageyard.core.jumpstart",
    "sageyard.core.training",
    "sageyard.core.analytics",
    "sageyard.ai_registry.dataset",
    "sageyard.ai_registry.evaluator",
    "sageyard.serve",
)

#: (importer, imported) pairs that point upward today. Each goes away with the issue-9
#: item named beside it; remove the pair in the same change (the test insists).
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset({})

#: Import cycles today, each as the set of modules of one strongly connected component
#: of the import graph (every import counts, as for the layers: a type-only import back
#: is still a dependency back).
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset(
    {
        # issue 9, the request move (train/_request.py to jobs/request.py): _request and
        # _fine_tuning name ModelTrainer (type-only), ModelTrainer imports _request, and
        # its from_recipe/from_jumpstart import _fine_tuning, which calls _request.
        frozenset(
            {
                "sageyard.train._fine_tuning",
                "sageyard.train._request",
                "sageyard.train.model_trainer",
            }
        ),
        # issue 9, with the request move: the tuning request moves below the facade
        # (tuning/request.py, DESIGN.md); today it names HyperparameterTuner under
        # TYPE_CHECKING, and the tuner imports it.
        frozenset({"sageyard.train._tuning_request", "sageyard.train.tuner"}),
    }
)

FIX = (
    "A module imports only from its own layer or the layers below it (DESIGN.md, Layout). "
    "Move what it needs down to the layer of {importer_layer} or below, or have the higher "
    "layer pass it in (an argument, or a 'module:NAME' entry resolved lazily); list the pair "
    "in KNOWN_VIOLATIONS only with the issue item that removes it."
)


@dataclass(frozen=True)
class Import:
    """One import statement's dependency of ``importer`` on ``imported``."""

    importer: str
    line: int
    imported: str

    @property
    def path(self) -> str:
        return str(source_of(self.importer).relative_to(SRC.parent))


@cache
def modules() -> dict[str, Path]:
    """Every module under src/sageyard by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def source_of(module: str) -> Path:
    return modules()[module]


def _imports_of(module: str) -> Iterator[Import]:
    path = source_of(module)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, _known(alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(
                    module, node.lineno, submodule if submodule in modules() else _known(base)
                )
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(module, node.lineno, _known(node.args[0].value))


def _known(name: str) -> str:
    """``name``, or the longest prefix that is a module here (``import a.b.c`` of a package)."""
    while name not in modules() and "." in name:
        name = name.rpartition(".")[0]
    return name


@cache
def imports() -> tuple[Import, ...]:
    """Every import of one sageyard module by another (an import of itself left out)."""
    found = {
        item
        for module in modules()
        for item in _imports_of(module)
        if item.imported in modules() and item.imported != module
    }
    return tuple(sorted(found, key=lambda item: (item.importer, item.line, item.imported)))


def layer_of(module: str) -> str:
    """The layer's name: its package, ``train`` for the facade by path, or ``testing``."""
    if module == ROOT or any(module == m or module.startswith(m + ".") for m in FACADE_BY_PATH):
        return "train"
    return module.split(".")[1]


def rank_of(layer: str) -> int | None:
    for rank, row in enumerate(LAYERS):
        if layer in row:
            return rank
    return None


def problem(found: Import) -> str | None:
    """Why this import breaks the layering, or ``None`` when it is allowed."""
    low, high = layer_of(found.importer), layer_of(found.imported)
    if high == TESTING:
        return None if low == TESTING else "sageyard.testing is for tests only: nothing imports it"
    imported_rank = rank_of(high)
    if imported_rank is None:
        return None  # reported by test_every_package_has_a_layer
    if low == TESTING:
        if imported_rank < TOP:
            return None
        return f"sageyard.testing may import anything below cli | server, not {high}"
    importer_rank = rank_of(low)
    if importer_rank is None or imported_rank <= importer_rank:
        return None
    return f"layer {low} imports from layer {high}, which is above it"


def violations() -> dict[tuple[str, str], list[Import]]:
    found: dict[tuple[str, str], list[Import]] = {}
    for item in imports():
        if problem(item) is not None:
            found.setdefault((item.importer, item.imported), []).append(item)
    return found


def describe(item: Import) -> str:
    low, high = layer_of(item.importer), layer_of(item.imported)
    return (
        f"{item.path}:{item.line}: {item.importer} (layer {low}) imports {item.imported} "
        f"(layer {high}): {problem(item)}.\n    " + FIX.format(importer_layer=low)
    )


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative: each component with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for successor in edges:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def cycles() -> set[frozenset[str]]:
    graph: dict[str, set[str]] = {module: set() for module in modules()}
    for item in imports():
        graph[item.importer].add(item.imported)
    return {frozenset(component) for component in strongly_connected(graph)}


# -- the tests -----------------------------------------------------------------------------


def test_every_package_has_a_layer() -> None:
    placed = {package for row in LAYERS for package in row} | {TESTING}
    unplaced = sorted(
        module
        for module in modules()
        if module != ROOT and layer_of(module) != "train" and layer_of(module) not in placed
    )
    assert not unplaced, (
        f"{unplaced} belong to no layer: add their package to LAYERS here and to the "
        "Layout of DESIGN.md"
    )


def test_no_import_points_upward() -> None:
    new = [
        item
        for pair, found in sorted(violations().items())
        if pair not in KNOWN_VIOLATIONS
        for item in found
    ]
    assert not new, "Imports against the layers of DESIGN.md:\n" + "\n".join(map(describe, new))


def test_known_violations_still_occur() -> None:
    gone = sorted(KNOWN_VIOLATIONS - violations().keys())
    assert not gone, (
        f"{gone} no longer occur: remove them from KNOWN_VIOLATIONS in "
        "tests/unit/test_layers.py (the list only shrinks)."
    )


def describe_cycle(cycle: frozenset[str]) -> str:
    edges = [
        f"    {item.path}:{item.line}: {item.importer} imports {item.imported}"
        for item in imports()
        if item.importer in cycle and item.imported in cycle
    ]
    return f"{sorted(cycle)}, through:\n" + "\n".join(edges)


def test_no_new_import_cycle() -> None:
    new = sorted(cycles() - KNOWN_CYCLES, key=sorted)
    assert not new, (
        "Import cycles (a module depends on itself through others): "
        + "\n".join(map(describe_cycle, new))
        + "\nBreak each by moving what both sides need into a lower module, or by passing it "
        'in (CONVENTIONS.md, "Dependencies point one way"). If a listed cycle only changed '
        "shape, replace its entry in KNOWN_CYCLES with what is left of it."
    )


def test_known_cycles_still_occur() -> None:
    gone = [sorted(cycle) for cycle in KNOWN_CYCLES - cycles()]
    assert not gone, (
        f"{gone} are no longer import cycles as listed: update KNOWN_CYCLES in "
        "tests/unit/test_layers.py (remove them, or list what is left of them)."
    )


# -- the checker checks itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("sageyard", "train"),
        ("sageyard.core", "core"),
        ("sageyard.core.enums", "core"),
        ("sageyard.core.session", "train"),
        ("sageyard.core.helper.session_helper", "train"),
        ("sageyard.core.sessions_of_mine", "core"),
        ("sageyard.store._sql", "store"),
        ("sageyard.testing", "testing"),
    ],
)
def test_layer_of(module: str, layer: str) -> None:
    assert layer_of(module) == layer


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("sageyard.train.tuner", "sageyard.tuning.service", True),
        ("sageyard.tuning.service", "sageyard.train.tuner", False),
        ("sageyard.executors.local", "sageyard.runtime.layout", True),  # peers
        ("sageyard.runtime.layout", "sageyard.executors", True),  # peers
        ("sageyard.store", "sageyard.core.exceptions", True),
        ("sageyard.store", "sageyard.core.session", False),  # facade in core
        ("sageyard.core.session", "sageyard.storage", True),
        ("sageyard.cli", "sageyard", True),
        ("sageyard.testing", "sageyard.train", True),
        ("sageyard.testing", "sageyard.cli", False),
        ("sageyard.store", "sageyard.testing", False),
    ],
)
def test_problem(importer: str, imported: str, allowed: bool) -> None:
    assert (problem(Import(importer, 1, imported)) is None) is allowed


def test_imports_are_found_wherever_they_are() -> None:
    # A module of this tree whose imports are known: inside a function and TYPE_CHECKING.
    found = {item.imported for item in imports() if item.importer == "sageyard.cli._job_view"}
    assert "sageyard.store" in found  # under TYPE_CHECKING
    assert "sageyard.cli._render" in found  # from-import of a sibling module
    found = {item.imported for item in imports() if item.importer == "sageyard.cli.jobs"}
    assert {"sageyard.cli._job_view", "sageyard.cli._render"} <= found  # inside functions


def test_every_import_form_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tree of its own: relative imports, aliases, a package's own name, import_module and
    # an import inside a function each make an edge (src has no relative imports to show it).
    files = {
        "__init__.py": "",
        "jobs/__init__.py": "",
        "jobs/service.py": "",
        "store/__init__.py": "from .. import jobs\n",
        "store/a.py": "from ..jobs import service\n",
        "store/b.py": "from ..jobs.service import name\n",
        "store/c.py": "import sageyard.jobs.service as s\n",
        "store/d.py": "from sageyard import jobs as j\n",
        "store/e.py": "import importlib\nimportlib.import_module('sageyard.jobs')\n",
        "store/f.py": "def f():\n    from sageyard.jobs import service\n",
    }
    for name, text in files.items():
        path = tmp_path / ROOT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    modules.cache_clear()
    imports.cache_clear()
    try:
        found = {(item.importer, item.imported) for item in imports()}
    finally:
        modules.cache_clear()
        imports.cache_clear()
    jobs, service = "sageyard.jobs", "sageyard.jobs.service"
    assert found == {
        ("sageyard.store", jobs),
        ("sageyard.store.a", service),
        ("sageyard.store.b", service),
        ("sageyard.store.c", service),
        ("sageyard.store.d", jobs),
        ("sageyard.store.e", jobs),
        ("sageyard.store.f", service),
    }


def test_strongly_connected() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
