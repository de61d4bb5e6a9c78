"""A night-context checkpoint stages a night: T-epoch sequences with half overlap, averaged."""

import numpy as np
import pytest
import torch

from sleep_kd.models import create_model
from sleep_kd.predict.scoring import score_night, sequence_starts

TINY = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16, sequence_width=8, sequence_layers=2)


@pytest.mark.parametrize("n_epochs, context", [(3, 8), (8, 8), (9, 8), (41, 8), (100, 20), (21, 4)])
def test_sequences_cover_every_epoch_and_end_with_the_night(n_epochs, context):
    starts = sequence_starts(n_epochs, context)
    covered = np.zeros(max(n_epochs, context), dtype=int)
    for start in starts:
        covered[start:start + context] += 1
    assert covered[:n_epochs].min() >= 1
    assert starts[0] == 0 and (n_epochs <= context or starts[-1] == n_epochs - context)
    assert all(b - a <= max(1, context // 2) for a, b in zip(starts, starts[1:]))


@pytest.mark.parametrize("sequence", ["tcn", "gru", "transformer"])
def test_a_context_model_scores_a_night_as_the_mean_of_its_sequences(sequence):
    torch.manual_seed(0)
    model = create_model("context_small", n_classes=4, context_epochs=6, sequence=sequence, **TINY).eval()
    windows = np.random.default_rng(0).standard_normal((17, model.n_times)).astype(np.float32)
    proba = score_night(model, windows, batch_size=12)
    assert proba.shape == (17, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    with torch.no_grad():  # epoch 0 is in the first sequence only; epoch 3 in the first two (starts 0 and 3)
        first = torch.softmax(model(torch.from_numpy(windows[None, 0:6, None, :])), dim=-1)[0].numpy()
        second = torch.softmax(model(torch.from_numpy(windows[None, 3:9, None, :])), dim=-1)[0].numpy()
    np.testing.assert_allclose(proba[0], first[0], atol=1e-5)
    np.testing.assert_allclose(proba[3], (first[3] + second[0]) / 2, atol=1e-5)


def test_a_night_shorter_than_the_context_is_padded_and_scored():
    model = create_model("context_small", n_classes=4, context_epochs=6, **TINY).eval()
    windows = np.random.default_rng(1).standard_normal((2, model.n_times)).astype(np.float32)
    proba = score_night(model, windows)
    assert proba.shape == (2, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
