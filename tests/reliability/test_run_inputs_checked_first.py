"""Issue 12, sections 1-3: every input checked before anything is touched; what a run and a
checkpoint depend on is pinned; a user's mistake is one line, exit 2, nothing lost.

Each bad case goes through ``train_loop.main`` / ``evaluate.main`` against a copy of a finished run
folder, and checks the exact line and that the folder is byte-identical afterwards.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import evaluate
import train_loop
from sleep_kd.engine import outputs
from sleep_kd.engine.runs import FREE_ON_RESUME
from sleep_kd.errors import InputError
from tests.reliability.conftest import run_cli, snapshot, train_argv
from tests.reliability.test_bad_run_inputs import one_line, save_teacher

ROOT = Path(__file__).resolve().parents[2]
FREE = ", ".join(FREE_ON_RESUME)


@pytest.fixture
def prior_run(eeg_run, tmp_path) -> tuple[Path, dict]:
    out = tmp_path / "prior"
    shutil.copytree(eeg_run, out)
    return out, snapshot(out)


# --- 1. every value checked when the config is resolved, before the run folder is touched ---------

BAD_VALUES = [
    (["--set", "data.window_s=7"],
     "config keys 'data.window_s' = 7.0 (in --set) and 'model.name' = 'utime_small' (in configs/defaults.yaml) do "
     "not fit: 700 samples at the model's 100 Hz, which its pool_sizes [10, 6] (60 in all) do not divide; allowed: "
     "a multiple of 0.6 s"),
    (["--set", "data.window_s=0.333"],
     "config keys 'data.window_s' = 0.333 (in --set) and 'model.name' = 'utime_small' (in configs/defaults.yaml) do "
     "not fit: 0.333 s at the model's 100 Hz is 33.3 samples; allowed: a window of a whole number of samples "
     "(a multiple of 0.01 s)"),
    (["--max-steps", "-1"], "config key 'train.max_steps' in --max-steps is -1; allowed: an integer in [0, 1000000000] "
     "(0 = no limit)"),
    (["--set", "train.log_every=0"], "config key 'train.log_every' in --set is 0; allowed: an integer in [1, 1000000]"),
    (["--set", "data.num_workers=-1"], "config key 'data.num_workers' in --set is -1; allowed: an integer in [0, 128]"),
    (["--set", "train.weight_decay=-1"],
     "config key 'train.weight_decay' in --set is -1; allowed: a finite number in [0, 1]"),
    (["--set", "train.early_stopping=-1"],
     "config key 'train.early_stopping' in --set is -1; allowed: an integer in [0, 1000] (0 = never)"),
    (["--set", "loss.sd={temperature: 0}"],
     "config key 'loss.sd.temperature' in --set is 0; allowed: a finite number in (0, 100]"),
    # further members of the class
    (["--set", "train.lr=nan"], "config key 'train.lr' in --set is 'nan'; allowed: a finite number in (0, 1]"),
    (["--set", "train.lr=.inf"], "config key 'train.lr' in --set is inf; allowed: a finite number in (0, 1]"),
    (["--set", "train.clip_grad_norm=-0.5"],
     "config key 'train.clip_grad_norm' in --set is -0.5; allowed: a finite number in [0, 1000] (0 = no clipping)"),
    (["--set", "loss.sd={alpha: 1.5}"],
     "config key 'loss.sd.alpha' in --set is 1.5; allowed: a finite number in [0, 1]"),
    (["--set", "loss.at={groups: []}"],
     "config key 'loss.at.groups' in --set is []; allowed: a non-empty list of distinct items of encoder, bottleneck, "
     "decoder, final, head"),
    (["--set", "train.save_state_every=-2"],
     "config key 'train.save_state_every' in --set is -2; allowed: an integer in [0, 1000000000] "
     "(0 = at epoch ends only)"),
    (["--set", "train.val_every=0"], "config key 'train.val_every' in --set is 0; allowed: an integer in [1, 1000]"),
    (["--set", "train.collective_timeout_s=0"],
     "config key 'train.collective_timeout_s' in --set is 0; allowed: a finite number in (0, 86400]"),
    (["--epochs", "0"], "config key 'train.epochs' in --epochs is 0; allowed: an integer in [1, 1000]"),
    (["--batch-size", "0"], "config key 'train.batch_size' in --batch-size is 0; allowed: an integer in [1, 8192] "
                            "(at most the training windows)"),
    (["--grad-accum", "0"], "config key 'train.grad_accum' in --grad-accum is 0; allowed: an integer in [1, 1024]"),
    (["--set", "data.folds=2"], "config key 'data.folds' in --set is 2; allowed: an integer in [3, 1000] "
                                "(at most the cohort's subjects)"),
    (["--set", "data.split=kfold", "--set", "data.fold=5"],
     "config keys 'data.fold' = 5 (in --set) and 'data.folds' = 5 (in configs/defaults.yaml) do not fit; allowed: "
     "0 <= data.fold < data.folds"),
    (["--set", "data.split=random"], "config key 'data.split' in --set is 'random'; allowed: one of original, pooled, kfold"),
    (["--set", "train.cpu=yes please"], "config key 'train.cpu' in --set is 'yes please'; allowed: true or false"),
    (["--model", "utime_huge"], "config key 'model.name' in --model is 'utime_huge'; allowed: one of context_seed, context_small, utime_seed, utime_small"),
    (["--set", "model.overrides={window_s: 20}"],
     "config key 'model.overrides' in --set sets 'window_s'; allowed: set data.window_s instead"),
    (["--set", "model.overrides={pool_sizes: [10]}"],
     "config keys 'model.name' = 'utime_small' (in configs/defaults.yaml) and 'model.overrides' = {'filters': [4, 8], "
     "'pool_sizes': [10], 'bottleneck_filters': 16} (in --set) do not make a model: model options 'filters' "
     "(2 levels) and 'pool_sizes' (1) must have the same length"),
    (["--set", "paths.runs="], "config key 'paths.runs' in --set is None; allowed: a folder path"),
]


@pytest.mark.parametrize("extra, message", BAD_VALUES, ids=[" ".join(e) for e, _ in BAD_VALUES])
def test_a_bad_value_exits_2_naming_key_value_origin_and_what_is_allowed_and_touches_nothing(
        small_cohort, prior_run, capsys, extra, message):
    out, before = prior_run
    argv = ["--strategy", "kd_temp", *train_argv(small_cohort, out.parent, "--out", out), *extra]  # the last flag wins
    code, _, err = run_cli(train_loop.main, argv, capsys)
    assert code == 2
    assert one_line(err) == f"error: {message}"
    assert snapshot(out) == before


def test_a_bad_value_in_a_config_file_names_the_file(small_cohort, prior_run, tmp_path, capsys):
    out, before = prior_run
    mine = tmp_path / "mine.yaml"
    mine.write_text("train:\n  lr: -3e-4\n")
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", "--config", mine,
                                             *train_argv(small_cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == f"error: config key 'train.lr' in {mine} is '-3e-4'; allowed: a finite number in (0, 1]"
    assert snapshot(out) == before


def test_lr_3e_minus_4_as_in_help_trains(small_cohort, tmp_path, capsys):
    out = tmp_path / "lr"
    code, _, _ = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(small_cohort, tmp_path, "--out", out),
                                           "--set", "train.lr=3e-4"], capsys)
    assert code == 0
    assert "lr: 0.0003" in (out / "config.yaml").read_text()


def test_a_teacher_that_reads_another_modality_leaves_the_old_run_whole(small_cohort, prior_run, tmp_path, capsys):
    """The teacher is checked after the cohort and model are built, but before the old run is cleared."""
    out, before = prior_run
    teacher = save_teacher(tmp_path / "ecg_teacher", data={"modality": "ecg"})
    code, _, err = run_cli(train_loop.main, ["--strategy", "kd_temp", "--teacher", teacher,
                                             *train_argv(small_cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == (f"error: teacher checkpoint {teacher} was trained with modality 'ecg', this run needs "
                             "'eeg' (the strategy's teacher)")
    assert snapshot(out) == before and (out / "state").is_dir() and (out / "tensorboard").is_dir()


# --- 2. the teacher and starting checkpoints fit in every way -----------------------------------

@pytest.mark.parametrize("data, message", [
    ({"normalization": "zscore"}, "was trained with normalization 'zscore', this run needs 'minmax' (data.normalization)"),
    ({"sfreq": 128.0}, "was trained with sfreq 128.0, this run needs 100.0 (the model's rate)"),
    ({"window_s": 20.0}, "was trained with window_s 20.0, this run needs 30.0 (data.window_s)"),
])
def test_a_teacher_prepared_otherwise_is_refused(small_cohort, tmp_path, capsys, data, message):
    teacher = save_teacher(tmp_path / "teacher", data=data)
    code, _, err = run_cli(train_loop.main, ["--strategy", "kd_temp", "--teacher", teacher,
                                             *train_argv(small_cohort, tmp_path)], capsys)
    assert code == 2
    assert one_line(err) == f"error: teacher checkpoint {teacher} {message}"


def test_a_teacher_without_a_preparation_record_is_refused(small_cohort, tmp_path, capsys):
    teacher = save_teacher(tmp_path / "teacher")
    record = json.loads((teacher / "config.json").read_text())
    del record["data"]
    (teacher / "config.json").write_text(json.dumps(record))
    code, _, err = run_cli(train_loop.main, ["--strategy", "kd_temp", "--teacher", teacher,
                                             *train_argv(small_cohort, tmp_path)], capsys)
    assert code == 2
    assert one_line(err) == (f"error: teacher checkpoint {teacher} does not record how its inputs were prepared "
                             "(config.json has no 'data': modality, sampling rate, window, normalisation)")


def test_a_starting_checkpoint_of_another_modality_is_refused(small_cohort, eeg_run, tmp_path, capsys):
    teacher = save_teacher(tmp_path / "teacher")
    code, _, err = run_cli(train_loop.main, ["--strategy", "feat_temp", "--teacher", teacher, "--init", eeg_run / "best",
                                             *train_argv(small_cohort, tmp_path)], capsys)
    assert code == 2
    assert one_line(err) == (f"error: init checkpoint {eeg_run / 'best'} was trained with modality 'eeg', this run "
                             "needs 'ecg' (the strategy's student)")


# --- 2. --resume keeps every setting that shapes the result ------------------------------------

@pytest.mark.parametrize("extra, message", [
    (["--batch-size", "32"], "train.batch_size is 16 in that run, 32 now"),
    (["--grad-accum", "2"], "train.grad_accum is 1 in that run, 2 now"),
    (["--epochs", "3"], "train.epochs is 1 in that run, 3 now"),
    (["--set", "train.lr=0.01"], "train.lr is 0.001 in that run, 0.01 now"),
    (["--set", "data.split=kfold"], "data.split is 'pooled' in that run, 'kfold' now"),
    (["--set", "data.split_seed=1"], "data.split_seed is 42 in that run, 1 now"),
    (["--seed", "7"], "seed is 42 in that run, 7 now"),
    (["--set", "model.overrides={filters: [4, 16]}"], "model.overrides.filters is '[4, 8]' in that run, '[4, 16]' now"),
])
def test_resume_with_another_setting_is_refused_naming_it(prior_run, capsys, extra, message):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", "--resume", out, *extra], capsys)
    assert code == 2
    assert one_line(err) == (f"error: --resume {out}: {message}; a resumed run keeps its settings "
                             f"(only {FREE} may change)")
    assert snapshot(out) == before


def test_resume_on_other_data_is_refused(prior_run, small_cohort, tmp_path, capsys):
    out, before = prior_run
    other = tmp_path / "other.h5"
    shutil.copy(small_cohort, other)
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", "--resume", out, "--data", other], capsys)
    assert code == 2
    assert one_line(err) == (f"error: --resume {out}: data.path is {str(small_cohort)!r} in that run, {str(other)!r} "
                             f"now; a resumed run keeps its settings (only {FREE} may change)")
    assert snapshot(out) == before


@pytest.mark.parametrize("extra, message", [
    (["--classes", "3"], "that run's n_classes is 4, this run's is 3"),
    (["--model", "utime_seed"], "that run's model is 'utime_small', this run's is 'utime_seed'"),
])
def test_resume_with_another_class_count_or_model_is_refused(prior_run, capsys, extra, message):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", "--resume", out, *extra], capsys)
    assert code == 2
    assert one_line(err) == f"error: --resume {out}: {message}"
    assert snapshot(out) == before


def test_resume_on_a_cohort_whose_split_changed_is_refused(prior_run, small_cohort, tmp_path, capsys):
    out, before = prior_run
    splits = json.loads((out / "splits.json").read_text())
    splits["train"] = splits["train"][1:]  # as if the cohort had lost a night
    (out / "splits.json").write_text(json.dumps(splits))
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", "--resume", out], capsys)
    assert code == 2
    assert one_line(err) == (f"error: --resume {out}: the cohort's train split is not the one that run used "
                             f"(now also {json.loads(before['splits.json'])['train'][0]})")


def test_a_second_writer_of_the_same_run_folder_is_refused_naming_the_holder(small_cohort, prior_run, capsys):
    out, before = prior_run
    with open(out / ".lock", "a") as held:  # what a running train_loop.py holds for its whole lifetime
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base",
                                                 *train_argv(small_cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == (f"error: run folder {out} is in use by process {os.getpid()} (another train_loop.py "
                             "writing there); wait for it to end or give another --out")
    assert snapshot(out) == before


def test_the_lock_of_a_killed_process_is_released_and_the_next_run_proceeds(small_cohort, prior_run, capsys):
    out, _ = prior_run
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from sleep_kd.engine.lock import RunLock; RunLock(Path(sys.argv[1])).__enter__(); "
                               "print('held', flush=True); time.sleep(600)", str(out)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        argv = ["--strategy", "eeg_base", *train_argv(small_cohort, out.parent, "--out", out)]
        code, _, err = run_cli(train_loop.main, argv, capsys)
        assert code == 2 and one_line(err).startswith(f"error: run folder {out} is in use by process {holder.pid} ")
    finally:
        holder.kill()  # a crash: the kernel drops its flock
        holder.wait()
    assert run_cli(train_loop.main, argv, capsys)[0] == 0


# --- 2. a checkpoint knows its split; evaluate scores exactly it -------------------------------

def test_a_checkpoint_records_its_split_and_evaluate_scores_exactly_its_test_recordings(eeg_run, tmp_path, capsys):
    record = json.loads((eeg_run / "best" / "config.json").read_text())["data"]
    in_folder = json.loads((eeg_run / "splits.json").read_text())
    assert record["splits"] == {name: in_folder[name] for name in ("train", "val", "test")}
    assert set(record["split_content_ids"]) == {"train", "val", "test"}
    assert record["scored_subjects"] == in_folder["scored_subjects"] and in_folder["unscored_recordings"] == []
    report = tmp_path / "r.json"
    assert run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--json", report], capsys)[0] == 0
    scored = {row["subject"] for row in json.loads(report.read_text())["per_subject"]}
    with h5py.File(record["path"]) as handle:
        expected = {handle["recordings"][r].attrs["subject"] for r in record["splits"]["test"]}
    assert scored == {str(s) for s in expected} and len(scored) == 1


@pytest.fixture
def other_cohort(small_cohort, tmp_path) -> Path:
    """The same recording ids holding other nights (the scoring shifted by one epoch)."""
    path = tmp_path / "other.h5"
    shutil.copy(small_cohort, path)
    with h5py.File(path, "r+") as handle:
        for rid in handle["recordings"]:
            stage = handle["recordings"][rid]["epochs"]["stage"]
            stage[:] = np.roll(stage[:], 1)
    return path


def test_evaluate_test_split_on_another_cohort_is_refused_and_all_names_the_trained_ones(eeg_run, other_cohort, capsys):
    data = json.loads((eeg_run / "best" / "config.json").read_text())["data"]
    code, _, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--data", other_cohort], capsys)
    assert code == 2
    assert one_line(err) == (f"error: {other_cohort}: the checkpoint's test split cannot be reproduced here: "
                             f"recordings of those names hold other nights than it was trained on ({data['path']}); "
                             "pass --split all to score every recording")
    code, out, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--data", other_cohort, "--split", "all"], capsys)
    train = data["splits"]["train"]
    assert code == 0 and err.splitlines()[0] == (
        f"[sleep_kd] note: {len(train)} of the 10 recordings scored were in the checkpoint's training split "
        f"({', '.join(train[:5])} and {len(train) - 5} more): their scores are not held out")


def test_evaluate_on_a_cohort_without_the_test_recordings_is_refused(eeg_run, small_cohort, tmp_path, capsys):
    data = json.loads((eeg_run / "best" / "config.json").read_text())["data"]
    smaller = tmp_path / "smaller.h5"
    shutil.copy(small_cohort, smaller)
    with h5py.File(smaller, "r+") as handle:
        del handle["recordings"][data["splits"]["test"][0]]
    code, _, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--data", smaller, "--split", "test"], capsys)
    assert code == 2
    assert one_line(err) == (f"error: {smaller}: the checkpoint's test split cannot be reproduced here: its recordings "
                             f"{data['splits']['test'][0]} are not in this cohort (it was trained on {data['path']}); "
                             "pass --split all to score every recording")


def test_evaluate_on_a_grown_cohort_scores_the_same_test_recordings(eeg_run, small_cohort, tmp_path, capsys):
    grown = tmp_path / "grown.h5"
    shutil.copy(small_cohort, grown)
    with h5py.File(grown, "r+") as handle:
        first = sorted(handle["recordings"])[0]
        handle.copy(handle["recordings"][first], "recordings/ZZ-new-night")
    base, grown_report = tmp_path / "base.json", tmp_path / "grown.json"
    assert run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--json", base], capsys)[0] == 0
    code, _, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--data", grown, "--json", grown_report], capsys)
    assert code == 0
    assert err.splitlines()[0] == (f"[sleep_kd] note: {grown} has 1 recordings outside the checkpoint's splits "
                                   "(ZZ-new-night); scoring only its test split")
    keep = ("accuracy", "kappa", "n_epochs", "confusion_matrix")
    assert {k: json.loads(grown_report.read_text())[k] for k in keep} == {k: json.loads(base.read_text())[k] for k in keep}


# --- 3. output locations checked before the work, one line each --------------------------------

def test_out_that_is_a_file_exits_2(small_cohort, tmp_path, capsys):
    target = tmp_path / "run.txt"
    target.write_text("notes")
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(small_cohort, tmp_path, "--out", target)],
                           capsys)
    assert code == 2
    assert one_line(err) == f"error: --out {target}: {target} is a file, expected a folder"
    assert target.read_text() == "notes"


def test_out_under_a_folder_that_cannot_be_written_exits_2(small_cohort, tmp_path, capsys):
    target = Path("/sys/sleep_kd_run")  # not writable even by root (permission bits are not enough for root)
    code, _, err = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(small_cohort, tmp_path, "--out", target)],
                           capsys)
    assert code == 2
    assert one_line(err) == "error: --out /sys/sleep_kd_run: folder /sys cannot be written (Permission denied)"


def test_out_on_a_full_disk_exits_2_before_training(small_cohort, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(outputs.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 2**20, 2**20))
    out = tmp_path / "full"
    code, stdout, err = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(small_cohort, tmp_path, "--out", out)],
                                capsys)
    assert code == 2
    assert one_line(err) == (f"error: --out {out}: not enough free disk space in {tmp_path}: 1.0 MiB free, "
                             "about 16.0 MiB needed")
    assert not out.exists() and stdout == ""


def test_json_that_is_an_existing_folder_exits_2_before_scoring(eeg_run, tmp_path, capsys):
    code, stdout, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--json", tmp_path], capsys)
    assert code == 2
    assert one_line(err) == f"error: --json {tmp_path}: {tmp_path} is a folder, expected a file name"
    assert stdout == ""


def test_json_under_a_folder_that_cannot_be_written_exits_2_before_scoring(eeg_run, capsys):
    code, stdout, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--json", "/sys/report.json"], capsys)
    assert code == 2
    assert one_line(err) == "error: --json /sys/report.json: folder /sys cannot be written (Permission denied)"
    assert stdout == ""


def test_a_write_that_fails_midway_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text("{}")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", full)
    with pytest.raises(InputError) as error:
        outputs.write_text_atomic(target, '{"kappa": 1}', label=f"--json {target}")
    assert str(error.value) == f"--json {target}: could not write {target} (No space left on device)"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"] and target.read_text() == "{}"


def test_a_read_only_cohort_folder_is_usable_for_training(small_cohort, tmp_path, capsys):
    folder = tmp_path / "readonly"
    folder.mkdir()
    cohort = folder / "cohort.h5"
    shutil.copy(small_cohort, cohort)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        out = tmp_path / "run"
        code, _, _ = run_cli(train_loop.main, ["--strategy", "ecg_base", *train_argv(cohort, tmp_path, "--out", out)],
                             capsys)
        assert code == 0
        assert [p.name for p in folder.iterdir()] == ["cohort.h5"]  # nothing written beside the cohort
        assert set(json.loads((out / "splits.json").read_text())) >= {"train", "val", "test"}
    finally:
        folder.chmod(stat.S_IRWXU)


# --- 3. malformed checkpoint records and cohorts without scored windows -------------------------

@pytest.mark.parametrize("section, key, value, allowed", [
    ("model", "sfreq", "abc", "expected a number like the preset's 100.0"),
    ("model", "filters", "abc", "expected a list like the preset's [8, 16, 32, 64]"),
    ("model", "kernel_size", 5.5, "expected an integer like the preset's 5"),
    ("data", "window_s", "long", "allowed: a finite number in (0, 300]"),
    ("data", "normalization", 3, "allowed: one of minmax, zscore, none"),
])
def test_a_checkpoint_value_of_the_wrong_type_is_one_line(eeg_run, tmp_path, capsys, section, key, value, allowed):
    folder = tmp_path / "ckpt"
    shutil.copytree(eeg_run / "best", folder)
    record = json.loads((folder / "config.json").read_text())
    record[section][key] = value
    (folder / "config.json").write_text(json.dumps(record))
    code, _, err = run_cli(evaluate.main, [folder, "--cpu"], capsys)
    assert code == 2
    assert one_line(err) == f"error: checkpoint {folder / 'config.json'}: {section}.{key} is {value!r}; {allowed}"


def _unscored(cohort: Path, tmp_path: Path, recordings) -> Path:
    path = tmp_path / "unscored.h5"
    shutil.copy(cohort, path)
    with h5py.File(path, "r+") as handle:
        for rid in recordings:
            handle["recordings"][rid]["epochs"]["stage"][:] = -2  # Stage.UNSCORED
    return path


def test_a_validation_split_with_no_scored_window_is_refused_before_training(eeg_run, small_cohort, prior_run,
                                                                             tmp_path, capsys):
    out, before = prior_run
    val = json.loads((eeg_run / "splits.json").read_text())["val"]
    cohort = _unscored(small_cohort, tmp_path, val)
    code, stdout, err = run_cli(train_loop.main, ["--strategy", "eeg_base",
                                                  *train_argv(cohort, out.parent, "--out", out)], capsys)
    assert code == 2
    assert one_line(err) == (f"error: {cohort}: the val split has no scored window (recordings: {', '.join(val)}); "
                             "each needs epochs with a stage of data.n_classes=4 and 30 s of signal around them")
    assert snapshot(out) == before and "training" not in stdout


def test_evaluating_a_cohort_with_no_scored_window_is_refused(eeg_run, small_cohort, tmp_path, capsys):
    with h5py.File(small_cohort) as handle:
        everything = sorted(handle["recordings"])
    cohort = _unscored(small_cohort, tmp_path, everything)
    code, _, err = run_cli(evaluate.main, [eeg_run / "best", "--cpu", "--data", cohort, "--split", "all"], capsys)
    assert code == 2
    assert err.splitlines()[-1] == (f"error: {cohort}: the all split has no scored window (recordings: "
                                    f"{', '.join(everything[:5])} ...); each needs epochs with a stage of "
                                    "data.n_classes=4 and 30 s of signal around them")


def test_a_saved_progress_with_a_value_of_the_wrong_type_is_one_line(prior_run, capsys):
    out, _ = prior_run
    progress = json.loads((out / "state" / "progress.json").read_text())
    progress["global_step"] = "many"
    (out / "state" / "progress.json").write_text(json.dumps(progress))
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", "--resume", out], capsys)
    assert code == 2
    assert one_line(err) == f"error: {out / 'state' / 'progress.json'}: 'global_step' is 'many', expected int"
