"""Every entry point checks its arguments before the work: ``--help`` exits 0, a bad argument is one
line and exit 2 before anything is trained, read or written, every option works for every model
the project trains (``evaluate.py --figures`` on a context checkpoint), and the resume line an
interrupted run prints is a command that works as printed.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import evaluate
import train_loop
from sleep_kd.engine.interrupt import TrainingInterrupted
from sleep_kd.errors import InputError
from tests.reliability.conftest import TINY_MODEL, run_cli, snapshot, train_argv
from tests.reliability.test_bad_run_inputs import one_line

from sleep_kd.studies import compare_studies, kd_seeds, kd_study, relabel_cohort, study_tables, teacher_signal

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ("kd_study", "study_tables", "compare_studies", "kd_seeds", "teacher_signal", "at_probe", "relabel_cohort",
           "label_budget", "context", "context_onset", "reference")
ENTRY_POINTS = ["train_loop.py", "evaluate.py", *(f"-m sleep_kd.studies.{name}" for name in STUDIES),
                "-m sleep_kd.predict", "-m sleep_kd.data.synthetic",
                "-m sleep_kd.data.ingest", "-m sleep_kd.data.splits", "-m sleep_kd.cli"]


def fill(argv, tmp: Path) -> list[str]:
    """Arguments with ``{tmp}`` replaced by the test's folder (other braces, YAML's, kept)."""
    return [str(a).replace("{tmp}", str(tmp)) for a in argv]


def run(command: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *command.split(), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("command", ENTRY_POINTS)
def test_help_exits_0_and_an_unknown_option_is_one_line_and_exit_2(command):
    helped = run(command, "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: ") and helped.stderr == ""
    bad = run(command, "--no-such-option")
    assert bad.returncode == 2
    assert one_line(bad.stderr).startswith("error: ")  # argparse's usage block is not printed


# --- study_tables: every bad argument, --help included, was a traceback (X01-X05) -------------

@pytest.fixture
def not_a_study(tmp_path) -> dict[str, Path]:
    files = {"text": tmp_path / "notes.json", "other": tmp_path / "other.json", "folder": tmp_path / "folder"}
    files["text"].write_text("kappa went up\n")
    files["other"].write_text(json.dumps({"kappa": 0.5}))
    files["folder"].mkdir()
    return files


@pytest.mark.parametrize("argv, message", [
    (["{tmp}/missing.json"], "{tmp}/missing.json: no such file (a kd_study result)"),  # X02
    (["{tmp}/notes.json"], "{tmp}/notes.json: not JSON (Expecting value: line 1 column 1 (char 0))"),  # X03
    (["{tmp}/other.json"], "{tmp}/other.json: not a kd_study result (no 'command')"),  # X04
    (["{tmp}/folder"], "{tmp}/folder: is a folder, expected a kd_study result (FILE.json)"),
    (["--noise", "0.7"], "--noise '0.7': expected AGREEMENT=FILE.json with an agreement in [0, 1] "  # X05
                         "(e.g. 0.7=results/label_noise/a70.json)"),
    (["--noise", "high={tmp}/other.json"], "--noise 'high={tmp}/other.json': expected AGREEMENT=FILE.json with an "
                                           "agreement in [0, 1] (e.g. 0.7=results/label_noise/a70.json)"),
    (["--noise", "0.7={tmp}/other.json"], "{tmp}/other.json: not a kd_study result (no 'command')"),
    (["--noise"], "sleep-kd study study_tables: argument --noise: expected at least one argument"),
    (["a.json", "b.json"], "sleep-kd study study_tables: unrecognized arguments: b.json"),
])
def test_study_tables_refuses_each_bad_argument_with_one_line(not_a_study, tmp_path, capsys, argv, message):
    code, out, err = run_cli(study_tables.main, fill(argv, tmp_path), capsys)
    assert code == 2 and out == ""
    assert one_line(err) == "error: " + message.format(tmp=tmp_path)


def test_study_tables_help_is_help_x01():
    done = run("-m sleep_kd.studies.study_tables", "--help")
    assert done.returncode == 0 and "--noise AGREEMENT=FILE.json" in done.stdout and done.stderr == ""


def test_study_tables_names_what_a_truncated_result_lacks(tmp_path, capsys):
    result = json.loads((ROOT / "results" / "kd_study.json").read_text())
    del result["summary"]["context0"]["ecg_base"]["kappa"]["mean"]
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(result))
    code, out, err = run_cli(study_tables.main, [cut], capsys)
    assert code == 2 and out == ""
    assert one_line(err) == f"error: {cut}: not a complete kd_study result (KeyError: 'mean')"


def test_study_tables_still_renders_the_committed_results(capsys):
    code, out, _ = run_cli(study_tables.main, [ROOT / "results" / "kd_study.json"], capsys)
    assert code == 0 and "| ECG base |" in out


def test_compare_studies_refuses_a_file_that_is_not_a_study_and_a_missing_strategy(not_a_study, capsys):
    plain = ROOT / "results" / "fast_training" / "plain.json"
    code, _, err = run_cli(compare_studies.main, [plain, not_a_study["other"]], capsys)
    assert code == 2 and one_line(err) == f"error: {not_a_study['other']}: not a kd_study result (no 'rows')"
    code, _, err = run_cli(compare_studies.main, [plain, plain, "--strategy", "kd_temp"], capsys)
    assert code == 2 and one_line(err) == f"error: --strategy kd_temp: {plain} has no rows of it (it has ecg_base)"


# --- kd_study: checked before the first run trains (X07, X08) -------------------------------

def study_argv(small_cohort, tmp_path, *extra) -> list[str]:
    return ["--data", small_cohort, "--folds", "3", "--contexts", "0", "--epochs", "1", "--set", TINY_MODEL,
            "--runs", tmp_path / "runs", "--out", tmp_path / "study.json", *extra]


@pytest.mark.parametrize("extra, message", [
    (["--out", "{tmp}"], "--out {tmp}: is a folder, expected a file name (FILE.json)"),  # X07
    (["--grid", "sd.temperature=1,abc"],  # X08
     "config key 'loss.sd.temperature' in --grid sd.temperature=1,abc is 'abc'; allowed: a finite number in (0, 100]"),
    (["--grid", "sd.alpha=0.5,2"], "config key 'loss.sd.alpha' in --grid sd.alpha=0.5,2 is '2'; allowed: a finite "
                                   "number in [0, 1]"),
    (["--grid", "at.power=1,2"], "--grid 'at.power=1,2': loss term 'at' has no option 'power' (its options: p, "
                                 "normalize, distance, groups, group_weighting)"),
    (["--set", "train.lr=abc"], "config key 'train.lr' in --set is 'abc'; allowed: a finite number in (0, 1]"),
    (["--epochs", "0"], "config key 'train.epochs' in --epochs is 0; allowed: an integer in [1, 1000]"),
    (["--contexts", "0", "-3"], "--contexts -3: expected 0 (one window) or epochs of context in 1..1440"),
    (["--only-folds", "3"], "--only-folds 3: expected a fold in 0..2 (--folds 3)"),
    (["--folds", "11"], "{cohort}: kfold with 11 folds (data.folds) needs at least 11 subjects, one per fold; the "
                        "cohort has 10"),
    (["--mixed-precision", "fp64"], "sleep-kd study kd_study: argument --mixed-precision: invalid choice: 'fp64' "
                                    "(choose from 'auto', 'no', 'fp16', 'bf16')"),
    (["--truth", "{tmp}/nowhere"], "--truth {tmp}/nowhere: no such folder"),
    (["--runs", "/sys/kd_runs"], "--runs /sys/kd_runs: folder /sys cannot be written (Permission denied)"),
])
def test_kd_study_refuses_a_bad_argument_before_anything_trains(small_cohort, tmp_path, capsys, extra, message):
    code, out, err = run_cli(kd_study.main, fill(study_argv(small_cohort, tmp_path, *extra), tmp_path), capsys)
    assert code == 2 and out == ""
    assert one_line(err) == "error: " + message.format(tmp=tmp_path, cohort=small_cohort)
    assert not (tmp_path / "runs").exists() and not (tmp_path / "study.json").exists()


@pytest.mark.parametrize("extra, message", [
    (["--seeds", "1", "1"], "--seeds 1 1: each seed once (a seed's runs share a folder)"),
    (["--seeds", "-1"], "config key 'seed' in --seed is -1; allowed: an integer in [0, 4294967295]"),
    (["--set", "loss.sd.temperature=1e300"],
     "config key 'loss.sd.temperature' in --set is '1e300'; allowed: a finite number in (0, 100]"),
    (["--json", "{tmp}"], "--json {tmp}: {tmp} is a folder, expected a file name"),
    (["--data", "{tmp}/missing.h5"], "--data {tmp}/missing.h5: no such cohort file"),
    (["--classes", "5"], "sleep-kd study kd_seeds: argument --classes: invalid choice: 5 (choose from 3, 4)"),
])
def test_kd_seeds_refuses_a_bad_argument_before_the_teacher_trains(small_cohort, tmp_path, capsys, extra, message):
    argv = ["--data", small_cohort, "--runs", tmp_path / "runs", "--set", TINY_MODEL, *extra]
    code, out, err = run_cli(kd_seeds.main, fill(argv, tmp_path), capsys)
    assert code == 2 and out == ""
    assert one_line(err) == "error: " + message.format(tmp=tmp_path)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("extra, message", [
    (["--temperature", "nan"], "config key 'loss.sd.temperature' in --temperature is nan; allowed: a finite number "
                               "in (0, 100]"),
    (["--context", "-1"], "--context -1: expected 0 (one window) or epochs of context in 1..1440"),
    (["--out", "{tmp}"], "--out {tmp}: is a folder, expected a file name (FILE.json)"),
])
def test_teacher_signal_refuses_a_bad_argument_before_reading_a_checkpoint(tmp_path, capsys, extra, message):
    code, _, err = run_cli(teacher_signal.main, [tmp_path, *fill(extra, tmp_path)], capsys)
    assert code == 2 and one_line(err) == "error: " + message.format(tmp=tmp_path)


@pytest.fixture
def truth_beside(small_cohort, tmp_path) -> tuple[Path, Path]:
    """A copy of the cohort with a truth/ folder beside it (the relabelling reads it)."""
    folder = tmp_path / "source"
    (folder / "truth").mkdir(parents=True)
    cohort = folder / "cohort.h5"
    cohort.write_bytes(small_cohort.read_bytes())
    return cohort, folder / "truth"


@pytest.mark.parametrize("extra, message", [
    (["--agreement", "nan", "--out", "{tmp}/out/a.h5"], "--agreement nan: expected a value in (0, 1]"),
    (["--agreement", "0.9", "--out", "{tmp}"], "--out {tmp}: is a folder, expected a file name (COHORT.h5)"),
    (["--agreement", "0.9", "--out", "{tmp}/source/a90.h5"],
     "--out {tmp}/source/a90.h5: its truth/ folder would be the source's {tmp}/source/truth, whose files would be "
     "overwritten; put --out in another folder"),
    (["--agreement", "0.9", "--out", "{tmp}/out/a.h5", "--seed", "-4"], "--seed -4: expected an integer >= 0"),
])
def test_relabel_cohort_refuses_a_bad_argument_before_writing(truth_beside, tmp_path, capsys, extra, message):
    cohort, truth = truth_beside
    before = snapshot(tmp_path)
    code, _, err = run_cli(relabel_cohort.main, [cohort, *fill(extra, tmp_path)], capsys)
    assert code == 2 and one_line(err) == "error: " + message.format(tmp=tmp_path)
    assert snapshot(tmp_path) == before


# --- evaluate.py: every option for every model, or refused before scoring (V03, V06) ------------

TINY_CONTEXT = "model.overrides={sequence_width: 8, sequence_layers: 2}"


@pytest.fixture(scope="module")
def context_run(small_cohort, tmp_path_factory) -> Path:
    """A finished one-step context_small ECG run (4 epochs of context) on the small cohort."""
    out = tmp_path_factory.mktemp("context") / "ecg context"
    argv = ["--strategy", "ecg_base", *train_argv(small_cohort, out.parent, "--out", out), "--model", "context_small",
            "--set", "model.context_epochs=4", "--set", TINY_CONTEXT]
    assert train_loop.main(argv) == 0
    return out


def test_figures_of_a_context_checkpoint_are_drawn_v03(context_run, eeg_run, tmp_path, capsys):
    figures = tmp_path / "figures"
    code, out, err = run_cli(evaluate.main, [context_run / "best", "--compare", eeg_run / "best", "--split", "all",
                                             "--cpu", "--figures", figures, "--max-points", "50"], capsys)
    assert code == 0, err
    names = sorted(p.name for p in figures.iterdir())
    assert "embedding.png" in names and sum(n.startswith("confusion-") for n in names) == 2
    assert f"wrote 3 figures to {figures}" in out


def test_per_epoch_features_of_a_context_model_are_its_encoders_on_each_window(context_run):
    import numpy as np

    from sleep_kd.engine.restore import model_from_checkpoint
    from sleep_kd.metrics.embedding import bottleneck_features
    from sleep_kd.evaluation.scoring import predict_checkpoint

    scored = predict_checkpoint(context_run / "best", split="all", cpu=True, precision="no")
    model, _ = model_from_checkpoint(context_run / "best")
    pairs = list(zip(scored.predictions.recording[:6].tolist(), scored.predictions.epoch[:6].tolist()))
    features = bottleneck_features(model, scored.dataset, pairs, modality="ecg")
    alone = bottleneck_features(model, scored.dataset, pairs[3:], modality="ecg")  # not batch-dependent
    assert features.shape == (6, model.encoder.config["bottleneck_filters"])
    np.testing.assert_allclose(features[3:], alone, rtol=1e-5, atol=1e-6)


def test_a_figure_set_that_fails_midway_writes_no_file_v06(context_run, eeg_run, tmp_path, capsys, monkeypatch):
    """The IndexError came after the confusion matrices were written: now every panel is computed first."""
    from sleep_kd.metrics import embedding

    def fails(*args, **kwargs):
        raise InputError("the second model's features cannot be read")

    calls = iter([embedding.bottleneck_features, fails])
    monkeypatch.setattr(embedding, "bottleneck_features", lambda *a, **k: next(calls)(*a, **k))
    figures = tmp_path / "figures"
    code, _, err = run_cli(evaluate.main, [context_run / "best", "--compare", eeg_run / "best", "--split", "all",
                                           "--cpu", "--figures", figures, "--max-points", "50"], capsys)
    assert code == 2 and err.splitlines()[-1] == "error: the second model's features cannot be read"  # after notes
    assert not figures.exists() or not any(figures.iterdir())


def test_figures_of_checkpoints_that_cannot_share_one_figure_are_refused_before_scoring(
        context_run, eeg_run, small_cohort, tmp_path, capsys):
    other = tmp_path / "other.h5"
    other.write_bytes(small_cohort.read_bytes())
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("model.safetensors", "metrics.json"):
        (moved / name).write_bytes((eeg_run / "best" / name).read_bytes())
    record = json.loads((eeg_run / "best" / "config.json").read_text())
    record["data"]["path"] = str(other)
    (moved / "config.json").write_text(json.dumps(record))
    figures = tmp_path / "figures"
    code, out, err = run_cli(evaluate.main, [context_run / "best", "--compare", moved, "--cpu", "--figures", figures],
                             capsys)
    assert code == 2 and out == ""
    assert one_line(err) == (f"error: --figures: the checkpoints were trained on different cohorts "
                             f"({', '.join(sorted([str(small_cohort), str(other)]))}); pass --data to score all on one")
    assert not figures.exists()


@pytest.mark.parametrize("extra, message", [
    (["--batch-size", "0"], "--batch-size 0: expected an integer in [1, 65536]"),
    (["--max-points", "10000000"], "--max-points 10000000: expected an integer in [1, 100000]"),
    (["--split", "holdout"], "evaluate.py: argument --split: invalid choice: 'holdout' (choose from 'train', 'val', "
                             "'test', 'all')"),
    (["--data", "{tmp}/missing.h5"], "--data {tmp}/missing.h5: no such cohort file"),
    (["--compare", "{tmp}/nothing"], "checkpoint {tmp}/nothing does not exist (expected a folder with "
                                     "model.safetensors and config.json)"),
    (["--figures", "{tmp}/file.txt"], "--figures {tmp}/file.txt: {tmp}/file.txt is a file, expected a folder"),
])
def test_evaluate_refuses_a_bad_argument_before_scoring_any_checkpoint(eeg_run, tmp_path, capsys, extra, message):
    (tmp_path / "file.txt").write_text("notes")
    code, out, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", *fill(extra, tmp_path)],
                             capsys)
    assert code == 2 and out == ""
    assert one_line(err) == "error: " + message.format(tmp=tmp_path)


# --- the resume line of an interrupted run --------------------------------------------------------

def test_the_resume_line_quotes_paths_and_resumes_a_prerequisite_then_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    stop = TrainingInterrupted(tmp_path / "my runs" / "eeg_base", "SIGINT", strategy="eeg_base")
    argv = ["--strategy", "kd_temp", "--out", str(tmp_path / "my runs" / "kd temp"), "--set", "loss.sd={alpha: 0.9}"]
    line = train_loop.resume_command(stop, strategy="kd_temp", argv=argv)
    resume, again = (shlex.split(part) for part in line.split(" && "))
    assert resume[1:] == ["train_loop.py", "--strategy", "eeg_base", "--resume", str(stop.out)]
    assert again[1:] == ["train_loop.py", *argv]
    assert resume[0] in ("python", sys.executable)


def test_the_resume_line_of_several_processes_relaunches_as_many(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    stop = TrainingInterrupted(tmp_path / "run", "SIGTERM", strategy="ecg_base")
    line = train_loop.resume_command(stop, strategy="ecg_base", argv=["--strategy", "ecg_base"])
    assert shlex.split(line)[1:] == ["-m", "torch.distributed.run", "--nproc_per_node", "4", "train_loop.py",
                                     "--strategy", "ecg_base", "--resume", str(tmp_path / "run")]
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # two machines of two: their rendezvous options are theirs to give
    line = train_loop.resume_command(stop, strategy="ecg_base", argv=["--strategy", "ecg_base"])
    assert "--nnodes 2 --nproc_per_node 2 train_loop.py" in line
    assert line.endswith(" (on every machine, with the rendezvous options the run was launched with)")
