"""The one command, ``sleep-kd``: it lists every job, each subcommand takes ``--help`` and refuses a bad
option with one line, it is what the installed package runs, and no file of the repository patches
``sys.path``."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from sleep_kd.cli import SUBCOMMANDS, main
from sleep_kd.cli.study import STUDIES
from sleep_kd.cli.train import TrainOptions, resolve, resume_command
from sleep_kd.engine.interrupt import TrainingInterrupted

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("synthesize", "ingest", "split", "train", "evaluate", "predict", "reference", "study")
EVERY_STUDY = ("kd_study", "kd_seeds", "label_budget", "label_budget_figure", "demo_note", "teacher_signal", "at_probe", "relabel_cohort", "study_tables",
               "compare_studies", "results_page", "context", "context_onset")
EVERY_COMMAND = [[name] for name in JOBS] + [["study", name] for name in EVERY_STUDY]


def listed(help_text: str) -> list[str]:
    """The command names of a help text's ``commands:`` block, in order."""
    block = help_text.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    """``main(argv)`` in-process: (exit status, stdout, stderr); ``--help`` ends in SystemExit."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_every_job_and_every_study(capsys):
    code, out, err = run_main(["--help"], capsys)
    assert code == 0 and err == "" and out.startswith("usage: sleep-kd COMMAND [options]")
    assert listed(out) == list(JOBS) == list(SUBCOMMANDS)
    code, out, _ = run_main(["study", "--help"], capsys)
    assert code == 0 and out.startswith("usage: sleep-kd study COMMAND [options]")
    assert listed(out) == list(EVERY_STUDY) == list(STUDIES)


def test_the_help_of_train_names_every_registered_strategy(capsys):
    from sleep_kd.strategies.registry import list_strategies

    _, out, _ = run_main(["--help"], capsys)
    line = next(row for row in out.splitlines() if row.strip().startswith("train "))
    _, train_help, _ = run_main(["train", "--help"], capsys)
    for name in list_strategies(controls=True):
        assert name in line and name in train_help


@pytest.mark.parametrize("words", EVERY_COMMAND, ids=" ".join)
def test_every_subcommand_has_help(words, capsys):
    code, out, err = run_main([*words, "--help"], capsys)
    assert code == 0 and err == "" and out.startswith("usage: ")


@pytest.mark.parametrize("words", EVERY_COMMAND, ids=" ".join)
def test_an_unknown_option_of_a_subcommand_is_one_line_and_exit_2(words, capsys):
    code, out, err = run_main([*words, "--no-such-option"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")  # the option, or a required one missing


def test_the_commands_own_parts_name_it_in_their_errors(capsys):
    code, _, err = run_main(["train", "--strategy", "ecg_base", "--classes", "5"], capsys)
    assert code == 2 and err == "error: sleep-kd train: argument --classes: invalid choice: 5 (choose from 3, 4)\n"
    code, _, err = run_main(["study", "study_tables", "a.json", "b.json"], capsys)
    assert code == 2 and err == "error: sleep-kd study study_tables: unrecognized arguments: b.json\n"


@pytest.mark.parametrize("argv, message", [
    (["nope"], "sleep-kd: argument COMMAND: invalid choice: 'nope' (choose from 'synthesize', 'ingest', 'split', "
               "'train', 'evaluate', 'predict', 'reference', 'study')"),
    ([], "sleep-kd: a command is needed, one of: synthesize, ingest, split, train, evaluate, predict, reference, "
         "study (sleep-kd --help says what each does)"),
    (["study"], "sleep-kd study: a command is needed, one of: " + ", ".join(EVERY_STUDY)
     + " (sleep-kd study --help says what each does)"),
    (["study", "kd-study"], "sleep-kd study: argument COMMAND: invalid choice: 'kd-study' (choose from "
     + ", ".join(f"'{name}'" for name in EVERY_STUDY) + ")"),
])
def test_a_missing_or_unknown_command_is_one_line_and_exit_2(argv, message, capsys):
    code, out, err = run_main(argv, capsys)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_the_installed_package_runs_this_main_as_sleep_kd():
    (script,) = entry_points(group="console_scripts", name="sleep-kd")
    assert script.value == "sleep_kd.cli:main" and script.load() is main


def test_help_answers_without_loading_torch():
    code = "import sys; from sleep_kd.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n" \
           "print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "False"


def test_no_file_of_the_repository_patches_sys_path():
    pattern = re.compile(r"sys\.path\.(insert|append|extend)\b|sys\.path\s*(\+=|=)|site\.addsitedir")
    skipped = {".venv", ".git", "build", "runs", ".cache", "node_modules"}
    offenders = []
    for path in ROOT.rglob("*"):
        if not path.is_file() or skipped & set(path.relative_to(ROOT).parts) or path.suffix not in (".py", ".sh"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                      if pattern.search(line) and path != Path(__file__)]
    assert offenders == []


def test_no_study_or_script_fixes_a_precision():
    """Studies and scripts train in what ``auto`` picks, or in what their user asks: a fixed bf16 runs
    6-14x slower on a CPU without native bf16, and a fixed one of either ignores the machine."""
    fixed = re.compile(r"""mixed_precision\s*=\s*["'](no|bf16|fp16)["']|--mixed-precision["']?[\s,]+["']?(no|bf16|fp16)\b""")
    files = [*(ROOT / "sleep_kd" / "studies").glob("*.py"), *(ROOT / "scripts").glob("*.sh")]
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in files
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if fixed.search(line) and not line.lstrip().startswith("#")]
    assert offenders == []


def test_training_options_are_the_command_line_as_values():
    options = TrainOptions.of("train.lr=3e-4", data=Path("cohort.h5"), cpu=True, epochs=3, seed=None) \
        + TrainOptions.of("loss.sd.alpha=0.9", epochs=5, teacher="runs/eeg_base/best")
    assert options.argv() == ["--data", "cohort.h5", "--cpu", "--epochs", "5", "--teacher", "runs/eeg_base/best",
                              "--set", "train.lr=3e-4", "--set", "loss.sd.alpha=0.9"]
    assert options.layer() == {"data": {"path": "cohort.h5"}, "train": {"epochs": 5, "cpu": True},
                               "paths": {"teacher": "runs/eeg_base/best"}}
    with pytest.raises(TypeError, match=r"unknown training option\(s\) \['lr'\]"):
        TrainOptions.of(lr=3e-4)


def test_options_given_as_values_resolve_as_the_same_command_line_does(tmp_path):
    from sleep_kd.cli.train import build_parser, options_of

    argv = ["--strategy", "kd_temp", "--classes", "3", "--epochs", "2", "--cpu", "--out", str(tmp_path / "run"),
            "--set", "loss.sd.temperature=2"]
    _, from_line = resolve("kd_temp", options_of(build_parser("sleep-kd train").parse_args(argv)))
    _, from_values = resolve("kd_temp", TrainOptions.of("loss.sd.temperature=2", classes=3, epochs=2, cpu=True,
                                                        out=tmp_path / "run"))
    assert from_values == from_line
    assert (from_values["data"]["n_classes"], from_values["train"]["epochs"]) == (3, 2)
    assert from_values["loss"]["sd"]["temperature"] == 2 and from_values["paths"]["out"] == str(tmp_path / "run")


def test_a_run_started_from_python_resumes_with_the_sleep_kd_command(tmp_path, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    stop = TrainingInterrupted(tmp_path / "eeg base", "SIGINT", strategy="eeg_base")
    argv = ["--strategy", "kd_temp", "--cpu"]
    resume, again = (shlex.split(part) for part in resume_command(stop, strategy="kd_temp", argv=argv).split(" && "))
    assert resume[1:] == ["-m", "sleep_kd.cli", "train", "--strategy", "eeg_base", "--resume", str(stop.out)]
    assert again[1:] == ["-m", "sleep_kd.cli", "train", *argv]
