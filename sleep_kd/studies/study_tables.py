"""Markdown tables of a kd_study result (``sleep-kd study kd_study``): the results pages are this output.

    sleep-kd study study_tables results/kd_study.json
    sleep-kd study study_tables --noise 0.7=results/label_noise/a70.json 0.81=results/kd_study.json ...

``--noise`` gives the label-noise ablation's table: one kd_study JSON per scorer agreement (the
agreement of the scored with the true stages, as ``sleep-kd study relabel_cohort`` set it), KD-Temp
against the same fold's ECG base, against the scored and against the true stages.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import read_result

LABELS = {"eeg_base": "EEG teacher (eeg_base)", "ecg_base": "ECG base", "kd_temp": "KD-Temp (SD+CL)",
          "feat_train": "Feat-Train (AT only)", "feat_temp": "Feat-Temp (AT+SD+CL)", "feat_wce": "Feat-WCE (AT+CL)"}


def cell(entry: dict | None) -> str:
    if not entry:
        return "-"
    if entry["n"] > 1 and entry["high"] == entry["high"]:  # not NaN
        return f"{entry['mean']:+.3f} [{entry['low']:+.3f}, {entry['high']:+.3f}]"
    return f"{entry['mean']:+.3f}"


def mean(entry: dict | None) -> str:
    return f"{entry['mean']:.3f}" if entry else "-"


def worst(entry: dict) -> str:
    """The largest fall below the best validation kappa over the second half of training, over folds."""
    drops = [d for d in entry.get("val_second_half_drop", []) if d == d]  # NaN: no scheduled validation
    return f"{max(drops):.3f}" if drops else "-"


def training_minutes(result: dict) -> float:
    """Minutes the folds took when they were trained (a study run in pieces reuses kept rows)."""
    per_fold = {(r["fold"], r["context_epochs"]): r.get("fold_seconds", 0.0) for r in result["rows"]}
    return max(sum(per_fold.values()), result["seconds"]) / 60


def tables(result: dict) -> str:
    """One table per context length, the reference pipeline's row first."""
    lines = [f"Command: `{result['command']}` ({training_minutes(result):.0f} min of training and scoring; "
             f"{result['machine']['cpu']} ({result['machine'].get('cpu_flags', '')}), "
             f"{result['machine']['cores']} cores); {result['folds']}-fold subject-wise CV on `{result['data']}`, "
             f"{result['epochs']} epochs per run; grid {result['grid'] or 'none'}"
             + ("; every context run's encoder starts from the same fold's one-window run (warm start)"
                if result.get("warm_start") else "") + ".", ""]
    ref = result.get("reference")
    for key, block in result["summary"].items():
        context = int(key.removeprefix("context"))
        title = "one 30-s window" if context == 0 else f"{context} epochs of context ({context / 2:g} min)"
        lines += [f"**{title}** (test folds; mean over folds, change vs the same fold's ECG base with 95 % interval)",
                  "", "| model | kappa | weighted F1 | macro F1 | kappa vs true stages | change in kappa vs ECG base "
                  "| worst second-half drop of validation kappa |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        if ref:
            k = ref["kappa"]
            name = "ecg/context/scored" if context else "ecg/epoch/scored"
            true = k.get(name.replace("scored", "true"))
            where = ", +-5 epochs" if context else ""
            lines.append(f"| reference pipeline (heart-rate features{where}) | {k[name]:.3f} | - | - | "
                         f"{f'{true:.3f}' if true is not None else '-'} | - | - |")
        for strategy, entry in block.items():
            change = entry.get("change_vs_ecg_base", {}).get("kappa")
            if strategy == "ecg_base" and "change_vs_one_window" in entry:
                change_text = f"context vs one window: {cell(entry['change_vs_one_window']['kappa'])}"
            else:
                change_text = cell(change)
            lines.append(f"| {LABELS.get(strategy, strategy)} | {mean(entry.get('kappa'))} | "
                         f"{mean(entry.get('weighted_f1'))} | {mean(entry.get('macro_f1'))} | "
                         f"{mean(entry.get('true_kappa'))} | {change_text} | {worst(entry)} |")
        lines.append("")
        lines += option_table(block)
    return "\n".join(lines)


def option_table(block: dict) -> list[str]:
    """Every tried distillation option's paired change vs the ECG base, on the test folds.

    An analysis of what the option does; the table above keeps the option chosen on validation.
    """
    lines = []
    for strategy, entry in block.items():
        if "per_option" not in entry:
            continue
        lines += [f"{LABELS.get(strategy, strategy)} with each option tried (analysis only; the row above uses the "
                  "option chosen on validation):", "",
                  "| option | validation kappa | change in kappa vs ECG base | change in kappa vs ECG base, true stages |",
                  "| --- | --- | --- | --- |"]
        for option in entry["per_option"]:
            change = option["change_vs_ecg_base"]
            lines.append(f"| {options_text(option['options'])} | {mean(option['val_kappa'])} | "
                         f"{cell(change['kappa'])} | {cell(change.get('true_kappa'))} |")
        lines.append("")
    return lines


def options_text(options: dict) -> str:
    """``{"sd.alpha": "0.9"}`` -> ``alpha=0.9``; no options -> ``defaults``."""
    return ",".join(f"{key.split('.', 1)[1]}={value}" for key, value in options.items()) or "defaults"


def noise_table(studies: list[tuple[str, dict]]) -> str:
    """The label-noise ablation: per agreement and context, ECG base and KD-Temp with paired changes."""
    lines = ["| scorer agreement | context | folds | ECG base kappa | KD-Temp kappa | change vs ECG base "
             "| ECG base kappa vs true | KD-Temp kappa vs true | change vs ECG base, true stages | KD options chosen on validation, per fold |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for agreement, result in studies:
        for key, block in result["summary"].items():
            if "kd_temp" not in block:
                continue
            base, kd = block["ecg_base"], block["kd_temp"]
            change = kd["change_vs_ecg_base"]
            context = int(key.removeprefix("context"))
            chosen = "; ".join(options_text(o) for o in kd["options"])
            lines.append(f"| {agreement} | {'one window' if not context else f'{context} epochs'} | "
                         f"{kd['kappa']['n']} | {mean(base['kappa'])} | {mean(kd['kappa'])} | "
                         f"{cell(change['kappa'])} | {mean(base.get('true_kappa'))} | {mean(kd.get('true_kappa'))} | "
                         f"{cell(change.get('true_kappa'))} | {chosen} |")
    return "\n".join(lines)


def rendered(render, path: Path, *parts) -> str:
    """``render(*parts)``; a result that lacks what the tables read is one line naming the file."""
    try:
        return render(*parts)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise InputError(f"{path}: not a complete kd_study result ({type(error).__name__}: {error})") from None


def agreement_and_path(item: str) -> tuple[str, Path]:
    """``"0.7=results/a70.json"`` -> ``("0.7", Path(...))``; the agreement is a fraction in [0, 1]."""
    agreement, sep, path = item.partition("=")
    try:
        fraction = float(agreement)
    except ValueError:
        fraction = float("nan")
    if not sep or not path or not 0.0 <= fraction <= 1.0:
        raise InputError(f"--noise {item!r}: expected AGREEMENT=FILE.json with an agreement in [0, 1] "
                         "(e.g. 0.7=results/label_noise/a70.json)")
    return agreement, Path(path)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="sleep-kd study study_tables", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("result", nargs="?", type=Path, default=Path("results") / "kd_study.json",
                        help="a kd_study result (default: results/kd_study.json)")
    parser.add_argument("--noise", nargs="+", metavar="AGREEMENT=FILE.json",
                        help="the label-noise table: one kd_study result per scorer agreement")
    args = parser.parse_args(argv)
    if args.noise:
        pairs = [agreement_and_path(item) for item in args.noise]
        studies = [(agreement, read_result(path)) for agreement, path in pairs]
        for (_, path), (agreement, study) in zip(pairs, studies):
            rendered(noise_table, path, [(agreement, study)])
        print(noise_table(studies))
        return 0
    print(rendered(tables, args.result, read_result(args.result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
