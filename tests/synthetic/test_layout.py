"""The cohort on disk: MASS layout, channels, rates, annotations, truth files, determinism."""

from __future__ import annotations

import csv

import mne
import numpy as np
import pytest

from sleep_kd.data.synthetic import generate_cohort

from .conftest import HOURS, N_SUBJECTS, SEED

mne.set_log_level("ERROR")

EXPECTED = {
    "01-01-0001": ("SS1", ["EOG Left Horiz", "EEG C3-CLE", "ECG ECGI", "EMG Chin", "EEG A2-CLE"]),
    "01-02-0001": ("SS2", ["EOG Left Horiz", "EEG C3-CLE", "ECG ECGI", "EMG Chin", "EEG A2-CLE"]),
    "01-03-0001": ("SS3", ["EOG Left Horiz", "EEG C3-LER", "ECG ECGI", "EMG Chin"]),
    "01-04-0001": ("SS4", ["EOG Left Horiz", "EEG C3-CLE", "ECG ECGI", "ECG ECGII", "EMG Chin",
                           "EEG A2-CLE"]),
    "01-05-0001": ("SS5", ["EOG Left Horiz", "EEG C3-LER", "ECG ECGI", "EMG Chin"]),
    "01-01-0002": ("SS1", ["EOG Left Horiz", "EEG C3-CLE", "ECG ECGI", "EMG Chin", "EEG A2-CLE"]),
    "01-02-0002": ("SS2", ["EOG Left Horiz", "EEG C4-CLE", "ECG ECGI", "EMG Chin", "EEG A1-CLE"]),
}


def _raw(root, name, preload=False):
    return mne.io.read_raw_edf(root / name, preload=preload, infer_types=False)


def test_files_are_laid_out_like_mass(cohort):
    root, meta = cohort
    ids = [r["id"] for r in meta["recordings"]]
    assert ids == list(EXPECTED)
    for rec_id, (subset, _) in EXPECTED.items():
        assert (root / subset / f"{rec_id} PSG.edf").is_file()
        assert (root / subset / f"{rec_id} Base.edf").is_file()
        assert (root / "truth" / f"{rec_id}.csv").is_file()
    expected = ["SS1", "SS2", "SS3", "SS4", "SS5", "cohort.json", "truth"]
    assert sorted(p.name for p in root.iterdir()) == expected


def test_channels_and_rate_read_back_with_mne(cohort):
    root, meta = cohort
    for rec in meta["recordings"]:
        raw = _raw(root, rec["psg"])
        assert raw.ch_names == EXPECTED[rec["id"]][1] == rec["channels"]
        assert raw.info["sfreq"] == 256.0
        assert raw.n_times == pytest.approx(rec["duration_s"] * 256.0)


@pytest.mark.parametrize("subset, epoch_s, labels", [
    ("SS1", 30.0, {"W", "1", "2", "3", "R", "?"}),
    ("SS2", 20.0, {"W", "1", "2", "3", "4", "R", "?"}),
])
def test_annotations_are_epochs_after_the_recording_start(cohort, subset, epoch_s, labels):
    root, meta = cohort
    for rec in (r for r in meta["recordings"] if r["subset"] == subset):
        ann = mne.read_annotations(root / rec["base"])
        assert len(ann) == rec["n_epochs"] == int(HOURS * 3600 // epoch_s)
        assert np.all(ann.duration == epoch_s)
        assert np.allclose(np.diff(ann.onset), epoch_s)
        assert 20.0 <= ann.onset[0] == rec["start_offset_s"] <= 180.0
        assert ann.onset[-1] + epoch_s < rec["duration_s"]
        found = {d.removeprefix("Sleep stage ") for d in ann.description}
        assert found <= labels and all(d.startswith("Sleep stage ") for d in ann.description)
        assert "?" in found and "2" in found


def test_every_standard_is_used_per_subset(cohort):
    _, meta = cohort
    standards = {r["subset"]: (r["standard"], r["epoch_s"]) for r in meta["recordings"]}
    assert standards == {"SS1": ("AASM", 30.0), "SS2": ("R&K", 20.0), "SS3": ("AASM", 30.0),
                         "SS4": ("R&K", 20.0), "SS5": ("R&K", 20.0)}


def test_truth_csv_matches_base_annotations(cohort):
    root, meta = cohort
    rec = meta["recordings"][1]
    with (root / rec["truth"]).open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["onset_s", "duration_s", "true_stage", "scored_stage"]
    ann = mne.read_annotations(root / rec["base"])
    assert [r["scored_stage"] for r in rows] == [d.removeprefix("Sleep stage ") for d in ann.description]
    assert np.allclose([float(r["onset_s"]) for r in rows], ann.onset)
    assert "?" not in {r["true_stage"] for r in rows}
    scored = [r for r in rows if r["scored_stage"] != "?"]
    agree = np.mean([r["true_stage"] == r["scored_stage"] for r in scored])
    assert agree == pytest.approx(rec["agreement"], abs=1e-4)


def test_ecg_is_stored_inverted(cohort):
    root, meta = cohort
    raw = _raw(root, meta["recordings"][0]["psg"], preload=True)
    ecg = raw.get_data(picks=["ECG ECGI"])[0]
    # R waves dominate the ECG: in the stored (inverted) file its extremes are negative.
    assert np.percentile(ecg, 0.1) < -2.0 * np.percentile(ecg, 99.9) < 0


def test_derivation_removes_the_common_reference_noise(cohort):
    root, meta = cohort
    raw = _raw(root, meta["recordings"][0]["psg"], preload=True)
    c3, a2 = raw.get_data(picks=["EEG C3-CLE", "EEG A2-CLE"]) * 1e6
    spectrum = lambda x: np.abs(np.fft.rfft(x[: 256 * 600])) ** 2  # noqa: E731
    f = np.fft.rfftfreq(256 * 600, 1 / 256)
    mains = np.abs(f - 60.0) < 0.01
    assert spectrum(c3)[mains].sum() > 50 * spectrum(c3 - a2)[mains].sum()


def test_ss4_ecgii_is_the_cleaner_lead(cohort):
    root, meta = cohort
    raw = _raw(root, meta["recordings"][3]["psg"], preload=True)
    lead1, lead2 = -raw.get_data(picks=["ECG ECGI", "ECG ECGII"])
    # R-peak height over the spread of the rest of the trace.
    quality = [np.percentile(x, 99.9) / np.std(x[x < np.percentile(x, 90)]) for x in (lead1, lead2)]
    assert quality[1] > 2.0 * quality[0]


def test_some_epochs_are_unscored_but_few(cohort):
    _, meta = cohort
    n = sum(r["n_epochs"] for r in meta["recordings"])
    unscored = sum(r["n_unscored"] for r in meta["recordings"])
    assert 0.005 < unscored / n < 0.1


def test_same_seed_gives_identical_bytes(cohort, tmp_path):
    root, meta = cohort
    generate_cohort(tmp_path, n_subjects=2, hours=HOURS, seed=SEED, workers=2)
    # Subject k depends neither on the size of the cohort nor on the number of workers.
    for rec in meta["recordings"][:2]:
        for key in ("psg", "base", "truth"):
            assert (tmp_path / rec[key]).read_bytes() == (root / rec[key]).read_bytes()


def test_other_seed_gives_other_nights(cohort, tmp_path):
    root, meta = cohort
    generate_cohort(tmp_path, n_subjects=1, hours=HOURS, seed=SEED + 1)
    rec = meta["recordings"][0]
    assert (tmp_path / rec["psg"]).read_bytes() != (root / rec["psg"]).read_bytes()
    assert (tmp_path / rec["truth"]).read_text() != (root / rec["truth"]).read_text()


def test_cohort_json_records_the_options(cohort):
    _, meta = cohort
    options = (meta["seed"], meta["sfreq"], meta["hours"], meta["n_subjects"])
    assert options == (SEED, 256.0, HOURS, N_SUBJECTS)
    assert all(0.5 < r["agreement"] < 1.0 for r in meta["recordings"])
