"""The one YAML reader of the project: config files, a run's ``config.yaml`` and ``--set`` values.

PyYAML keeps the last of two equal keys in a mapping, so a config file with two ``train:`` blocks
would drop the first block's settings without a word. Here a key given twice in one mapping is
refused, naming the key (dotted, from the top) and both lines. A file that is not UTF-8 text, or
not YAML, is one :class:`~sleep_kd.errors.InputError` line naming the file and the place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sleep_kd.errors import InputError

MERGE_TAG = "tag:yaml.org,2002:merge"  # ``<<: *base`` may repeat keys of the merged mapping on purpose


def load_yaml(text: str, *, where: str, lines: bool = True, prefix: str = "") -> Any:
    """Parse one YAML document, refusing a key given twice in one mapping.

    Parameters
    ----------
    text : the YAML text.
    where : what the text is, for messages ("config file run.yaml", "--set loss.sd").
    lines : name lines in messages (False for one-line texts such as a ``--set`` value).
    prefix : the dotted key the text is the value of (``--set loss.sd={...}``: "loss.sd."), for messages.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_repeated_keys(node, where=where, lines=lines, prefix=prefix, visited=set())
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        raise InputError(f"{where} is not valid YAML: {_first_line(error)}") from None
    finally:
        loader.dispose()


def read_yaml_file(path: str | Path, *, what: str = "config file") -> Any:
    """The YAML document of a file; a missing, unreadable, non-UTF-8 or invalid file is one line naming it."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder, expected a YAML file")
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{what} {path} cannot be read ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (some Windows editors write one) is not content
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise InputError(f"{what} {path} is not UTF-8 text (byte 0x{raw[error.start]:02x} at line {line}); "
                         "save it as UTF-8") from None
    return load_yaml(text, where=f"{what} {path}")


def _refuse_repeated_keys(node: Node, *, where: str, lines: bool, prefix: str, visited: set[int]) -> None:
    """Walk the composed tree (each node once: aliases are not expanded) and refuse a repeated key."""
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_repeated_keys(item, where=where, lines=lines, prefix=f"{prefix.rstrip('.')}[{index}].",
                                  visited=visited)
        return
    if not isinstance(node, MappingNode):
        return
    seen: dict[tuple[str, str], int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG or not isinstance(key_node, ScalarNode):
            continue
        key, line = (key_node.tag, key_node.value), key_node.start_mark.line + 1
        dotted = f"{prefix}{key_node.value}"
        if key in seen:
            place = ("" if not lines else f" on line {line}" if seen[key] == line
                     else f", at lines {seen[key]} and {line}")
            raise InputError(f"{where}: key '{dotted}' is given twice{place}; give each key once "
                             "(the later one would silently replace the earlier)")
        seen[key] = line
        _refuse_repeated_keys(value_node, where=where, lines=lines, prefix=f"{dotted}.", visited=visited)


def _first_line(error: yaml.YAMLError) -> str:
    text = " ".join(str(error).split("\n")[:1]).strip()
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if mark is not None and problem:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return text
