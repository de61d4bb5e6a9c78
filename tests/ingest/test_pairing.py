"""One pairing rule for ingest and predict: a night's scoring is found exactly, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from sleep_kd.data.ingest import ingest
from sleep_kd.data.ingest.pairing import Pairing, pair_scorings, recording_key, scoring_keys
from sleep_kd.errors import InputError
from sleep_kd.predict.agreement import pair_hypnograms
from tests.ingest.fixtures import MASS_EEG, night_signals, write_annotations, write_edf

SFREQ = 128.0
EEG = "EEG C3-CLE - EEG A2-CLE"


def _night(path: Path, seconds: int = 120) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_edf(path, night_signals(MASS_EEG + ("ECG ECGI",), int(seconds * SFREQ), SFREQ), SFREQ)
    return path


@pytest.mark.parametrize("recording, scoring", [
    ("night3.edf", "Hypnogram_night3.txt"),
    ("night3.edf", "hypnogram-night3.csv"),
    ("night3.edf", "night3-Hypnogram.edf"),
    ("night3.edf", "night3.hypnogram.edf"),
    ("night3.edf", "night3.csv"),
    ("night3 PSG.edf", "night3 PSG.hypnogram.edf"),
    ("01-01-0001 PSG.edf", "01-01-0001 Base.edf"),
    ("SN001.edf", "SN001_sleepscoring.edf"),
    ("SC4001E0-PSG.edf", "SC4001EC-Hypnogram.edf"),
    ("ST7011J0-PSG.edf", "ST7011JP-Hypnogram.edf"),
])
def test_each_documented_affix_pairs(recording, scoring):
    assert pair_scorings([Path(recording)], [Path(scoring)]) == {Path(recording): Pairing(Path(scoring))}


@pytest.mark.parametrize("recording, scoring", [
    ("subj02_night1 PSG.edf", "subj01_night1.txt"),  # E07: a shared prefix of a few characters
    ("night3.edf", "night30.csv"),
    ("night3.edf", "night3-v2-Hypnogram.edf"),
    ("SC4001E0-PSG.edf", "SC4011EC-Hypnogram.edf"),
    ("abc.edf", "abc-notes.csv"),
])
def test_names_that_only_look_alike_do_not_pair(recording, scoring):
    assert pair_scorings([Path(recording)], [Path(scoring)]) == {Path(recording): Pairing(None)}


def test_the_keys_are_the_documented_ones():
    assert recording_key(Path("SC4001E0-PSG.edf")) == "sc4001e"
    assert recording_key(Path("01-01-0001 PSG.edf")) == "01-01-0001"
    assert scoring_keys(Path("Hypnogram_night3.txt")) == {"night3"}
    assert scoring_keys(Path("x.hypnogram.edf")) == {"x"}
    assert scoring_keys(Path("notes.edf")) == set()


def test_two_scorings_of_one_night_are_refused_naming_both():
    pairs = pair_scorings([Path("night3.edf")], [Path("night3.csv"), Path("night3-Hypnogram.edf")])
    assert pairs[Path("night3.edf")] == Pairing(None, "2 scoring files fit night 'night3': night3-Hypnogram.edf, "
                                                      "night3.csv; keep one, or list the pair in a --manifest")


def test_one_scoring_never_serves_two_nights():
    pairs = pair_scorings([Path("night3.edf"), Path("night3 PSG.edf")], [Path("night3.csv")])
    problem = ("scoring file night3.csv fits 2 recordings (night3 PSG.edf, night3.edf); one scoring serves one "
               "night: rename, or list the pairs in a --manifest")
    assert pairs == {Path("night3.edf"): Pairing(None, problem), Path("night3 PSG.edf"): Pairing(None, problem)}


def test_e07_ingest_does_not_give_subject_02_the_stages_of_subject_01(tmp_path):
    _night(tmp_path / "subj02_night1 PSG.edf")
    (tmp_path / "subj01_night1.txt").write_text("W\nN2\nN2\nREM\n")
    _night(tmp_path / "subj01_night1 PSG.edf")
    summary = ingest("edf", tmp_path, tmp_path / "c.h5", sfreq=64, progress=False, eeg=EEG, epoch_s=30)
    assert summary.written == ["subj01_night1"]
    assert summary.skipped == [("subj02_night1", "subj02_night1 PSG.edf: no hypnogram file of the same night next "
                                                 "to it (expected e.g. subj02_night1-Hypnogram.edf or "
                                                 "subj02_night1.csv; other names: --manifest)")]


def test_an_ambiguous_night_is_skipped_naming_the_candidates(tmp_path):
    _night(tmp_path / "night3.edf")
    (tmp_path / "night3.txt").write_text("W\nN2\nN2\nREM\n")
    write_annotations(tmp_path / "night3-Hypnogram.edf", [(0, 30, "Sleep stage W"), (30, 30, "Sleep stage 2")])
    _night(tmp_path / "night4.edf")
    (tmp_path / "night4.txt").write_text("W\nN2\nN2\nREM\n")
    summary = ingest("edf", tmp_path, tmp_path / "c.h5", sfreq=64, progress=False, eeg=EEG, epoch_s=30)
    assert summary.written == ["night4"]
    assert summary.skipped == [("night3", "night3.edf: 2 scoring files fit night 'night3': night3-Hypnogram.edf, "
                                          "night3.txt; keep one, or list the pair in a --manifest")]


def test_a_manifest_listing_one_scoring_for_two_nights_is_refused(tmp_path):
    _night(tmp_path / "night3.edf")
    _night(tmp_path / "night4.edf")
    (tmp_path / "night3.txt").write_text("W\nN2\n")
    (tmp_path / "pairs.csv").write_text("signal,hypnogram\nnight3.edf,night3.txt\nnight4.edf,./night3.txt\n")
    with pytest.raises(InputError) as error:
        ingest("edf", None, tmp_path / "c.h5", sfreq=64, progress=False, manifest=tmp_path / "pairs.csv", eeg=EEG)
    assert str(error.value) == ("pairs.csv line 3: scoring file ./night3.txt is already listed for line 2's "
                                "recording (one scoring serves one night)")
    assert not (tmp_path / "c.h5").exists()


def test_p19_predict_with_a_folder_pairs_exactly(tmp_path):
    night = _night(tmp_path / "subj02_night1 PSG.edf")
    (tmp_path / "subj01_night1.txt").write_text("W\n")
    with pytest.raises(InputError, match=r"^--hypnogram .*: no scoring file of any night's name in it \(expected "
                                         r"e\.g\. subj02_night1 PSG-Hypnogram\.edf or subj02_night1 PSG\.csv\)$"):
        pair_hypnograms([night], tmp_path)
    (tmp_path / "subj02_night1.txt").write_text("W\n")
    assert pair_hypnograms([night], tmp_path) == {night: tmp_path / "subj02_night1.txt"}


def test_predict_refuses_an_ambiguous_scoring_before_reading_any_night(tmp_path):
    night = _night(tmp_path / "night3.edf")
    (tmp_path / "night3.csv").write_text("W\n")
    (tmp_path / "Hypnogram_night3.txt").write_text("W\n")
    with pytest.raises(InputError, match=r"^--hypnogram .*: night3.edf: 2 scoring files fit night 'night3': "
                                         r"Hypnogram_night3.txt, night3.csv; keep one"):
        pair_hypnograms([night], tmp_path)


def test_a_prediction_is_never_taken_for_a_scoring(tmp_path):
    from sleep_kd.predict.writers import write_hypnogram_edf
    import numpy as np

    night = _night(tmp_path / "night3.edf")
    write_hypnogram_edf(tmp_path / "night3.hypnogram.edf", np.arange(4) * 30.0, 30.0, np.array([0, 1, 1, 3]),
                        ["W", "Light", "Deep", "REM"], start=None)
    with pytest.raises(InputError, match=r"night3.hypnogram.edf: is a prediction written by sleep_kd.predict, "
                                         r"not a scoring$"):
        pair_hypnograms([night], tmp_path / "night3.hypnogram.edf")
    with pytest.raises(InputError, match="no scoring file of any night's name in it"):
        pair_hypnograms([night], tmp_path)
    write_annotations(tmp_path / "night3-Hypnogram.edf", [(0, 30, "Sleep stage W")])
    assert pair_hypnograms([night], tmp_path) == {night: tmp_path / "night3-Hypnogram.edf"}


def test_unscored_nights_are_kept_only_when_asked_and_counted(tmp_path):
    """--unscored: a night with signals and no hypnogram is stored, every epoch unscored, attr scored False."""
    import h5py

    _night(tmp_path / "night3.edf")
    (tmp_path / "night3.txt").write_text("W\nN2\nN2\nREM\n")
    _night(tmp_path / "night4.edf")  # nobody scored it
    plain = ingest("edf", tmp_path, tmp_path / "a.h5", sfreq=64, progress=False, eeg=EEG, epoch_s=30)
    assert plain.written == ["night3"] and plain.skipped[0][0] == "night4"
    kept = ingest("edf", tmp_path, tmp_path / "b.h5", sfreq=64, progress=False, eeg=EEG, epoch_s=30, unscored=True)
    assert kept.written == ["night3", "night4"] and kept.unscored == ["night4"]
    assert "wrote 2 recordings" in kept.format() and "1 scored, 1 unscored" in kept.format()
    with h5py.File(tmp_path / "b.h5") as handle:
        night = handle["recordings/night4"]
        assert bool(night.attrs["scored"]) is False and night.attrs["hypnogram_file"] == ""
        assert night["epochs/stage"][()].tolist() == [-2, -2, -2, -2]  # 120 s in 30-s epochs, all unscored
        assert bool(handle["recordings/night3"].attrs["scored"]) is True


def test_a_manifest_row_with_an_empty_hypnogram_cell_is_an_unscored_night_only_when_asked(tmp_path):
    _night(tmp_path / "night3.edf")
    _night(tmp_path / "night4.edf")
    (tmp_path / "night3.txt").write_text("W\nN2\nN2\nREM\n")
    (tmp_path / "pairs.csv").write_text("signal,hypnogram\nnight3.edf,night3.txt\nnight4.edf,\n")
    with pytest.raises(InputError, match=r"pairs.csv line 3: empty 'hypnogram' cell \(expected a file path; "
                                         r"--unscored keeps a night nobody scored\)"):
        ingest("edf", None, tmp_path / "c.h5", sfreq=64, progress=False, manifest=tmp_path / "pairs.csv", eeg=EEG)
    summary = ingest("edf", None, tmp_path / "c.h5", sfreq=64, progress=False, manifest=tmp_path / "pairs.csv",
                     eeg=EEG, epoch_s=30, unscored=True)
    assert summary.unscored == ["night4"] and summary.written == ["night3", "night4"]


def test_a_missing_file_a_manifest_names_stays_a_skip_with_unscored(tmp_path):
    _night(tmp_path / "night3.edf")
    _night(tmp_path / "night4.edf")
    (tmp_path / "night3.txt").write_text("W\nN2\nN2\nREM\n")
    (tmp_path / "pairs.csv").write_text("signal,hypnogram\nnight3.edf,night3.txt\nnight4.edf,night4.txt\n")
    summary = ingest("edf", None, tmp_path / "c.h5", sfreq=64, progress=False, manifest=tmp_path / "pairs.csv",
                     eeg=EEG, epoch_s=30, unscored=True)
    assert summary.unscored == [] and summary.skipped == [
        ("night4", f"pairs.csv line 3: hypnogram file {tmp_path / 'night4.txt'} not found")]


def test_mass_nights_without_a_base_file_are_unscored_nights(tmp_path):
    from sleep_kd.data.synthetic import generate_cohort

    generate_cohort(tmp_path / "edf", n_subjects=3, hours=0.25, seed=5, sfreq=128.0)
    base = sorted((tmp_path / "edf").rglob("* Base.edf"))[0]
    base.unlink()
    summary = ingest("mass", tmp_path / "edf", tmp_path / "m.h5", sfreq=100, progress=False, unscored=True)
    assert summary.unscored == [base.name[: -len(" Base.edf")]] and len(summary.written) == 3

