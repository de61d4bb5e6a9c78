"""Every test the docs point at exists (README, bench/README.md, every page under docs/): a renamed or deleted
test fails here, not silently."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "bench" / "README.md"]


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


REPOSITORY_PATH = re.compile(r"`((?:sleep_kd|tests|bench|scripts|docs|results|configs)/[\w./-]*)(.?)")
LINK = re.compile(r"\]\(([^)#\s]+)")


def test_every_file_and_link_the_docs_name_exists():
    """A path in backticks (``sleep_kd/...``, ``tests/...``) and a relative link name something that is there."""
    missing = []
    for doc in [*DOCS, ROOT / "results" / "README.md"]:
        text = doc.read_text()
        for match in REPOSITORY_PATH.finditer(text):
            path, after = match.group(1).rstrip("."), match.group(2)
            if after not in ("{", "<", "*") and not (ROOT / path).exists():  # a pattern such as compile_{off,on}
                missing.append(f"{doc.relative_to(ROOT)}: {path}")
        for match in LINK.finditer(text):
            target = match.group(1)
            if "://" not in target and not (doc.parent / target).exists():
                missing.append(f"{doc.relative_to(ROOT)}: link {target}")
    assert not missing, "\n".join(missing)


def test_the_readme_layout_map_is_the_layer_order_the_layer_test_checks():
    """The README's layers are the docstring of tests/test_layers.py, word for word."""
    import textwrap

    docstring = ast.get_docstring(ast.parse((ROOT / "tests" / "test_layers.py").read_text()))
    block = docstring.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    layers = textwrap.dedent(block)
    assert f"```\n{layers}\n```" in (ROOT / "README.md").read_text()
