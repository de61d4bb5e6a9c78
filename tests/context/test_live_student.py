"""A real-time student end to end: train_loop.py with ``sequence: tcn_causal``, evaluate, then predict a night."""

import csv
import json

import numpy as np
import pytest

import train_loop
from sleep_kd.data import cohort_file as store
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.evaluation.live import whole_nights
from sleep_kd.evaluation.scoring import predict_checkpoint
from sleep_kd.models import is_causal
from sleep_kd.predict.__main__ import main as predict_main
from sleep_kd.predict.scoring import score_night


@pytest.fixture(scope="module")
def student(tiny_cohort, tmp_path_factory, context_args):
    """ecg_base, context_small (T = 8) with the causal TCN, 4 steps through the entry point."""
    runs = tmp_path_factory.mktemp("live-runs")
    code = train_loop.main(["--strategy", "ecg_base", *context_args(tiny_cohort, runs, "--max-steps", "4", "--set",
                                                                    "model.overrides.sequence=tcn_causal")])
    assert code == 0
    return runs / "tiny" / "4class" / "ecg_base" / "best"


def _hypnogram(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_override_makes_a_causal_checkpoint(student):
    record = json.loads((student / "config.json").read_text())
    assert record["model"]["sequence"] == "tcn_causal" and record["model"]["context_epochs"] == 8
    model, _ = model_from_checkpoint(student)
    assert is_causal(model)
    assert model.head.weight.abs().max() > 1e-3  # trained: the sequence model moves the logits


def test_evaluate_scores_each_night_as_predict_does(student, tiny_cohort):
    predictions, dataset, _, _ = predict_checkpoint(student, split="val", cpu=True, precision="no",
                                                    probabilities=True)
    assert predictions.y_true.size == dataset.n_scored > 20  # every scored epoch once
    model, _ = model_from_checkpoint(student)
    nights = whole_nights(tiny_cohort, context_epochs=8, n_classes=4, recordings=dataset.recordings,
                          sfreq=100.0, window_s=30.0, normalization=dataset.normalization, modalities=("ecg",))
    for rec, item in enumerate(nights.__getitems__(range(len(nights)))):
        n = int((item["epoch"] >= 0).sum())
        proba = score_night(model, item["ecg"][:n, 0].numpy(), precision="no")  # what predict gives the night
        mine = predictions.recording == rec
        np.testing.assert_allclose(predictions.probabilities[mine], proba[predictions.epoch[mine]], atol=1e-5)


def test_predict_stages_a_night_and_its_first_part_the_same(student, tiny_cohort, tmp_path):
    with store.open_cohort(tiny_cohort) as handle:
        attrs = store.recording_attrs(handle, store.recording_ids(handle)[0])
    edf = tiny_cohort.parent / "edf" / attrs["source_file"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert predict_main([str(student), str(edf), "--out", str(whole), "--no-progress", "--cpu"]) == 0
    assert predict_main([str(student), str(edf), "--out", str(part), "--end", "600", "--no-progress", "--cpu"]) == 0
    rows, first = _hypnogram(whole / f"{edf.stem}.hypnogram.csv"), _hypnogram(part / f"{edf.stem}.hypnogram.csv")
    assert len(first) == 20 and len(rows) > 40  # the first 10 minutes of a 30-minute night
    assert [r["stage"] for r in first] == [r["stage"] for r in rows[:20]]
    probabilities = [[float(v) for k, v in r.items() if k.startswith("p_")] for r in (*first, *rows[:20])]
    np.testing.assert_allclose(probabilities[:20], probabilities[20:], atol=1.5e-5)  # written with 5 decimals
