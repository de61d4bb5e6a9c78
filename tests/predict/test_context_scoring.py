"""A night-context checkpoint stages a night by the one rule of sleep_kd.evaluation.night_scoring."""

import numpy as np
import pytest
import torch

from sleep_kd.evaluation.night_scoring import CONTEXT_RULE, CONTEXT_RULES, night_logits, sequence_starts
from sleep_kd.predict.scoring import score_night
from tests.predict.conftest import tiny_context_model

def _model(sequence: str = "tcn", *, context_epochs: int = 6):
    return tiny_context_model(sequence, context_epochs=context_epochs)


def _softmax(model, windows: np.ndarray, start: int, stop: int) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(windows[None, start:stop, None, :])), dim=-1)[0].numpy()


@pytest.mark.parametrize("rule", CONTEXT_RULES)
@pytest.mark.parametrize("n_epochs, context", [(3, 8), (8, 8), (9, 8), (41, 8), (100, 20), (21, 4)])
def test_sequences_cover_every_epoch_and_end_with_the_night(n_epochs, context, rule):
    starts = sequence_starts(n_epochs, context, rule=rule)
    covered = np.zeros(max(n_epochs, context), dtype=int)
    for start in starts:
        covered[start:start + context] += 1
    assert covered[:n_epochs].min() >= 1
    assert starts[0] == 0 and (n_epochs <= context or starts[-1] == n_epochs - context)
    step = context if rule == "tile" else max(1, context // 2)
    assert all(b - a <= step for a, b in zip(starts, starts[1:]))


def test_the_rules_start_their_sequences_where_documented():
    assert sequence_starts(25, 10, rule="tile") == [0, 10, 15]
    assert sequence_starts(25, 10, rule="overlap") == [0, 5, 10, 15]
    assert sequence_starts(4, 10, rule="overlap") == [0]


def test_the_documented_rule_is_the_one_scoring_uses():
    model, windows = _model(), np.random.default_rng(3).standard_normal((17, 3000)).astype(np.float32)
    chosen = night_logits(model, torch.from_numpy(windows)[:, None], rule=CONTEXT_RULE)
    np.testing.assert_allclose(score_night(model, windows), torch.softmax(chosen, -1).numpy(), atol=1e-6)


@pytest.mark.parametrize("sequence", ["tcn", "gru", "transformer"])
def test_overlap_scores_each_epoch_as_the_mean_of_the_sequences_holding_it(sequence):
    model = _model(sequence)
    windows = np.random.default_rng(0).standard_normal((17, model.n_times)).astype(np.float32)
    logits = night_logits(model, torch.from_numpy(windows)[:, None], batch_size=12, rule="overlap")
    proba = torch.softmax(logits, dim=-1).numpy()
    assert proba.shape == (17, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    first, second = _softmax(model, windows, 0, 6), _softmax(model, windows, 3, 9)  # starts 0, 3, 6, 9, 11
    np.testing.assert_allclose(proba[0], first[0], atol=1e-5)  # epoch 0: the first sequence only
    np.testing.assert_allclose(proba[3], (first[3] + second[0]) / 2, atol=1e-5)
    last, before = _softmax(model, windows, 11, 17), _softmax(model, windows, 9, 15)
    np.testing.assert_allclose(proba[16], last[5], atol=1e-5)
    np.testing.assert_allclose(proba[12], (before[3] + last[1]) / 2, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 5, 128])
def test_tile_scores_each_epoch_from_the_first_tile_holding_it(batch_size):
    model = _model()
    windows = np.random.default_rng(1).standard_normal((15, model.n_times)).astype(np.float32)
    logits = night_logits(model, torch.from_numpy(windows)[:, None], batch_size=batch_size, rule="tile")
    tiles = [_softmax(model, windows, start, start + 6) for start in (0, 6, 9)]  # the last ends with the night
    expected = np.concatenate([tiles[0], tiles[1], tiles[2][3:]])  # epochs 9-11 from the second tile
    np.testing.assert_allclose(torch.softmax(logits, -1).numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("rule", CONTEXT_RULES)
def test_a_night_shorter_than_the_context_is_padded_with_zero_windows_at_its_end(rule):
    model = _model()
    windows = np.random.default_rng(1).standard_normal((2, model.n_times)).astype(np.float32)
    proba = torch.softmax(night_logits(model, torch.from_numpy(windows)[:, None], rule=rule), -1).numpy()
    padded = np.concatenate([windows, np.zeros((4, model.n_times), np.float32)])
    np.testing.assert_allclose(proba, _softmax(model, padded, 0, 6)[:2], atol=1e-5)


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="rule must be one of tile, overlap, got 'middle'"):
        night_logits(_model(), torch.zeros(3, 1, 3000), rule="middle")
