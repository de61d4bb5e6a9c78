"""The summary of a kd_study: per context and strategy, means over folds and paired changes."""

from __future__ import annotations

from sleep_kd.studies.common import interval

STUDENTS = ("ecg_base", "kd_temp", "feat_train", "feat_temp", "feat_wce")


def second_half_drop(history: list[float]) -> float:
    """How far the validation kappa fell below its best over the second half of training."""
    if not history:
        return float("nan")
    half = history[len(history) // 2:]
    return max(history) - min(half)


def summarise(rows: list[dict]) -> dict:
    """Per context and strategy: each test score's mean over folds, and the paired change vs ecg_base."""
    summary: dict[str, dict] = {}
    for context in sorted({r["context_epochs"] for r in rows}):
        mine = [r for r in rows if r["context_epochs"] == context]
        base = {r["fold"]: r["test"] for r in mine if r["strategy"] == "ecg_base"}
        block = {}
        for strategy in ("eeg_base", *STUDENTS):
            runs = sorted((r for r in mine if r["strategy"] == strategy), key=lambda r: r["fold"])
            if runs:
                block[strategy] = strategy_entry(strategy, runs, base)
        summary[f"context{context}"] = block
    contexts = sorted({r["context_epochs"] for r in rows})
    if 0 in contexts and len(contexts) > 1:  # the context student against the one-window student, paired by fold
        one = {r["fold"]: r["test"] for r in rows if r["context_epochs"] == 0 and r["strategy"] == "ecg_base"}
        for context in contexts[1:]:
            runs = [r for r in rows if r["context_epochs"] == context and r["strategy"] == "ecg_base"]
            summary[f"context{context}"]["ecg_base"]["change_vs_one_window"] = {
                k: interval([r["test"][k] - one[r["fold"]][k] for r in runs]) for k in runs[0]["test"]}
    return summary


def strategy_entry(strategy: str, runs: list[dict], base: dict[int, dict]) -> dict:
    """One strategy's block of the summary: its runs (one per fold) against the folds' ecg_base (``base``)."""
    keys = list(runs[0]["test"])
    entry = {k: interval([r["test"][k] for r in runs]) for k in keys}
    if strategy not in ("ecg_base", "eeg_base"):
        entry["change_vs_ecg_base"] = {k: interval([r["test"][k] - base[r["fold"]][k] for r in runs]) for k in keys}
    entry["options"] = [r["options"] for r in runs]
    if strategy != "ecg_base" and all("tried" in r for r in runs):
        entry["per_option"] = per_option(runs, base)
    # The recipe's stability: how far validation kappa falls below its best over the second half of training.
    entry["val_second_half_drop"] = [second_half_drop(r.get("val_history", [])) for r in runs]
    return entry


def per_option(runs: list[dict], base: dict[int, dict]) -> list[dict]:
    """Each tried option's paired change against the fold's ecg_base (test subjects, every fold).

    An analysis of what the option does, not a result: the result is the option chosen on
    validation. Options are matched by value across folds.
    """
    table = []
    for options in [c["options"] for c in runs[0]["tried"]]:
        tests = [next(c["test"] for c in r["tried"] if c["options"] == options) | {"fold": r["fold"]} for r in runs]
        table.append({"options": options,
                      "val_kappa": interval([next(c["val_kappa"] for c in r["tried"] if c["options"] == options)
                                             for r in runs]),
                      "change_vs_ecg_base": {k: interval([t[k] - base[t["fold"]][k] for t in tests])
                                             for k in runs[0]["test"]}})
    return table
