"""paths.encoder_init: a single-window checkpoint starts a context model's per-epoch encoder."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import train_loop
from sleep_kd.engine.assembly import start_encoder
from sleep_kd.engine.config import defaults
from sleep_kd.errors import InputError
from sleep_kd.models import create_model

TINY_WINDOW = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"
TINY = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16, sequence_width=8, sequence_layers=2)


def one_window_run(cohort: Path, runs: Path, strategy: str) -> Path:
    out = runs / f"one-{strategy}"
    assert train_loop.main(["--strategy", strategy, "--data", str(cohort), "--cpu", "--batch-size", "16",
                            "--epochs", "1", "--max-steps", "3", "--set", TINY_WINDOW, "--out", str(out),
                            "--runs", str(runs)]) == 0
    return out / "best"


@pytest.fixture(scope="module")
def one_window(tiny_cohort, tmp_path_factory):
    runs = tmp_path_factory.mktemp("one_window")
    return {s: one_window_run(tiny_cohort, runs, s) for s in ("ecg_base", "eeg_base")}


def config_for(checkpoint: Path) -> dict:
    config = defaults()
    config["paths"]["encoder_init"] = str(checkpoint)
    return config


def test_the_encoder_takes_the_checkpoints_weights_and_the_model_its_scores(one_window):
    model = create_model("context_small", n_classes=4, context_epochs=8, **TINY).eval()
    start_encoder(model, config_for(one_window["ecg_base"]), modality="ecg")
    saved = load_file(one_window["ecg_base"] / "model.safetensors")
    assert set(saved) == set(model.encoder.state_dict())
    for key, value in model.encoder.state_dict().items():
        assert torch.equal(value, saved[key]), key
    single = create_model("utime_small", n_classes=4, filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16)
    single.load_state_dict(saved)
    x = torch.rand(2, 8, 1, 3000)
    with torch.no_grad():
        assert torch.equal(model(x), single.eval()(x.flatten(0, 1)).view(2, 8, 4))


def test_an_eeg_checkpoint_cannot_start_an_ecg_student(one_window):
    model = create_model("context_small", n_classes=4, context_epochs=8, **TINY)
    with pytest.raises(InputError) as error:
        start_encoder(model, config_for(one_window["eeg_base"]), modality="ecg")
    assert str(error.value) == (f"encoder_init checkpoint {one_window['eeg_base']} was trained with modality "
                                "'eeg', this run needs 'ecg' (the strategy's student)")


def test_another_encoder_is_refused(one_window):
    model = create_model("context_small", n_classes=4, context_epochs=8, **{**TINY, "filters": [4, 12]})
    with pytest.raises(InputError) as error:
        start_encoder(model, config_for(one_window["ecg_base"]), modality="ecg")
    assert str(error.value) == (f"encoder_init checkpoint {one_window['ecg_base']} is a different model: "
                                "filters is [4, 8] there, [4, 12] here")


def test_a_single_window_model_takes_no_encoder_init(one_window):
    model = create_model("utime_small", n_classes=4)
    with pytest.raises(InputError) as error:
        start_encoder(model, config_for(one_window["ecg_base"]), modality="ecg")
    assert str(error.value) == (f"paths.encoder_init {one_window['ecg_base']}: starts the per-epoch encoder of a "
                                "context model, and utime_small has none; use paths.init for a single-window model")


def test_a_run_started_from_an_encoder_trains_and_records_it(one_window, tiny_cohort, tmp_path, context_args):
    out = tmp_path / "ctx"
    assert train_loop.main(["--strategy", "kd_temp", *context_args(
        tiny_cohort, tmp_path, "--out", str(out), "--max-steps", "2",
        "--set", f"paths.encoder_init={one_window['ecg_base']}")]) == 0
    record = json.loads((out / "best" / "config.json").read_text())
    assert record["config"]["paths"]["encoder_init"] == str(one_window["ecg_base"])
    # kd_temp's EEG teacher was trained first, from scratch: the ECG encoder is not for it.
    teacher = json.loads((Path(record["config"]["paths"]["teacher"]) / "config.json").read_text())
    assert teacher["config"]["paths"]["encoder_init"] is None


def test_a_context_checkpoint_is_refused_as_an_encoder(one_window, tiny_cohort, tmp_path, context_args, capsys):
    first = tmp_path / "ctx"
    assert train_loop.main(["--strategy", "ecg_base", *context_args(tiny_cohort, tmp_path, "--out", str(first),
                                                                    "--max-steps", "1")]) == 0
    capsys.readouterr()
    second = tmp_path / "again"
    assert train_loop.main(["--strategy", "ecg_base", *context_args(
        tiny_cohort, tmp_path, "--out", str(second), "--max-steps", "1",
        "--set", f"paths.encoder_init={first / 'best'}")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: paths.encoder_init {first / 'best'}: is a context model (context_small); it takes a "
        "single-window checkpoint (paths.init takes a whole context model)")
    assert not (second / "config.yaml").exists()
