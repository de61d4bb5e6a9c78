"""A causal context checkpoint stages each epoch as a live monitor shows it at the end of that epoch."""

import numpy as np
import pytest
import torch

from sleep_kd.evaluation.live import live_logits
from sleep_kd.predict.scoring import score_night
from tests.predict.conftest import tiny_context_model

def _model(sequence: str = "tcn_causal", *, context_epochs: int = 6):
    return tiny_context_model(sequence, context_epochs=context_epochs)


def _night(n_epochs: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n_epochs, 3000)).astype(np.float32)


@pytest.mark.parametrize("n_epochs, batch_size", [(3, 128), (6, 4), (17, 1), (17, 5), (17, 128)])
def test_each_epoch_is_the_last_of_the_T_epochs_that_end_with_it(n_epochs, batch_size):
    """Row t = model(x[t-5 .. t])[-1], with zero windows before the night (as training pads)."""
    model = _model()
    windows = torch.from_numpy(_night(n_epochs))[:, None, :]
    padded = torch.cat([torch.zeros(5, 1, 3000), windows])
    with torch.no_grad():
        expected = torch.stack([model(padded[None, t:t + 6])[0, -1] for t in range(n_epochs)])
    torch.testing.assert_close(live_logits(model, windows, batch_size=batch_size), expected, rtol=1e-5, atol=1e-5)


def test_scoring_the_first_n_epochs_gives_what_the_whole_night_gave_them():
    model, night = _model(), _night(20, seed=1)
    whole = score_night(model, night, batch_size=7)
    assert whole.shape == (20, 4)
    np.testing.assert_allclose(whole.sum(axis=1), 1.0, atol=1e-5)
    for n in range(1, 21):
        first = score_night(model, night[:n], batch_size=5)
        # float32 kernels may round one epoch differently in two calls (order of summation follows the
        # memory alignment, ~1e-5 of a logit); a read of a later epoch moves probabilities by far more (below)
        np.testing.assert_allclose(first, whole[:n], rtol=0, atol=1e-5)
        assert (first.argmax(axis=1) == whole[:n].argmax(axis=1)).all()


def test_a_bidirectional_model_scored_on_part_of_a_night_changes_its_last_epochs():
    """The check above can fail: ``tcn`` averages sequences that run past the epoch."""
    model, night = _model("tcn"), _night(20, seed=1)
    whole, first = score_night(model, night), score_night(model, night[:12])
    assert not np.allclose(first[-1], whole[11], atol=1e-4)


def test_live_scoring_in_bf16_agrees_with_float32():
    model, night = _model(), _night(9, seed=2)
    np.testing.assert_allclose(score_night(model, night, precision="bf16"), score_night(model, night),
                               atol=0.05)
