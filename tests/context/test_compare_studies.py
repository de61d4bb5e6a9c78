"""sleep-kd study compare_studies: two studies paired by fold and context."""

import json
from pathlib import Path

import pytest

from sleep_kd.studies import compare_studies

ROOT = Path(__file__).resolve().parents[2]


def study(val, test, context=0, seconds=10.0):
    return {"rows": [{"fold": f, "context_epochs": context, "strategy": "ecg_base", "val_kappa": v,
                      "test": {"kappa": t}, "fold_seconds": seconds} for f, (v, t) in enumerate(zip(val, test))]}


def test_the_change_is_paired_by_fold_with_a_t_interval():
    a = study([0.5, 0.6, 0.7], [0.40, 0.50, 0.60])
    b = study([0.6, 0.7, 0.8], [0.41, 0.53, 0.62], seconds=5.0)
    entry = compare_studies.paired(a, b, "ecg_base")[0]
    change = entry["test kappa"]["change"]
    assert change["mean"] == pytest.approx(0.02)  # changes 0.01, 0.03, 0.02: sd 0.01, t(0.975, 2) = 4.303
    assert change["high"] - change["mean"] == pytest.approx(4.3027 * 0.01 / 3 ** 0.5, rel=1e-4)
    assert entry["validation kappa"]["change"]["high"] == pytest.approx(0.1)  # the same change every fold: no spread
    assert entry["seconds"] == (30.0, 15.0)
    assert "test kappa vs true stages" not in entry  # neither study scored true stages


def test_studies_of_other_folds_are_refused_with_one_line(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(study([0.5, 0.6], [0.4, 0.5])))
    b.write_text(json.dumps(study([0.5], [0.4])))
    assert compare_studies.main([str(a), str(b)]) == 2
    assert capsys.readouterr().err == (f"error: {a} against {b}: context 0: folds [0, 1] in the first study, "
                                       "[0] in the second\n")


def test_the_committed_fast_and_plain_studies_render():
    results = ROOT / "results" / "fast_training"
    table = compare_studies.render(compare_studies.paired(json.loads((results / "plain.json").read_text()),
                                                          json.loads((results / "fast.json").read_text()), "ecg_base"))
    assert "| context 20 | 0.709 vs 0.705: -0.004 [-0.034, +0.026] |" in table
