"""Every test a guarantee in the docs points at exists: a renamed or deleted test fails here, not silently."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "docs" / "guarantees.md", ROOT / "docs" / "precision.md", ROOT / "README.md"]


def named_tests(text: str) -> list[tuple[str, str]]:
    """``(file, test)`` pairs of ``tests/x.py::name`` and the ``::name`` that follow it in one citation."""
    pairs, current = [], None
    for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?", text):
        path, name = match.groups()
        if path:
            current = path
        if name and current:
            pairs.append((current, name))
    return pairs


def functions_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_every_test_the_docs_name_exists():
    missing = []
    cited = 0
    for doc in DOCS:
        if not doc.is_file():
            continue
        for file, name in named_tests(doc.read_text()):
            cited += 1
            path = ROOT / file
            if not path.is_file() or name not in functions_of(path):
                missing.append(f"{doc.name}: {file}::{name}")
    assert cited > 50
    assert not missing, "\n".join(missing)
