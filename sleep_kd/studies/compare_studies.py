"""Two kd_study runs of the same folds, paired: B minus A per fold, mean and 95 % t interval.

``sleep-kd study compare_studies A.json B.json [--strategy ecg_base]``

For a change that should not change the science (a faster equivalent form, ``train.compile``):
the same study run twice, once with it, paired by fold and context. Prints, per context, the
validation kappa, the test kappa against the scored and against the true stages (A, B, B - A with
its interval) and the summed training and scoring seconds of each side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import interval, read_result

SCORES = (("validation kappa", lambda r: r["val_kappa"]), ("test kappa", lambda r: r["test"]["kappa"]),
          ("test kappa vs true stages", lambda r: r["test"].get("true_kappa")))


def paired(a: dict, b: dict, strategy: str) -> dict[int, dict]:
    """Per context: ``{score: {"a": mean, "b": mean, "change": interval}, "seconds": (a, b)}``.

    Raises ValueError when the two studies do not hold the same folds of a context.
    """
    table = {}
    for context in sorted({r["context_epochs"] for r in a["rows"]}):
        rows_a, rows_b = ({r["fold"]: r for r in s["rows"] if r["context_epochs"] == context and r["strategy"] == strategy}
                          for s in (a, b))
        if not rows_a or sorted(rows_a) != sorted(rows_b):
            raise ValueError(f"context {context}: folds {sorted(rows_a)} in the first study, {sorted(rows_b)} in the second")
        folds = sorted(rows_a)
        entry = {}
        for name, score in SCORES:
            if any(score(rows_a[f]) is None or score(rows_b[f]) is None for f in folds):
                continue
            entry[name] = {"a": interval([score(rows_a[f]) for f in folds])["mean"],
                           "b": interval([score(rows_b[f]) for f in folds])["mean"],
                           "change": interval([score(rows_b[f]) - score(rows_a[f]) for f in folds])}
        entry["seconds"] = tuple(sum(rows[f].get("fold_seconds", 0.0) for f in folds) for rows in (rows_a, rows_b))
        table[context] = entry
    return table


def render(table: dict[int, dict]) -> str:
    """A markdown table: one row per context."""
    names = [n for n, _ in SCORES if any(n in e for e in table.values())]
    lines = ["| | " + " | ".join(names) + " | seconds (A vs B) |", "| --- " * (len(names) + 2) + "|"]
    for context, entry in table.items():
        cells = []
        for name in names:
            e = entry.get(name)
            cells.append("" if e is None else f"{e['a']:.3f} vs {e['b']:.3f}: {e['change']['mean']:+.3f} "
                                              f"[{e['change']['low']:+.3f}, {e['change']['high']:+.3f}]")
        label = "one window" if context == 0 else f"context {context}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {entry['seconds'][0]:.0f} vs {entry['seconds'][1]:.0f} |")
    return "\n".join(lines)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="sleep-kd study compare_studies", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path, help="the first kd_study result (FILE.json)")
    parser.add_argument("b", type=Path, help="the second, run with the change")
    parser.add_argument("--strategy", default="ecg_base", help="the strategy whose rows are paired")
    args = parser.parse_args(argv)
    a, b = read_result(args.a, keys=("rows",)), read_result(args.b, keys=("rows",))
    rows = a["rows"] if isinstance(a["rows"], list) else []
    strategies = {r.get("strategy") for r in rows if isinstance(r, dict)}
    if args.strategy not in strategies:
        raise InputError(f"--strategy {args.strategy}: {args.a} has no rows of it "
                         f"(it has {', '.join(sorted(map(str, strategies))) or 'none'})")
    try:
        table = paired(a, b, args.strategy)
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{args.a} against {args.b}: {error}") from None
    print(render(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
