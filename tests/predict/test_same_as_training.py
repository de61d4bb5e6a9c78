"""A night staged by sleep_kd.predict is prepared exactly as the cohort windows the model trained on."""

import numpy as np

from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data import cohort_file as store
from sleep_kd.predict.night import prepare_windows, read_night
from sleep_kd.predict.scoring import load_stager, score_night


def test_windows_equal_the_training_windows_of_the_same_night(tiny_cohort, ecg_checkpoint):
    stager = load_stager(ecg_checkpoint, cpu=True)
    with store.open_cohort(tiny_cohort) as handle:
        rid = store.recording_ids(handle)[0]  # 01-01-0001: SS1, 30-s epochs
        attrs = store.recording_attrs(handle, rid)
    cohort = CohortWindows(tiny_cohort, n_classes=4, recordings=[rid], sfreq=stager.sfreq, window_s=stager.window_s,
                           normalization=stager.normalization, modalities=("ecg",))
    # Ingest cut the night at its first annotation: cut the EDF there too.
    raw = read_night(tiny_cohort.parent / "edf" / attrs["source_file"], modality="ecg",
                     start=repr(attrs["start_offset_s"]))
    windows = prepare_windows(raw, sfreq=stager.sfreq, window_s=stager.window_s, epoch_s=30.0,
                              normalization=stager.normalization)
    items = cohort.__getitems__(range(len(cohort)))
    epochs = np.array([int(item["epoch"]) for item in items])
    theirs = np.stack([item["ecg"][0].numpy() for item in items])
    assert len(items) > 20 and epochs.max() < len(windows)
    np.testing.assert_allclose(windows[epochs], theirs, atol=1e-5)  # the same samples, same normalisation
    ours = score_night(stager.model, windows[epochs], precision="no")
    import torch

    with torch.no_grad():
        reference = torch.softmax(stager.model(torch.from_numpy(theirs)[:, None]), dim=1).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-5)
