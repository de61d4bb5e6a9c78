"""Bad inputs to train_loop.py and evaluate.py: exit 2, one line naming the culprit, nothing lost.

Each case goes through the command's own ``main(argv)`` (two of them also as real processes) and
checks that what was there before (a run folder, a checkpoint, a report) is byte-identical after.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from safetensors.torch import load_file

import evaluate
import train_loop
from sleep_kd.data.dataset import CohortWindows
from sleep_kd.engine import checkpoint as ckpt
from sleep_kd.engine.config import defaults
from sleep_kd.models import create_model
from tests.reliability.conftest import TINY_OVERRIDES, run_cli, snapshot, train_argv

ROOT = Path(__file__).resolve().parents[2]


def one_line(err: str) -> str:
    """The single line a bad-input exit prints (and a check that it is the only one)."""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.rstrip("\n")


@pytest.fixture
def prior_run(eeg_run, tmp_path) -> tuple[Path, dict]:
    """A copy of a finished run folder, and its bytes: a failed command must leave it as it was."""
    out = tmp_path / "prior"
    shutil.copytree(eeg_run, out)
    return out, snapshot(out)


# --- the cohort file -------------------------------------------------------------------------

@pytest.fixture
def truncated_cohort(small_cohort, tmp_path) -> Path:
    data = small_cohort.read_bytes()
    path = tmp_path / "cut.h5"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_truncated_cohort_file_exits_2_naming_it(truncated_cohort, prior_run, capsys):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base",
                                             *train_argv(truncated_cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == f"error: {truncated_cohort}: not a readable HDF5 file (truncated or corrupt?)"
    assert snapshot(out) == before


def test_truncated_cohort_file_exits_2_as_a_process(truncated_cohort, tmp_path):
    out = tmp_path / "never"
    result = subprocess.run([sys.executable, "train_loop.py", "--strategy", "ecg_base",
                             *train_argv(truncated_cohort, tmp_path, "--out", out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert one_line(result.stderr) == f"error: {truncated_cohort}: not a readable HDF5 file (truncated or corrupt?)"
    assert not out.exists()


def test_hdf5_file_that_is_not_a_cohort_exits_2(tmp_path, capsys):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle["x"] = [1, 2, 3]
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(path, tmp_path)], capsys)
    assert code == 2
    assert one_line(err) == f"error: {path}: not a sleep_kd cohort file (expected format='sleep_kd.cohort')"


@pytest.fixture
def nan_cohort(small_cohort, tmp_path) -> tuple[Path, str]:
    """The cohort with NaN over the first recording's EEG and ECG (EDF cannot hold NaN; HDF5 can)."""
    path = tmp_path / "nan.h5"
    shutil.copy(small_cohort, path)
    with h5py.File(path, "r+") as handle:
        first = sorted(handle["recordings"])[0]
        for modality in ("eeg", "ecg"):
            data = handle["recordings"][first][modality]
            data[:] = float("nan")
    return path, first


def test_nan_samples_in_the_cohort_exit_2_naming_recording_and_epoch(eeg_run, nan_cohort, tmp_path, capsys):
    path, first = nan_cohort
    report = tmp_path / "report.json"
    report.write_text('{"earlier": "report"}')
    code, _, err = run_cli(evaluate.main, [eeg_run / "best", "--data", path, "--split", "all", "--cpu",
                                           "--json", report], capsys)
    assert code == 2
    scored = CohortWindows(path, n_classes=4, modalities=("eeg",))._epoch[0]  # the first epoch with a class
    note, err = err.split("\n", 1)  # --split all says first which of the scored nights were trained on
    assert note.startswith("[sleep_kd] note: 8 of the 10 recordings scored were in the checkpoint's training split")
    assert one_line(err) == (f"error: {path}: recording '{first}' holds NaN or infinite EEG samples in epoch {scored} "
                             "(expected finite signals, as ingest writes them)")
    assert report.read_text() == '{"earlier": "report"}'


def test_nan_samples_read_by_a_loader_worker_still_give_one_clean_line(nan_cohort, tmp_path, capsys):
    path, first = nan_cohort
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", *train_argv(path, tmp_path),
                                             "--set", "data.num_workers=1"], capsys)
    assert code == 2
    line = err.strip().splitlines()[-1]  # after the progress bar
    assert line.startswith(f"error: {path}: recording ") and "Traceback" not in line and "worker" not in line


# --- configuration ---------------------------------------------------------------------------

def test_unknown_config_key_in_set_exits_2_listing_the_known_ones(small_cohort, prior_run, capsys):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(small_cohort, out.parent, "--out", out),
                                             "--set", "train.learning_rate=0.1"], capsys)
    assert code == 2
    known = ", ".join(sorted(f"train.{k}" for k in defaults()["train"]))
    assert one_line(err) == f"error: unknown config key 'train.learning_rate' in --set (known keys: {known})"
    assert snapshot(out) == before


def test_wrong_type_in_config_file_exits_2_naming_key_and_file(small_cohort, prior_run, tmp_path, capsys):
    out, before = prior_run
    config = tmp_path / "mine.yaml"
    config.write_text("train:\n  epochs: many\n")
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", "--config", config,
                                             *train_argv(small_cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == f"error: config key 'train.epochs' in {config} is 'many'; allowed: an integer in [1, 1000]"
    assert snapshot(out) == before


def test_wrong_type_in_set_exits_2(small_cohort, tmp_path, capsys):
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(small_cohort, tmp_path),
                                             "--set", "data.normalization=[1, 2]"], capsys)
    assert code == 2
    assert one_line(err) == ("error: config key 'data.normalization' in --set is [1, 2]; allowed: one of minmax, "
                             "zscore, none")


def test_config_file_that_is_not_a_mapping_exits_2(small_cohort, tmp_path, capsys):
    config = tmp_path / "list.yaml"
    config.write_text("- train.lr: 0.1\n")
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", "--config", config,
                                             *train_argv(small_cohort, tmp_path)], capsys)
    assert code == 2
    assert one_line(err) == f"error: config file {config} must hold a mapping of keys, got list"


# --- teacher checkpoints ---------------------------------------------------------------------

def save_teacher(path: Path, *, n_classes: int = 4, data: dict | None = None, **overrides) -> Path:
    """A checkpoint of the tiny model as an EEG teacher records it (``data`` changes its preparation)."""
    model = create_model("utime_small", n_classes=n_classes, **{**TINY_OVERRIDES, **overrides})
    preparation = {"n_classes": n_classes, "sfreq": 100.0, "window_s": 30.0, "normalization": "minmax",
                   "modality": "eeg", **(data or {})}
    ckpt.save_checkpoint(path, state_dict=model.state_dict(),
                         config={"model": model.config, "strategy": "eeg_base", "data": preparation},
                         metrics={"kappa": 0.5})
    return path


def test_teacher_of_another_class_count_exits_2_and_keeps_the_run(small_cohort, prior_run, tmp_path, capsys):
    out, before = prior_run
    teacher = save_teacher(tmp_path / "teacher3", n_classes=3)
    teacher_bytes = snapshot(teacher)
    code, _, err = run_cli(train_loop.main, ["--strategy", "kd_temp", "--teacher", teacher, "--classes", "4",
                                             *train_argv(small_cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == (
        f"error: teacher checkpoint {teacher} predicts 3 classes, this run has 4 (data.n_classes)")
    assert snapshot(out) == before and snapshot(teacher) == teacher_bytes


def test_teacher_of_another_architecture_exits_2(small_cohort, prior_run, tmp_path, capsys):
    out, before = prior_run
    teacher = save_teacher(tmp_path / "wide", filters=[4, 12])
    code, _, err = run_cli(train_loop.main, ["--strategy", "kd_temp", "--teacher", teacher,
                                             *train_argv(small_cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == (f"error: teacher checkpoint {teacher} is a different model: filters is [4, 12] "
                             "there, [4, 8] here")
    assert snapshot(out) == before


def test_teacher_whose_weights_do_not_match_its_config_exits_2(small_cohort, tmp_path, capsys):
    teacher = save_teacher(tmp_path / "liar", filters=[4, 12])
    record = json.loads((teacher / "config.json").read_text())
    record["model"]["filters"] = [4, 8]  # config.json edited by hand; the weights are still [4, 12]
    (teacher / "config.json").write_text(json.dumps(record))
    code, _, err = run_cli(train_loop.main, ["--strategy", "kd_temp", "--teacher", teacher,
                                             *train_argv(small_cohort, tmp_path)], capsys)
    assert code == 2
    assert one_line(err) == (f"error: checkpoint {teacher} does not fit the model: "
                             "encoder.1.blocks.0.conv.weight is (12, 4, 5), expected (8, 4, 5)")


# --- resuming --------------------------------------------------------------------------------

def test_resume_from_another_strategy_exits_2_and_keeps_that_run(prior_run, capsys):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", "--resume", out], capsys)
    assert code == 2
    assert one_line(err) == f"error: --resume {out}: that run's strategy is 'eeg_base', this run's is 'ecg_base'"
    assert snapshot(out) == before


def test_resume_from_a_folder_that_is_not_a_run_exits_2(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", "--resume", tmp_path / "notes"], capsys)
    assert code == 2
    assert one_line(err) == (f"error: --resume {tmp_path / 'notes'}: no config.yaml there (expected a run folder "
                             "written by train_loop.py)")


def test_resume_with_a_state_that_is_gone_exits_2_and_keeps_checkpoints(prior_run, capsys):
    out, before = prior_run
    shutil.rmtree(out / "state")
    before = {k: v for k, v in before.items() if not k.startswith("state/")}
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", "--resume", out], capsys)
    assert code == 2
    assert one_line(err) == (f"error: --resume {out}: no resumable state there (expected "
                             f"{out / 'state' / 'progress.json'})")
    assert snapshot(out) == before


# --- evaluate.py on checkpoints that are not ours ----------------------------------------------

class Planted:
    """Unpickling this runs a shell command: proof that a loader unpickled."""

    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.fixture
def pickled_checkpoint(eeg_run, tmp_path) -> Path:
    folder = tmp_path / "evil"
    folder.mkdir()
    shutil.copy(eeg_run / "best" / "config.json", folder)
    (folder / "model.safetensors").write_bytes(pickle.dumps(Planted()))
    return folder


def test_evaluate_refuses_a_pickle_named_safetensors_and_runs_nothing(pickled_checkpoint, tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "report.json"
    report.write_text("{}")
    code, _, err = run_cli(evaluate.main, [pickled_checkpoint, "--cpu", "--json", report], capsys)
    assert code == 2
    with pytest.raises(Exception) as library:  # safetensors' own words for these bytes (it never unpickles)
        load_file(str(pickled_checkpoint / "model.safetensors"))
    assert one_line(err) == (f"error: checkpoint {pickled_checkpoint / 'model.safetensors'} is not a valid "
                             f"safetensors file: {library.value}")
    assert not (tmp_path / "PWNED").exists() and report.read_text() == "{}"


def test_evaluate_refuses_a_pickle_as_a_process(pickled_checkpoint, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "evaluate.py"), str(pickled_checkpoint), "--cpu"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"error: checkpoint {pickled_checkpoint / 'model.safetensors'} "
                                              "is not a valid safetensors file: ")
    assert not (tmp_path / "PWNED").exists()


def test_evaluate_refuses_a_folder_holding_only_a_torch_pickle(eeg_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "torch_style"
    folder.mkdir()
    shutil.copy(eeg_run / "best" / "config.json", folder)
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Planted()))
    code, _, err = run_cli(evaluate.main, [folder, "--cpu"], capsys)
    assert code == 2
    assert one_line(err) == (f"error: checkpoint {folder} has no model.safetensors (expected a folder written by "
                             "train_loop.py)")
    assert not (tmp_path / "PWNED").exists()


def test_evaluate_on_a_truncated_cohort_exits_2_and_keeps_the_report(eeg_run, truncated_cohort, tmp_path, capsys):
    report = tmp_path / "report.json"
    report.write_text('{"kappa": 0.7}')
    code, _, err = run_cli(evaluate.main, [eeg_run / "best", "--data", truncated_cohort, "--cpu", "--json", report],
                           capsys)
    assert code == 2
    assert one_line(err) == f"error: {truncated_cohort}: not a readable HDF5 file (truncated or corrupt?)"
    assert report.read_text() == '{"kappa": 0.7}'


# --- gaps found while building this corpus, now fixed ---

def test_loss_option_of_the_wrong_type_exits_2_before_touching_the_run(small_cohort, prior_run, tmp_path, capsys):
    out, before = prior_run
    teacher = save_teacher(tmp_path / "teacher")
    code, _, err = run_cli(train_loop.main, ["--strategy", "kd_temp", "--teacher", teacher,
                                             *train_argv(small_cohort, out.parent, "--out", out),
                                             "--set", "loss.sd={temperature: hot}"], capsys)
    assert code == 2
    assert one_line(err) == ("error: config key 'loss.sd.temperature' in --set is 'hot'; allowed: a finite number "
                             "in (0, 100]")
    assert snapshot(out) == before


def test_seed_out_of_range_exits_2(small_cohort, tmp_path, capsys):
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(small_cohort, tmp_path),
                                             "--seed", "-1"], capsys)
    assert code == 2
    assert one_line(err) == "error: config key 'seed' in --seed is -1; allowed: an integer in [0, 4294967295]"


def test_evaluate_a_checkpoint_without_data_preparation_exits_2(small_cohort, tmp_path, capsys):
    folder = save_teacher(tmp_path / "bare")
    record = json.loads((folder / "config.json").read_text())
    del record["data"]  # model.safetensors + config.json with a model section only
    (folder / "config.json").write_text(json.dumps(record))
    code, _, err = run_cli(evaluate.main, [folder, "--data", small_cohort, "--cpu"], capsys)
    assert code == 2
    assert one_line(err) == (f"error: checkpoint {folder}: config.json has no data.n_classes "
                             "(expected a checkpoint written by train_loop.py)")


def test_evaluate_json_into_a_missing_folder_exits_2_before_scoring(eeg_run, tmp_path, capsys):
    target = tmp_path / "no" / "such" / "report.json"
    code, out, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--json", target], capsys)
    assert code == 2
    assert one_line(err) == f"error: --json {target}: folder {target.parent} does not exist"
    assert out == ""  # refused before scoring
