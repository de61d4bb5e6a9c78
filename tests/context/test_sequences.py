"""Sequences of epochs: evaluation scores every scored epoch once, training moves every epoch through
every position, unscored epochs stay on the timeline with label -1."""

import numpy as np
import pytest
import torch

from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data import cohort_file as store
from sleep_kd.data.sequences import CohortSequences
from sleep_kd.data.stages import to_classes
from sleep_kd.errors import InputError

T = 8


def sequences(cohort, *, train, recordings=None, context_epochs=T):
    return CohortSequences(cohort, n_classes=4, recordings=recordings, sfreq=100.0, context_epochs=context_epochs,
                           train=train, seed=3, modalities=("ecg",))


def test_evaluation_scores_every_scored_epoch_exactly_once(tiny_cohort):
    data = sequences(tiny_cohort, train=False)
    windows = CohortWindows(tiny_cohort, n_classes=4, sfreq=100.0, modalities=("ecg",))
    items = data.__getitems__(range(len(data)))
    label = torch.stack([i["label"] for i in items]).reshape(-1).numpy()
    rec = torch.stack([i["recording"] for i in items]).reshape(-1).numpy()
    epoch = torch.stack([i["epoch"] for i in items]).reshape(-1).numpy()
    counted = label >= 0
    pairs = sorted(zip(rec[counted].tolist(), epoch[counted].tolist()))
    assert pairs == sorted(zip(windows._rec.tolist(), windows._epoch.tolist()))  # each once, the same epochs
    assert len(set(pairs)) == len(pairs) == data.n_scored == len(windows)
    order = np.lexsort((epoch[counted], rec[counted]))
    assert np.array_equal(label[counted][order], windows.labels)


def test_windows_are_the_single_window_datasets_own(tiny_cohort):
    data = sequences(tiny_cohort, train=False, recordings=None)
    windows = CohortWindows(tiny_cohort, n_classes=4, sfreq=100.0, modalities=("ecg",))
    item = data[0]
    assert item["ecg"].shape == (T, 1, 3000) and item["ecg"].dtype == torch.float32
    for t in range(T):
        if item["label"][t] >= 0:
            k = int(np.flatnonzero((windows._rec == 0) & (windows._epoch == int(item["epoch"][t])))[0])
            assert torch.equal(item["ecg"][t], windows[k]["ecg"])


def test_training_offsets_move_each_epoch_through_every_position(tiny_cohort):
    data = sequences(tiny_cohort, train=True, recordings=None)
    seen: dict[tuple[int, int], set[int]] = {}
    for epoch in range(60):
        for item in range(len(data)):
            rec, pos, _ = data.positions(data.item_index(item, epoch))
            for t, p in enumerate(pos):
                seen.setdefault((rec, int(p)), set()).add(t)
    n = int(data._sizes[0])
    assert all(seen[(0, p)] == set(range(T)) for p in range(T, n - T))  # away from the night's ends
    assert {p for (r, p) in seen if r == 0 and 0 <= p < n} == set(range(n))  # nothing left out


def test_training_offsets_depend_on_seed_and_epoch_only(tiny_cohort):
    a, b = sequences(tiny_cohort, train=True), sequences(tiny_cohort, train=True)
    assert np.array_equal(a.offsets(5), b.offsets(5))
    assert not all(np.array_equal(a.offsets(5), a.offsets(e)) for e in range(6, 10))
    index = a.item_index(3, 7)
    assert torch.equal(a[index]["ecg"], b[index]["ecg"]) and torch.equal(a[index]["label"], b[index]["label"])


def test_unscored_epochs_stay_in_the_input_with_label_minus_one(tiny_cohort):
    with store.open_cohort(tiny_cohort) as handle:
        rid = store.recording_ids(handle)[0]
        stages = store.read_epochs(handle, rid).stage
    classes = to_classes(stages, 4)
    data = sequences(tiny_cohort, train=False, recordings=[rid])
    labels = torch.cat([data[i]["label"] for i in range(len(data))]).numpy()
    signals = torch.cat([data[i]["ecg"] for i in range(len(data))])
    epochs = torch.cat([data[i]["epoch"] for i in range(len(data))]).numpy()
    first = {int(e): k for k, e in reversed(list(enumerate(epochs)))}
    unscored = [int(e) for e in np.flatnonzero(classes < 0) if 0 < e < classes.size - 1]
    if not unscored:  # make one: the label table is what masks, whatever the stage
        data._labels[0][5] = -1
        unscored = [5]
        labels = torch.cat([data[i]["label"] for i in range(len(data))]).numpy()
    for e in unscored:
        assert labels[first[e]] == -1
        assert signals[first[e]].abs().sum() > 0  # the window is there: the timeline stays continuous


def test_a_recording_shorter_than_the_context_is_padded_and_masked(tiny_cohort):
    data = sequences(tiny_cohort, train=False, recordings=None, context_epochs=70)
    item = data[0]
    n = int(data._sizes[0])
    assert item["ecg"].shape == (70, 1, 3000)
    assert (item["epoch"][n:] == -1).all() and (item["label"][n:] == -1).all()
    assert item["ecg"][n:].abs().sum() == 0


def test_bad_context_length_is_refused(tiny_cohort):
    with pytest.raises(InputError, match="context_epochs must be a positive integer, got 0"):
        sequences(tiny_cohort, train=False, context_epochs=0)
