"""Ingest of tiny MASS-like nights: schema, channel choices, cropping, reproducibility, bad input."""

from __future__ import annotations

import hashlib
import shutil
from collections import namedtuple

import h5py
import numpy as np
import pytest
from scipy.signal import resample_poly

from sleep_kd.data.ingest import ingest, pipeline
from sleep_kd.data.ingest.__main__ import main
from sleep_kd.errors import InputError
from tests.ingest.fixtures import stage_codes, tone, write_mass_night

SFREQ = 128.0  # half of the fixtures' 256 Hz: a cheap, exact resampling ratio


@pytest.fixture(scope="module")
def mass_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mass")
    write_mass_night(root / "SS1", "01-01-0001", "W12R?3", lead_s=7, tail_s=3)
    write_mass_night(root / "SS2", "01-02-0001", "W1234R", epoch_s=20, channels=("EEG C4-CLE", "EEG A1-CLE", "ECG ECGI"))
    write_mass_night(root / "SS4", "01-04-0001", "W12R", epoch_s=20,
                     channels=("EEG C3-CLE", "EEG A2-CLE", "ECG ECGI", "ECG ECGII"))
    write_mass_night(root / "SS3", "01-03-0001", "WW22", channels=("EEG C3-LER", "ECG ECGI"))
    return root


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mass_cohort_schema_and_channel_choices(mass_root, tmp_path):
    out = tmp_path / "c.h5"
    summary = ingest("mass", mass_root, out, sfreq=SFREQ, progress=False)
    assert summary.written == ["01-01-0001", "01-02-0001", "01-03-0001", "01-04-0001"]
    assert summary.epochs_per_stage == {"W": 5, "N1": 3, "N2": 5, "N3": 2, "N4": 1, "R": 3, "UNSCORED": 1}
    with h5py.File(out) as f:
        assert dict(f.attrs) == {"format": "sleep_kd.cohort", "format_version": 1, "sfreq": SFREQ, "source": "mass",
                                 "modalities": "eeg,ecg"}
        ss2 = f["recordings/01-02-0001"]
        assert ss2.attrs["eeg_derivation"] == "EEG C4-CLE - EEG A1-CLE" and ss2.attrs["standard"] == "R&K"
        assert f["recordings/01-04-0001"].attrs["ecg_derivation"] == "-1 * ECG ECGII"
        assert f["recordings/01-03-0001"].attrs["eeg_derivation"] == "EEG C3-LER"
        assert ss2["epochs/duration"][()].tolist() == [20.0] * 6
        assert ss2["epochs/stage"].dtype == np.int8 and ss2["eeg"].dtype == np.float32
        assert ss2.attrs["source_file"] == "SS2/01-02-0001 PSG.edf" and ss2.attrs["subset"] == "SS2"


def test_mass_night_is_cropped_at_first_annotation_and_ecg_inverted(mass_root, tmp_path):
    out = tmp_path / "c.h5"
    ingest("mass", mass_root, out, sfreq=SFREQ, progress=False, subsets=["SS1"])
    with h5py.File(out) as f:
        rec = f["recordings/01-01-0001"]
        assert rec.attrs["start_offset_s"] == 7.0 and rec.attrs["duration_s"] == 183.0
        assert rec["epochs/onset"][()].tolist() == [0, 30, 60, 90, 120, 150]
        assert rec["epochs/stage"][()].tolist() == stage_codes("W12R?3")
        eeg, ecg = rec["eeg"][()], rec["ecg"][()]
    assert eeg.shape == ecg.shape == (int(183 * SFREQ),)
    # C3 - A2 leaves the 10 Hz tone; cropping 7 s keeps its phase (70 whole cycles).
    expected = resample_poly(tone(int(190 * 256), 256.0), 1, 2)[int(7 * SFREQ):]
    inner = slice(200, -200)
    assert np.abs(eeg[inner] - expected[: eeg.size][inner]).max() < 1.0
    assert ecg.mean() < -20  # the fixture's ECG spikes are positive before inversion


def test_rerun_and_parallel_run_give_identical_files(mass_root, tmp_path):
    first, second, parallel = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "p.h5"
    ingest("mass", mass_root, first, sfreq=SFREQ, progress=False)
    ingest("mass", mass_root, second, sfreq=SFREQ, progress=False)
    ingest("mass", mass_root, parallel, sfreq=SFREQ, progress=False, workers=2)
    assert _sha(first) == _sha(second) == _sha(parallel)
    assert not list(tmp_path.glob("*.tmp-*"))


@pytest.fixture
def root_with_bad_night(mass_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(mass_root, root)
    # Base.edf scored beyond the end of the signal: annotations that run past it are bad input.
    write_mass_night(root / "SS5", "01-05-0001", "WW", epoch_s=20, channels=("EEG C3-LER", "ECG ECGI"))
    (root / "SS5" / "01-05-0001 PSG.edf").write_bytes((mass_root / "SS3" / "01-03-0001 PSG.edf").read_bytes()[:3000])
    write_mass_night(root / "SS5", "01-05-0002", "WW", epoch_s=20, channels=("EEG C3-CLE", "ECG ECGI"))
    return root


def test_bad_nights_are_skipped_with_reasons(root_with_bad_night, tmp_path):
    summary = ingest("mass", root_with_bad_night, tmp_path / "c.h5", sfreq=SFREQ, progress=False)
    assert len(summary.written) == 4
    reasons = dict(summary.skipped)
    assert reasons["01-05-0001"].startswith("01-05-0001 PSG.edf: truncated EDF file")
    assert reasons["01-05-0002"] == "01-05-0002 PSG.edf: no EEG channel 'EEG C3-LER' for MASS subset SS5"


def test_strict_run_stops_and_keeps_previous_output(root_with_bad_night, tmp_path):
    out = tmp_path / "c.h5"
    out.write_bytes(b"previous")
    with pytest.raises(InputError, match="01-05-0001 PSG.edf: truncated"):
        ingest("mass", root_with_bad_night, out, sfreq=SFREQ, progress=False, strict=True)
    assert out.read_bytes() == b"previous" and not list(tmp_path.glob("*.tmp-*"))


def test_annotations_past_the_signal_end_are_bad_in_mass(tmp_path):
    write_mass_night(tmp_path / "SS1", "01-01-0009", "WWW")
    psg = tmp_path / "SS1" / "01-01-0009 PSG.edf"
    write_mass_night(tmp_path / "short" / "SS1", "01-01-0009", "WW")
    psg.write_bytes((tmp_path / "short" / "SS1" / "01-01-0009 PSG.edf").read_bytes())
    shutil.rmtree(tmp_path / "short")
    with pytest.raises(InputError, match=r"annotation at 60 s \(\+30 s\) runs past the signal, which lasts 60 s"):
        ingest("mass", tmp_path, tmp_path / "c.h5", sfreq=SFREQ, progress=False, strict=True)


def test_target_rate_above_the_recording_is_bad_input(mass_root, tmp_path):
    with pytest.raises(InputError, match="no recording could be written .*EEG sampled at 256 Hz, below the target 512 Hz"):
        ingest("mass", mass_root, tmp_path / "c.h5", sfreq=512, progress=False)
    assert not (tmp_path / "c.h5").exists()


def test_not_enough_disk_space_fails_before_writing(mass_root, tmp_path, monkeypatch):
    out = tmp_path / "c.h5"
    out.write_bytes(b"previous")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(pipeline.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))
    with pytest.raises(InputError, match="not enough free disk space for c.h5"):
        ingest("mass", mass_root, out, sfreq=SFREQ, progress=False)
    assert out.read_bytes() == b"previous"


def test_cli_exit_codes(mass_root, tmp_path, capsys):
    assert main(["--source", "mass", "--root", str(mass_root), "--out", str(tmp_path / "c.h5"),
                 "--sfreq", "128", "--no-progress"]) == 0
    assert "wrote 4 recordings" in capsys.readouterr().out
    assert main(["--source", "mass", "--root", str(mass_root), "--out", str(tmp_path / "c.h5"), "--eeg", "X"]) == 2
    assert capsys.readouterr().err.strip() == "error: source 'mass' does not take option(s) --eeg"
    assert main(["--source", "mass", "--root", str(tmp_path / "nowhere"), "--out", str(tmp_path / "d.h5")]) == 2
