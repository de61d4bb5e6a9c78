"""The package's imports only point down its layers, and no module imports itself in a circle.

Every ``import`` and ``from ... import`` of every module under ``sleep_kd/`` counts, at module level
or inside a function (a function-level import is still a dependency, only a later one). The layers,
lowest first (the README's layout map shows the same table)::

    foundation   sleep_kd.errors, .registry (one Registry type), .choices (the config's choice
                 lists), .hardware (native bf16, the precision auto settles to), .allocator
    data         sleep_kd.data: stages, the cohort file, resampling, windows and sequences, splits,
                 ingest (sources, EDF, hypnograms), the synthetic cohort
    baselines    sleep_kd.baselines: the reference pipeline (features + logistic regression) and its
                 calibration probe of simulated nights; reads the data, knows no learned model
    models       sleep_kd.models: U-Time, the night-context network, their presets
    fast forms   sleep_kd.fast: for_scoring / for_training, faster forms built from the plain models
    losses       sleep_kd.losses: the loss terms, one signature
    strategies   sleep_kd.strategies: strategies as data, the step that computes their losses
    metrics      sleep_kd.metrics: scores, figures and embeddings of scored epochs
    engine       sleep_kd.engine: config and schema, the training loop, checkpoints, runs, outputs
    evaluation   sleep_kd.evaluation: scoring a checkpoint on a cohort, reports, comparisons
    predict      sleep_kd.predict: staging new EDF nights and writing their files
    commands     sleep_kd.cli (the sleep-kd command), sleep_kd.studies (the studies)

A module may import from its own layer and from any layer below it, never from one above.
Importing ``a.b.c`` also runs the package ``a.b``'s ``__init__``; that implicit edge is not
counted (a package that re-exports its modules is not a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sleep_kd"

# Lowest first. A module belongs to the layer of the longest name here that is it or a package above it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("sleep_kd", "sleep_kd.errors", "sleep_kd.registry", "sleep_kd.choices", "sleep_kd.hardware",
                    "sleep_kd.allocator")),
    ("data", ("sleep_kd.data",)),
    ("baselines", ("sleep_kd.baselines",)),
    ("models", ("sleep_kd.models",)),
    ("fast forms", ("sleep_kd.fast",)),
    ("losses", ("sleep_kd.losses",)),
    ("strategies", ("sleep_kd.strategies",)),
    ("metrics", ("sleep_kd.metrics",)),
    ("engine", ("sleep_kd.engine",)),
    ("evaluation", ("sleep_kd.evaluation",)),
    ("predict", ("sleep_kd.predict",)),
    ("commands", ("sleep_kd.cli", "sleep_kd.studies", "sleep_kd.__main__")),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that module ``name`` (the file ``path``) imports."""
    return imports_in(name, path.read_text(), known, is_package=path.name == "__init__.py")


def imports_in(name: str, source: str, known: set[str], *, is_package: bool = False) -> set[str]:
    """The modules of ``known`` that the source text of module ``name`` imports, at module level or
    inside a function."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package, up level - 1
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import thing`` the module mod.
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:  # ``import a.b.thing`` -> a.b
                target = target.rsplit(".", 1)[0]
            if target in known and target != name:
                found.add(target)
    return found


def layer_of(name: str) -> int | None:
    """The index in :data:`LAYERS` of the module ``name``'s layer, or None when no entry covers it."""
    best, depth = None, -1
    for index, (_, names) in enumerate(LAYERS):
        for listed in names:
            covers = name == listed or (listed != "sleep_kd" and name.startswith(listed + "."))
            if covers and listed.count(".") > depth:
                best, depth = index, listed.count(".")
    return best


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def test_every_module_of_the_package_has_a_layer(graph):
    assert [name for name in graph if layer_of(name) is None] == []


def test_no_module_imports_from_a_higher_layer(graph):
    upward = [f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
              for name, targets in sorted(graph.items()) for target in sorted(targets)
              if layer_of(name) is not None and layer_of(target) is not None and layer_of(target) > layer_of(name)]
    assert upward == []


def test_the_package_has_no_import_cycle(graph):
    assert import_cycles(graph) == []


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan), sorted: every import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_the_checks_see_an_upward_import_in_a_function_and_a_cycle():
    """The walker itself: a function-level import counts, relative imports resolve, a circle is found."""
    known = {"sleep_kd.engine.figures", "sleep_kd.engine.outputs", "sleep_kd.predict.writers"}
    source = "from .outputs import atomic_path\n\ndef f():\n    from sleep_kd.predict import writers\n"
    assert imports_in("sleep_kd.engine.figures", source, known) == {"sleep_kd.engine.outputs", "sleep_kd.predict.writers"}
    assert layer_of("sleep_kd.predict.writers") > layer_of("sleep_kd.engine.figures")
    assert layer_of("sleep_kd.fast.scoring.utime") == layer_of("sleep_kd.fast")
    assert layer_of("sleep_kd.evaluation") is not None and layer_of("sleep_kd.everything") is None
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
