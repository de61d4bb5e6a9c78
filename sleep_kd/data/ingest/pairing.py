"""Which scoring file belongs to which recording: one documented rule, for ingest and for predict.

A recording and a scoring file pair when their **night keys** are equal, never by a shared
prefix. The key of a name is its stem, lower-cased, with one documented affix removed:

- recordings: the whole stem, and the stem without a trailing signal token (``<key> PSG``,
  ``<key>-PSG``, ``<key>_PSG``, ``<key>-signals``): ``night3 PSG.edf`` pairs with
  ``night3 PSG.hypnogram.edf`` and with ``night3 Base.edf``;
- scorings: a leading ``Hypnogram_<key>`` (or ``-``, space), or a trailing scoring token,
  ``<key>-Hypnogram``, ``<key>.hypnogram``, ``<key> Base`` (MASS), ``<key>_sleepscoring`` (HMC),
  ``<key>-stages``, ``<key>-annotations``, ``<key>-scoring``, ``<key>-hypno``; a ``.csv`` or
  ``.txt`` scoring may also carry the recording's own stem (``night3.edf`` + ``night3.csv``);
- Sleep-EDF names (``SC4001E0-PSG`` / ``SC4001EC-Hypnogram``, ``ST7011J0`` / ``ST7011JP``): the
  last letter names the file's scorer or version, so the key is the first seven characters.

A recording with no scoring of its key has none; with several, or a scoring whose key is also
another recording's, pairing is refused naming the files (a scoring never serves two nights).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

SIGNAL_TOKENS = ("psg", "signals")
SCORING_TOKENS = ("hypnogram", "hypno", "sleepscoring", "scoring", "base", "annotations", "stages")
TEXT_SUFFIXES = (".csv", ".txt")
_SEPARATOR = r"[\s_\-.]+"
_SLEEP_EDF = re.compile(r"^(s[ct]\d{4}[a-z])[0-9a-z]$")


@dataclass(frozen=True)
class Pairing:
    """A recording's scoring file (None when it has none) or why it cannot have one (``problem``)."""

    scoring: Path | None
    problem: str = ""


def recording_key(path: Path) -> str:
    """Night key of a recording file: ``SC4001E0-PSG.edf`` -> ``sc4001e``, ``01-01-0001 PSG.edf`` -> ``01-01-0001``."""
    stem = path.stem.lower()
    match = re.match(rf"^(.*?){_SEPARATOR}({'|'.join(SIGNAL_TOKENS)})$", stem)
    return _sleep_edf(match.group(1) if match else stem)


def recording_keys(path: Path) -> set[str]:
    """Every key a recording may pair under: :func:`recording_key` and its whole stem, lower-cased."""
    return {recording_key(path), path.stem.lower()}


def scoring_keys(path: Path) -> set[str]:
    """Night keys a scoring file may pair under (its stem without one scoring affix; a text file's stem too)."""
    stem = path.stem.lower()
    keys = set()
    tokens = "|".join(SCORING_TOKENS)
    suffix = re.match(rf"^(.+?){_SEPARATOR}({tokens})$", stem)
    prefix = re.match(rf"^({tokens}){_SEPARATOR}(.+)$", stem)
    if suffix:
        keys.add(suffix.group(1))
    if prefix:
        keys.add(prefix.group(2))
    if path.suffix.lower() in TEXT_SUFFIXES and not (suffix or prefix):
        keys.add(stem)
    return {_sleep_edf(key) for key in keys}


def is_hypnogram_file(path: Path) -> bool:
    """Whether a file is a scoring, not a recording: any ``.csv``/``.txt``, or an EDF whose name holds a
    scoring token anywhere (``SC4001EC-Hypnogram.edf``; it pairs only if the token is an affix)."""
    if path.suffix.lower() in TEXT_SUFFIXES:
        return True
    tokens = set(re.split(r"[^0-9a-z]+", path.stem.lower()))
    return path.suffix.lower() == ".edf" and bool(set(SCORING_TOKENS) & tokens)


def _sleep_edf(key: str) -> str:
    match = _SLEEP_EDF.match(key)
    return match.group(1) if match else key


def pair_scorings(recordings: Sequence[Path], scorings: Sequence[Path]) -> dict[Path, Pairing]:
    """Each recording's :class:`Pairing` among ``scorings`` by the rule in this module's docstring."""
    by_key: dict[str, list[Path]] = {}
    for scoring in scorings:
        for key in scoring_keys(scoring):
            by_key.setdefault(key, []).append(scoring)
    found_for = {recording: sorted({scoring for key in recording_keys(recording) for scoring in by_key.get(key, [])})
                 for recording in recordings}
    users: dict[Path, list[Path]] = {}
    for recording, found in found_for.items():
        for scoring in found:
            users.setdefault(scoring, []).append(recording)
    pairs = {}
    for recording, found in found_for.items():
        key = recording_key(recording)
        if not found:
            pairs[recording] = Pairing(None)
        elif len(found) > 1:
            pairs[recording] = Pairing(None, f"{len(found)} scoring files fit night {key!r}: "
                                             f"{', '.join(p.name for p in found)}; keep one, or list the pair "
                                             "in a --manifest")
        elif len(users[found[0]]) > 1:
            others = sorted(p.name for p in users[found[0]])
            pairs[recording] = Pairing(None, f"scoring file {found[0].name} fits {len(others)} recordings "
                                             f"({', '.join(others)}); one scoring serves one night: rename, or "
                                             "list the pairs in a --manifest")
        else:
            pairs[recording] = Pairing(found[0])
    return pairs
