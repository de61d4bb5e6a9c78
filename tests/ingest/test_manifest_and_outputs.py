"""Explicit pairing (--manifest), ECG-only edf nights, numeric codes through the CLI, output checks."""

from __future__ import annotations

import os

import h5py
import pytest

from sleep_kd.data.cohort_file import cohort_modalities
from sleep_kd.data.ingest import ingest
from sleep_kd.data.ingest.__main__ import main
from sleep_kd.errors import InputError
from tests.ingest.fixtures import MASS_EEG, night_signals, write_edf
from tests.reliability.conftest import run_cli

SFREQ = 128.0
EEG = "EEG C3-CLE - EEG A2-CLE"


def _night(path, seconds=120):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_edf(path, night_signals(MASS_EEG + ("ECG ECGI",), int(seconds * SFREQ), SFREQ), SFREQ)
    return path


def test_manifest_pairs_names_that_prefix_pairing_cannot(tmp_path):
    _night(tmp_path / "signals" / "night3.edf")
    _night(tmp_path / "signals" / "night4.edf")
    (tmp_path / "scoring").mkdir()
    (tmp_path / "scoring" / "Hypnogram_night3.txt").write_text("W\nN1\nN2\nREM\n")
    (tmp_path / "scoring" / "Hypnogram_night4.txt").write_text("W\nW\nN2\nN2\n")
    manifest = tmp_path / "pairs.csv"
    manifest.write_text("signal,hypnogram,subject,subset\n"
                        "signals/night3.edf,scoring/Hypnogram_night3.txt,anna,lab1\n"
                        f"{tmp_path / 'signals' / 'night4.edf'},scoring/Hypnogram_night4.txt,,\n")
    out = tmp_path / "c.h5"
    summary = ingest("edf", None, out, sfreq=64, progress=False, manifest=manifest, eeg=EEG, epoch_s=30)
    assert summary.written == ["night3", "night4"]
    with h5py.File(out) as f:
        three, four = f["recordings/night3"], f["recordings/night4"]
        assert three["epochs/stage"][()].tolist() == [0, 1, 2, 5] and four["epochs/stage"][()].tolist() == [0, 0, 2, 2]
        assert (three.attrs["subject"], three.attrs["subset"]) == ("anna", "lab1")
        assert (four.attrs["subject"], four.attrs["subset"]) == ("night4", "")
        assert three.attrs["hypnogram_file"] == "scoring/Hypnogram_night3.txt"


def test_a_manifest_row_naming_a_missing_file_is_a_skip_with_its_line(tmp_path):
    _night(tmp_path / "night3.edf")
    (tmp_path / "night3.txt").write_text("W\nN2\n")
    (tmp_path / "night9.txt").write_text("W\nN2\n")
    (tmp_path / "pairs.csv").write_text("signal,hypnogram\nnight3.edf,night3.txt\nnight9.edf,night9.txt\n")
    summary = ingest("edf", None, tmp_path / "c.h5", sfreq=64, progress=False, manifest=tmp_path / "pairs.csv", eeg=EEG, epoch_s=30)
    assert summary.written == ["night3"]
    assert summary.skipped == [("night9", f"pairs.csv line 3: signal file {tmp_path / 'night9.edf'} not found")]


@pytest.mark.parametrize("text, reason", [
    ("edf,hypnogram\na.edf,a.txt\n", "no column 'signal'"),
    ("signal,hypnogram,scorer\na.edf,a.txt,me\n", "unknown column 'scorer'"),
])
def test_a_manifest_with_wrong_columns_is_refused_before_any_night(tmp_path, text, reason):
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(InputError) as error:
        ingest("edf", None, tmp_path / "c.h5", progress=False, manifest=tmp_path / "m.csv", eeg=EEG)
    assert str(error.value) == (f"{tmp_path / 'm.csv'}: {reason}; a manifest has columns signal,hypnogram and "
                                "optionally subject,subset")


@pytest.mark.parametrize("text, reason", [
    ("signal,hypnogram\na.edf,\n", "m.csv line 2: empty 'hypnogram' cell (expected a file path; --unscored keeps a night "
                                        "nobody scored)"),
    ("signal,hypnogram\na.edf,a.txt\nsub/a.edf,b.txt\n",
     "m.csv line 3: recording 'a' is already listed on line 2 (recording ids, the signal file names, must be unique)"),
    ("signal,hypnogram\n\n", f"m.csv: the manifest lists no recordings"),
])
def test_every_manifest_row_is_checked(tmp_path, text, reason):
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(InputError) as error:
        ingest("edf", None, tmp_path / "c.h5", progress=False, manifest=tmp_path / "m.csv", eeg=EEG)
    assert str(error.value).endswith(reason)


def test_edf_source_reads_ecg_only_nights(tmp_path):
    _night(tmp_path / "holter.edf")
    (tmp_path / "holter.csv").write_text("W\nN2\nN2\nREM\n")
    out = tmp_path / "c.h5"
    ingest("edf", tmp_path, out, sfreq=64, progress=False, ecg="ECG ECGI", epoch_s=30)
    assert cohort_modalities(out) == ("ecg",)
    with h5py.File(out) as f:
        rec = f["recordings/holter"]
        assert sorted(rec) == ["ecg", "epochs"] and rec.attrs["eeg_derivation"] == ""


def test_numeric_hypnogram_through_the_cli(tmp_path, capsys):
    _night(tmp_path / "night1.edf")
    (tmp_path / "night1.txt").write_text("[Hypnogram]\n" + "5\n" * 6 + "3\n" * 6 + "4\n" * 6 + "2\n" * 6)
    argv = ["--source", "edf", "--root", tmp_path, "--out", tmp_path / "c.h5", "--sfreq", "64", "--eeg", EEG,
            "--epoch-s", "5", "--no-progress", "--strict"]
    code, _, err = run_cli(main, argv, capsys)
    assert code == 2 and err == ("error: night1.txt: numeric stage codes (2, 3, 4, 5) need a code map: pass "
                                 "--stage-codes NAME (aasm, reverse, rk; see --help) or your own, e.g. "
                                 "--stage-codes '0=W,1=N1,2=N2,3=N3,4=R'\n")
    code, out, err = run_cli(main, [*argv, "--stage-codes", "reverse", "--scoring-epoch-s", "30"], capsys)
    assert code == 0, err
    assert "  night1: W 1, N1 1, N2 1, R 1" in out.splitlines()
    with h5py.File(tmp_path / "c.h5") as f:
        assert f["recordings/night1/epochs/stage"][()].tolist() == [0, 1, 5, 2]
        assert f["recordings/night1"].attrs["stage_codes"] == "reverse"


def test_epoch_s_zero_is_refused_not_replaced_by_30(tmp_path, capsys):
    _night(tmp_path / "n1.edf")
    (tmp_path / "n1.txt").write_text("W\n")
    code, _, err = run_cli(main, ["--source", "edf", "--root", tmp_path, "--out", tmp_path / "c.h5", "--eeg", EEG,
                                  "--epoch-s", "0"], capsys)
    assert code == 2 and err == "error: --epoch-s must be a positive number of seconds, got 0.0\n"


def test_out_that_is_a_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "cohort.h5").mkdir()
    from sleep_kd.data.ingest import sources

    monkeypatch.setattr(sources, "create_source", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(InputError) as error:
        ingest("mass", tmp_path, tmp_path / "cohort.h5", progress=False)
    assert str(error.value) == (f"{tmp_path / 'cohort.h5'}: --out is an existing folder; expected a file path such "
                                f"as {tmp_path / 'cohort.h5' / 'cohort.h5'}")


def test_out_under_a_file_or_an_unwritable_folder_is_refused_naming_the_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(InputError, match=rf"^{tmp_path / 'notes.txt'}: cannot write the cohort file c.h5 there"):
        ingest("mass", tmp_path, tmp_path / "notes.txt" / "c.h5", progress=False)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK) and os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder: the file case above covers the check")
        with pytest.raises(InputError, match=rf"^{locked}: cannot write the cohort file c.h5 there \(Permission denied\)"):
            ingest("mass", tmp_path, locked / "c.h5", progress=False)
        assert list(locked.iterdir()) == []  # the probe left nothing
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("flag, value, reason", [
    ("--sfreq", "nan", "--sfreq must be a positive number of Hz, got nan"),
    ("--sfreq", "inf", "--sfreq must be a positive number of Hz, got inf"),
    ("--sfreq", "-100", "--sfreq must be a positive number of Hz, got -100.0"),
    ("--scoring-epoch-s", "-30", "--scoring-epoch-s must be a positive number of seconds, got -30.0"),
    ("--epoch-s", "inf", "--epoch-s must be a positive number of seconds, got inf"),
    ("--workers", "0", "--workers must be a whole number of processes, at least 1; got 0"),
    ("--stage-codes", "W=5", "--stage-codes 'W=5': item 'W=5' is not CODE=LABEL (e.g. 5=W); built-in names: aasm, "
                             "reverse, rk"),
])
def test_bad_numbers_and_code_maps_exit_2_before_any_work(tmp_path, capsys, flag, value, reason):
    _night(tmp_path / "night1.edf")
    (tmp_path / "night1.txt").write_text("W\n")
    code, _, err = run_cli(main, ["--source", "edf", "--root", tmp_path, "--out", tmp_path / "c.h5", "--eeg", EEG,
                                  flag, value], capsys)
    assert code == 2 and err == f"error: {reason}\n"
    assert not (tmp_path / "c.h5").exists()


def test_edf_plus_annotations_of_another_length_than_declared_are_refused(tmp_path):
    from tests.ingest.fixtures import write_annotations

    _night(tmp_path / "night1.edf")
    write_annotations(tmp_path / "night1-Hypnogram.edf", [(0, 30, "Sleep stage W"), (30, 30, "Sleep stage 2")])
    assert ingest("edf", tmp_path, tmp_path / "c.h5", sfreq=64, progress=False, eeg=EEG).written == ["night1"]
    with pytest.raises(InputError, match=r"night1-Hypnogram.edf: annotation at 0 s lasts 30 s, not a whole number of "
                                         r"20 s epochs"):
        ingest("edf", tmp_path, tmp_path / "c.h5", sfreq=64, progress=False, strict=True, eeg=EEG, scoring_epoch_s=20)
