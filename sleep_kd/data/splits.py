"""Train/validation/test splits by subject: a subject's nights never straddle two splits.

Three methods:

- ``original`` (old name ``seed``, still accepted): the original system's rule. Per subset
  (SS1, SS3, then SS2, SS4, SS5, then any other subset sorted), the subset's sorted subjects are
  shuffled in turn after one ``random.seed``; train = first ``int(0.8 n)``, val = up to ``int(0.9 n)``, test = the rest. With MASS's
  53/19/62/40/26 subjects this gives 158/20/22.
- ``pooled``: the same fractions over all subjects at once (small cohorts, where per-subset
  truncation would leave validation empty).
- ``kfold``: subjects shuffled into ``k`` folds; test = fold ``fold``, val = the next fold, train = the rest.

``python -m sleep_kd.data.splits FILE.h5 --method original`` prints the split and saves it as
``FILE.splits-original.json`` next to the cohort (``--out FILE.json`` elsewhere). Training never
writes beside the cohort (its folder may be read-only): a run keeps its split in its run folder
and in every checkpoint.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from sleep_kd.choices import SEED_ALIASES as METHOD_ALIASES  # the old name of "original"
from sleep_kd.choices import SPLIT_METHODS as METHODS  # the config's words, listed once
from sleep_kd.data import cohort_file as store
from sleep_kd.errors import ArgumentParser, InputError, cli_entry

SUBSET_ORDER = ("SS1", "SS3", "SS2", "SS4", "SS5")
TRAIN_FRACTION, VAL_END_FRACTION = 0.8, 0.9
SPLITS = ("train", "val", "test")


def _cut(subjects: list[str]) -> tuple[list[str], list[str], list[str]]:
    n = len(subjects)
    a, b = int(TRAIN_FRACTION * n), int(VAL_END_FRACTION * n)
    return subjects[:a], subjects[a:b], subjects[b:]


def _subset_order(subsets) -> list[str]:
    known = [s for s in SUBSET_ORDER if s in subsets]
    return known + sorted(s for s in subsets if s not in SUBSET_ORDER)


def original_split(subjects_by_subset: dict[str, list[str]], *, seed: int = 42) -> dict[str, list[str]]:
    """The original per-subset split of subjects (one ``random.seed``, a shuffle per subset)."""
    rng = random.Random(seed)  # same stream as random.seed(seed) + random.shuffle, without global state
    parts = {name: [] for name in SPLITS}
    for subset in _subset_order(subjects_by_subset):
        subjects = sorted(subjects_by_subset[subset])
        rng.shuffle(subjects)
        for name, chunk in zip(SPLITS, _cut(subjects)):
            parts[name] += chunk
    return parts


def pooled_split(subjects: list[str], *, seed: int = 42) -> dict[str, list[str]]:
    """80/10/10 of all subjects shuffled together."""
    shuffled = sorted(subjects)
    random.Random(seed).shuffle(shuffled)
    return dict(zip(SPLITS, _cut(shuffled)))


def kfold_split(subjects: list[str], *, k: int, fold: int, seed: int = 42) -> dict[str, list[str]]:
    """Fold ``fold`` of ``k``: test = that fold, val = the next one, train = the other ``k - 2``."""
    if k < 3 or not 0 <= fold < k:
        raise InputError(f"kfold needs k >= 3 and 0 <= fold < k, got k={k}, fold={fold}")
    if k > len(subjects):  # some folds would be empty: a study would stop at the first of them
        raise InputError(f"kfold with k={k} folds needs at least {k} subjects, one per fold, got {len(subjects)}")
    shuffled = sorted(subjects)
    random.Random(seed).shuffle(shuffled)
    folds = [shuffled[i::k] for i in range(k)]
    val_fold = (fold + 1) % k
    train = [s for i, f in enumerate(folds) if i not in (fold, val_fold) for s in f]
    return {"train": train, "val": folds[val_fold], "test": folds[fold]}


def _cohort_subjects(h5_path: Path) -> dict[str, tuple[str, str]]:
    """recording id -> (subject, subset), from the cohort's recording attributes."""
    with store.open_cohort(h5_path) as handle:
        table = {}
        for rid in store.recording_ids(handle):
            attrs = store.recording_attrs(handle, rid)
            table[rid] = (str(attrs.get("subject", rid)), str(attrs.get("subset", "")))
    return table


def split_file(h5_path, *, method: str, k: int = 5, fold: int = 0) -> Path:
    """Where a split is saved: ``FILE.splits-<method>.json`` (kfold: ``FILE.splits-kfold<k>-<fold>.json``)."""
    h5_path = Path(h5_path)
    tag = f"kfold{k}-{fold}" if method == "kfold" else method
    return h5_path.with_name(f"{h5_path.stem}.splits-{tag}.json")


def make_splits(h5_path, *, method: str = "original", seed: int = 42, k: int = 5, fold: int = 0,
                save_to: str | Path | None = None) -> dict:
    """Split a cohort file's recordings by subject (and save the JSON at ``save_to``, if given).

    Returns
    -------
    dict
        ``train``, ``val``, ``test`` (sorted recording ids), ``method``, ``seed`` (and ``k``,
        ``fold`` for kfold).
    """
    method = METHOD_ALIASES.get(method, method)
    if method not in METHODS:
        raise InputError(f"split method {method!r}: expected one of {', '.join(METHODS)}")
    table = _cohort_subjects(Path(h5_path))
    subjects = sorted({subject for subject, _ in table.values()})
    if method == "original":
        by_subset: dict[str, set[str]] = {}
        for rid in sorted(table):
            subject, subset = table[rid]
            # A subject seen in several subsets stays with the first one (sorted recording order).
            if not any(subject in group for group in by_subset.values()):
                by_subset.setdefault(subset, set()).add(subject)
        parts = original_split({s: sorted(g) for s, g in by_subset.items()}, seed=seed)
    elif method == "pooled":
        parts = pooled_split(subjects, seed=seed)
    else:
        if k > len(subjects):
            raise InputError(f"{h5_path}: kfold with {k} folds (data.folds) needs at least {k} subjects, one per "
                             f"fold; the cohort has {len(subjects)}")
        parts = kfold_split(subjects, k=k, fold=fold, seed=seed)
    for name in SPLITS:
        if not parts[name]:
            hint = "try --method pooled or more subjects" if method == "original" else "it needs more subjects"
            raise InputError(
                f"{h5_path}: the {method} split leaves {name} empty with {len(subjects)} subjects "
                f"({', '.join(f'{n} {len(parts[n])}' for n in SPLITS)}); {hint}"
            )
    result = {name: sorted(rid for rid in table if table[rid][0] in set(parts[name])) for name in SPLITS}
    result.update(method=method, seed=seed)
    if method == "kfold":
        result.update(k=k, fold=fold)
    if save_to is not None:
        Path(save_to).write_text(json.dumps(result, indent=1) + "\n")
    return result


def unscored_in_cohort(h5_path) -> set[str]:
    """Recordings the cohort file stores as nights nobody scored (``ingest --unscored``)."""
    with store.open_cohort(Path(h5_path)) as handle:
        return {rid for rid in store.recording_ids(handle)
                if not bool(store.recording_attrs(handle, rid).get("scored", True))}


def scored_subjects(h5_path, train: list[str], *, count: int, seed: int) -> list[str]:
    """The ``count`` training subjects whose stages a run keeps (``data.scored_subjects``), sorted.

    The training split's subjects are shuffled once by ``seed`` (the split seed) and the first
    ``count`` kept, so the sets are nested: the 2 scored subjects are among the 4, the 4 among the
    8. ``count`` 0 keeps every subject; more than the split holds is refused.
    """
    table = _cohort_subjects(Path(h5_path))
    nobody = unscored_in_cohort(h5_path)
    subjects = sorted({table[rid][0] for rid in train if rid not in nobody})
    if count == 0:
        return subjects
    if count > len(subjects):
        raise InputError(f"config key 'data.scored_subjects' is {count}, more than the {len(subjects)} subjects of "
                         f"the training split of {h5_path}; allowed: 0 (all) to {len(subjects)}")
    order = list(subjects)
    random.Random(f"scored-subjects-{seed}").shuffle(order)
    return sorted(order[:count])


def validation_subset(h5_path, val: list[str], *, count: int, seed: int) -> list[str]:
    """The validation recordings of ``count`` of the validation split's subjects (``data.val_subjects``).

    The subjects are shuffled once by ``seed`` (the split seed) and the first ``count`` kept, so a
    smaller subset is inside a larger one. ``count`` 0, or at least the split's subjects, keeps them all.
    Validation picks the best epoch and the distillation options; a subset makes it cheaper on a
    large cohort and never touches the test split.
    """
    if count == 0:  # the default: no pass over the cohort's recording attributes
        return list(val)
    table = _cohort_subjects(Path(h5_path))
    subjects = sorted({table[rid][0] for rid in val})
    if count >= len(subjects):
        return list(val)
    order = list(subjects)
    random.Random(f"val-subjects-{seed}").shuffle(order)
    keep = set(order[:count])
    return [rid for rid in val if table[rid][0] in keep]


def unscored_recordings(h5_path, train: list[str], scored: list[str]) -> list[str]:
    """Training recordings used as nights nobody scored, sorted: those of the subjects not in
    ``scored``, and those the cohort stores unscored."""
    table = _cohort_subjects(Path(h5_path))
    keep, nobody = set(scored), unscored_in_cohort(h5_path)
    return sorted(rid for rid in train if table[rid][0] not in keep or rid in nobody)


@cli_entry
def main(argv: list[str] | None = None, *, prog: str = "python -m sleep_kd.data.splits") -> int:
    parser = ArgumentParser(prog=prog, description="Split a cohort file's recordings by subject.")
    parser.add_argument("cohort", help="cohort HDF5 file")
    parser.add_argument("--method", choices=(*METHODS, *METHOD_ALIASES), default="original")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--k", type=int, default=5, help="kfold: number of folds")
    parser.add_argument("--fold", type=int, default=0, help="kfold: which fold is the test set")
    parser.add_argument("--out", help="where to save the split (default: FILE.splits-<method>.json beside the cohort)")
    args = parser.parse_args(argv)
    method = METHOD_ALIASES.get(args.method, args.method)
    target = Path(args.out) if args.out else split_file(args.cohort, method=method, k=args.k, fold=args.fold)
    if target.is_dir() or not target.parent.is_dir():
        raise InputError(f"--out {target}: expected a file name in a folder that exists")
    result = make_splits(args.cohort, method=method, seed=args.seed, k=args.k, fold=args.fold, save_to=target)
    for name in SPLITS:
        print(f"{name}: {len(result[name])} recordings: {' '.join(result[name])}")
    print(f"saved {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
