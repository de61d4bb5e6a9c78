"""evaluate.py and sleep_kd.predict stage the same night the same: same epochs, stages and probabilities.

Both call :func:`sleep_kd.evaluation.night_scoring.night_logits`; here evaluate's per-epoch
predictions on a cohort night (``predict_checkpoint``, what ``evaluate.py`` prints) are compared
with what predict's :func:`~sleep_kd.predict.scoring.score_night` gives the same night's windows.
(That predict prepares a night's windows as the cohort holds them is ``test_same_as_training.py``'s.)
"""

import numpy as np
import pytest
import torch

from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.evaluation.live import whole_nights
from sleep_kd.evaluation.night_scoring import CONTEXT_RULE, night_logits
from sleep_kd.evaluation.scoring import predict_checkpoint
from sleep_kd.predict.scoring import load_stager, score_night


def _night(dataset, index: int) -> np.ndarray:
    """The windows (n_epochs, n_times) of recording ``index`` of a scored split: every epoch of the night, in order."""
    nights = whole_nights(dataset.path, context_epochs=1, n_classes=dataset.n_classes, recordings=dataset.recordings,
                          sfreq=dataset.sfreq, window_s=dataset.window_s, normalization=dataset.normalization,
                          modalities=dataset.modalities)
    item = nights.__getitems__([index])[0]
    return item[dataset.modalities[0]][:int((item["epoch"] >= 0).sum()), 0].numpy()


@pytest.mark.parametrize("kind", ["context", "one_window"])
def test_evaluate_and_predict_give_a_night_the_same_stages_and_probabilities(kind, context_checkpoint,
                                                                              ecg_checkpoint):
    checkpoint = context_checkpoint if kind == "context" else ecg_checkpoint
    scored = predict_checkpoint(checkpoint, split="all", cpu=True, precision="no", probabilities=True)
    predictions, dataset = scored.predictions, scored.dataset
    stager = load_stager(checkpoint, cpu=True, precision="no")
    for index in (0, 2, len(dataset.recordings) - 1):  # 30-s and 20-s (R&K) epochs
        mine = predictions.recording == index
        epochs = predictions.epoch[mine]
        night = _night(dataset, index)
        ours = score_night(stager.model, night, precision="no")  # what predict gives the night
        assert mine.sum() > 40 and len(night) > epochs.max()  # a 30-min night, nearly every epoch scored
        np.testing.assert_array_equal(np.diff(epochs) > 0, True)  # each scored epoch once, in night order
        np.testing.assert_allclose(predictions.probabilities[mine], ours[epochs], rtol=0, atol=1e-5)
        np.testing.assert_array_equal(predictions.y_pred[mine], ours[epochs].argmax(axis=1))


def test_the_other_rule_gives_other_probabilities_so_the_check_above_can_fail(context_checkpoint):
    """Scored by the rule not chosen, the same night differs from what evaluate reports (the rule matters here)."""
    other = "tile" if CONTEXT_RULE == "overlap" else "overlap"
    scored = predict_checkpoint(context_checkpoint, split="all", cpu=True, precision="no", probabilities=True)
    mine = scored.predictions.recording == 0
    model, _ = model_from_checkpoint(context_checkpoint)
    night = torch.from_numpy(_night(scored.dataset, 0))[:, None]
    proba = torch.softmax(night_logits(model, night, rule=other), -1).numpy()
    gap = np.abs(proba[scored.predictions.epoch[mine]] - scored.predictions.probabilities[mine]).max()
    assert gap > 1e-4  # 10 x the tolerance above
