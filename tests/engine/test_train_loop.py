"""train_loop.py end to end on the CPU: every strategy, prerequisites, checkpoints, TensorBoard."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import train_loop
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.strategies import list_strategies


ROOT = Path(__file__).resolve().parents[2]


def run_dir(runs: Path, strategy: str) -> Path:
    return runs / "tiny" / "4class" / strategy


@pytest.fixture(scope="module")
def chain(tiny_cohort, tmp_path_factory, train_args):
    """feat_temp trained from nothing: it must train eeg_base and feat_train first."""
    runs = tmp_path_factory.mktemp("runs")
    result = subprocess.run([sys.executable, "train_loop.py", "--strategy", "feat_temp",
                             *train_args(tiny_cohort, runs, "--max-steps", "2")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return runs, result.stdout


def test_feat_temp_trains_its_prerequisites_first_and_says_so(chain):
    runs, stdout = chain
    assert "feat_temp needs its teacher from 'eeg_base'" in stdout
    assert "feat_train needs its teacher from 'eeg_base'" not in stdout  # trained once, then reused
    assert "feat_temp needs its init from 'feat_train'" in stdout
    assert stdout.index("training eeg_base") < stdout.index("training feat_train") < stdout.index("training feat_temp")
    for strategy in ("eeg_base", "feat_train", "feat_temp"):
        folder = run_dir(runs, strategy)
        assert sorted(p.name for p in (folder / "best").iterdir()) == ["config.json", "metrics.json",
                                                                        "model.safetensors"]
        assert (folder / "last" / "model.safetensors").is_file() and (folder / "config.yaml").is_file()


def test_feat_temp_student_starts_from_feat_train_weights(chain, tiny_cohort):
    runs, _ = chain
    config = json.loads((run_dir(runs, "feat_temp") / "best" / "config.json").read_text())
    assert config["config"]["paths"]["init"] == str(run_dir(runs, "feat_train") / "best")
    assert config["config"]["paths"]["teacher"] == str(run_dir(runs, "eeg_base") / "best")


def test_every_strategy_runs_two_steps_through_the_entry_point(chain, tiny_cohort, train_args):
    runs, _ = chain
    for strategy in list_strategies():
        code = train_loop.main(["--strategy", strategy, *train_args(tiny_cohort, runs, "--max-steps", "2")])
        assert code == 0, strategy
        metrics = json.loads((run_dir(runs, strategy) / "last" / "metrics.json").read_text())
        assert metrics["step"] == 2
        assert 0.0 <= metrics["accuracy"] <= 1.0


def test_tensorboard_event_files_hold_the_scalars(chain):
    runs, _ = chain
    events = EventAccumulator(str(run_dir(runs, "feat_temp") / "tensorboard"))
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/loss", "train/sd_loss", "train/lr", "train/epochs_per_s", "val/kappa",
            "val/weighted_f1"} <= scalars
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]
    assert {"val/confusion_matrix", "val/hypnogram"} <= set(events.Tags()["images"])


def test_reloaded_checkpoint_gives_identical_predictions(chain):
    runs, _ = chain
    model, record = model_from_checkpoint(run_dir(runs, "feat_temp") / "best")
    again, _ = model_from_checkpoint(run_dir(runs, "feat_temp") / "best")
    x = torch.rand(4, 1, model.n_times)
    assert torch.equal(model(x), again(x))
    assert record.config["data"]["modality"] == "ecg" and record.config["data"]["sfreq"] == 100.0


def test_kd_temp_without_a_teacher_in_reach_is_clear(tiny_cohort, tmp_path, capsys, train_args):
    code = train_loop.main(["--strategy", "kd_temp", *train_args(tiny_cohort, tmp_path, "--teacher",
                                                                 str(tmp_path / "missing"))])
    assert code == 2
    assert capsys.readouterr().err.strip() == (f"error: checkpoint {tmp_path / 'missing'} does not exist "
                                               "(expected a folder with model.safetensors and config.json)")


def test_same_seed_gives_identical_metrics(tiny_cohort, tmp_path, train_args):
    metrics = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert train_loop.main(["--strategy", "ecg_base", *train_args(tiny_cohort, tmp_path, "--out", str(out),
                                                                      "--max-steps", "3")]) == 0
        metrics.append(json.loads((out / "last" / "metrics.json").read_text()))
    assert metrics[0] == metrics[1]


def test_unknown_strategy_lists_the_known_ones(capsys):
    assert train_loop.main(["--strategy", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ecg_base" in err and "kd_temp" in err


def test_feat_wce_student_starts_from_feat_train_weights(tiny_cohort, tmp_path, train_args):
    """feat_wce ends two small Adam steps away from a feat_train of another seed, far from its own fresh init."""
    from accelerate.utils import set_seed

    from sleep_kd.models import model_from_config

    start = tmp_path / "feat_train"
    assert train_loop.main(["--strategy", "feat_train", *train_args(tiny_cohort, tmp_path, "--max-steps", "2",
                                                                    "--out", str(start), "--seed", "7")]) == 0
    assert train_loop.main(["--strategy", "feat_wce", *train_args(tiny_cohort, tmp_path, "--max-steps", "2",
                                                                  "--init", str(start / "best"))]) == 0
    begun, _ = model_from_checkpoint(start / "best")
    trained, _ = model_from_checkpoint(run_dir(tmp_path, "feat_wce") / "best")
    set_seed(42)  # a feat_wce from scratch would have started here (the trainer seeds, then builds)
    fresh = model_from_config(trained.config)
    weights = [n for n, _ in begun.named_parameters() if n.endswith("weight")]
    near = max((trained.state_dict()[n] - begun.state_dict()[n]).abs().max().item() for n in weights)
    far = max((trained.state_dict()[n] - fresh.state_dict()[n]).abs().max().item() for n in weights)
    assert near <= 2 * 1e-3 + 1e-6 < 10 * near < far  # Adam moves a weight by at most about lr per step


def test_a_run_stopped_inside_its_first_epoch_names_the_best_checkpoints_scores(tiny_cohort, tmp_path, train_args,
                                                                               capsys):
    out = tmp_path / "stopped"
    assert train_loop.main(["--strategy", "ecg_base", *train_args(tiny_cohort, tmp_path, "--out", str(out),
                                                                   "--max-steps", "2")]) == 0
    done = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[sleep_kd] done:")]
    kappa = json.loads((out / "best" / "metrics.json").read_text())["kappa"]
    assert len(done) == 1 and f"kappa {kappa:.4f}" in done[0] and "(best: )" not in done[0]
