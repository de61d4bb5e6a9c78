"""The generic ``edf`` source: real Sleep-EDF excerpt, file pairing, CSV hypnograms, channel errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from sleep_kd.data.ingest import ingest, list_sources
from sleep_kd.data.ingest.__main__ import main
from sleep_kd.data.ingest.sources.edf import pair_files, recording_id_of
from sleep_kd.errors import InputError
from tests.ingest.fixtures import night_signals, write_edf


def test_builtin_sources_are_listed():
    assert list_sources() == ["edf", "mass"]


def test_sleep_edf_excerpt_keeps_the_epochs_inside_the_signal(real_data_dir, tmp_path):
    out = tmp_path / "se.h5"
    summary = ingest("edf", real_data_dir / "sleep-edf", out, sfreq=100, progress=False, eeg="EEG Fpz-Cz")
    assert summary.written == ["SC4001E0-PSG-first300s"] and summary.epochs_per_stage == {"W": 10}
    with h5py.File(out) as f:
        rec = f["recordings/SC4001E0-PSG-first300s"]
        assert "ecg" not in rec and rec["eeg"].shape == (30000,)
        assert rec["epochs/onset"][()].tolist() == list(np.arange(10) * 30.0)
        assert rec.attrs["subject"] == "SC400" and rec.attrs["standard"] == "R&K"
        assert rec.attrs["hypnogram_file"] == "SC4001EC-Hypnogram.edf"


def test_sleep_edf_at_200_hz_is_skipped_for_a_low_rate(real_data_dir, tmp_path):
    with pytest.raises(InputError, match="EEG sampled at 100 Hz, below the target 200 Hz"):
        ingest("edf", real_data_dir / "sleep-edf", tmp_path / "se.h5", progress=False, strict=True, eeg="EEG Fpz-Cz")


def test_pairing_by_shared_prefix():
    signals = [Path("SC4001E0-PSG.edf"), Path("SC4002E0-PSG.edf"), Path("SN001.edf")]
    hyps = [Path("SC4001EC-Hypnogram.edf"), Path("SC4002EC-Hypnogram.edf"), Path("SN001-sleepscoring.edf")]
    pairs = pair_files(signals, hyps)
    assert [pairs[s].name for s in signals] == [h.name for h in hyps]
    assert pair_files([Path("SC4003E0-PSG.edf")], hyps) == {Path("SC4003E0-PSG.edf"): None}
    assert recording_id_of(Path("01-01-0001 PSG.edf")) == "01-01-0001"


def _night_with_csv(folder, name, rows, *, seconds=120, sfreq=200.0):
    folder.mkdir(parents=True, exist_ok=True)
    signals = night_signals(("EEG C3-CLE", "EEG A2-CLE", "ECG ECGI"), int(seconds * sfreq), sfreq)
    write_edf(folder / f"{name}.edf", signals, sfreq)
    (folder / f"{name}.csv").write_text(rows)


def test_csv_hypnogram_with_derivation_and_inverted_ecg(tmp_path):
    _night_with_csv(tmp_path / "site", "night1", "onset,duration,stage\n0,30,W\n30,60,N2\n90,30,REM\n120,30,N3\n")
    out = tmp_path / "c.h5"
    summary = ingest("edf", tmp_path, out, progress=False, eeg="EEG C3-CLE - EEG A2-CLE", ecg="ECG ECGI",
                     invert_ecg=True)
    assert summary.written == ["night1"]
    with h5py.File(out) as f:
        rec = f["recordings/night1"]
        # The epoch at 120 s starts at the signal end: dropped, as in Sleep-EDF's long hypnograms.
        assert rec["epochs/stage"][()].tolist() == [0, 2, 2, 5]
        assert rec.attrs["ecg_derivation"] == "-1 * ECG ECGI" and rec.attrs["subset"] == "site"
        assert rec["ecg"][()].mean() < -20 and rec["eeg"].shape == (24000,)


def _clinical_root(real_data_dir, tmp_path):
    root = tmp_path / "clinical"
    root.mkdir()
    shutil.copy(real_data_dir / "mne-testing" / "chtypes_edf.edf", root)
    (root / "chtypes_edf.txt").write_text("W\n")
    return root


def test_clinical_edf_read_by_channel_name(real_data_dir, tmp_path):
    root = _clinical_root(real_data_dir, tmp_path)
    out = tmp_path / "a.h5"
    ingest("edf", root, out, progress=False, eeg="EEG C3-Ref - EEG A2-Ref", ecg="ECG ECG1", epoch_s=5)
    with h5py.File(out) as f:
        rec = f["recordings/chtypes_edf"]
        assert rec["eeg"].shape == rec["ecg"].shape == (1000,)
        assert rec.attrs["eeg_sfreq_original"] == 200.0 and rec["epochs/stage"][()].tolist() == [0]


def test_missing_channel_error_names_channel_and_file(real_data_dir, tmp_path, capsys):
    root = _clinical_root(real_data_dir, tmp_path)
    code = main(["--source", "edf", "--root", str(root), "--out", str(tmp_path / "a.h5"), "--eeg", "EEG C3-Ref",
                 "--ecg", "ECG ECG9", "--epoch-s", "5", "--strict", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: chtypes_edf.edf: no channel 'ECG ECG9' (channels: EEG Fp1-Ref")
    assert "\n" not in err


def test_edf_source_requires_an_eeg_channel(real_data_dir, tmp_path):
    with pytest.raises(InputError, match="source 'edf' needs the EEG channel"):
        ingest("edf", real_data_dir / "sleep-edf", tmp_path / "x.h5", progress=False)
