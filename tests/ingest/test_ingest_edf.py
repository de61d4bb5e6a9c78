"""The generic ``edf`` source: real Sleep-EDF excerpt, file pairing, CSV hypnograms, channel errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from sleep_kd.data.ingest import ingest, list_sources
from sleep_kd.data.ingest.__main__ import main
from sleep_kd.data.ingest.pairing import Pairing, pair_scorings
from sleep_kd.data.ingest.sources.edf import recording_id_of
from sleep_kd.errors import InputError
from tests.ingest.fixtures import night_signals, write_edf


def test_builtin_sources_are_listed():
    assert list_sources() == ["edf", "mass", "nsrr"]


def _sleep_edf_excerpt(real_data_dir, folder: Path, *, hypnogram_s: float) -> Path:
    """The 300 s Sleep-EDF excerpt, under Sleep-EDF's own name, beside its hypnogram cut to the first
    ``hypnogram_s`` seconds (``None``: the whole 24-h hypnogram)."""
    from sleep_kd.data.ingest import edf_reader
    from tests.ingest.fixtures import write_annotations

    folder.mkdir()
    shutil.copy(real_data_dir / "sleep-edf" / "SC4001E0-PSG-first300s.edf", folder / "SC4001E0-PSG.edf")
    original = real_data_dir / "sleep-edf" / "SC4001EC-Hypnogram.edf"
    if hypnogram_s is None:
        shutil.copy(original, folder)
        return folder
    # The first annotation is 30630 s of wake: the cut keeps that one, shortened (after one 30 s
    # epoch, which makes 30 s the most common duration, as in the whole file).
    write_annotations(folder / original.name, [(0.0, 30.0, "Sleep stage W"), (30.0, hypnogram_s - 30, "Sleep stage W")],
                      start=edf_reader.read_header(original).start)
    return folder


def test_sleep_edf_excerpt_keeps_the_epochs_inside_the_signal(real_data_dir, tmp_path):
    out = tmp_path / "se.h5"
    root = _sleep_edf_excerpt(real_data_dir, tmp_path / "sleep-edf", hypnogram_s=330)  # one epoch past the end
    summary = ingest("edf", root, out, sfreq=100, progress=False, eeg="EEG Fpz-Cz")
    assert summary.written == ["SC4001E0"] and summary.epochs_per_stage == {"W": 10}
    with h5py.File(out) as f:
        rec = f["recordings/SC4001E0"]
        assert "ecg" not in rec and rec["eeg"].shape == (30000,)
        assert rec["epochs/onset"][()].tolist() == list(np.arange(10) * 30.0)
        assert rec.attrs["subject"] == "SC400" and rec.attrs["standard"] == "unknown"  # only W left
        assert rec.attrs["hypnogram_file"] == "SC4001EC-Hypnogram.edf"


def test_a_whole_night_hypnogram_beside_a_300_s_excerpt_is_refused(real_data_dir, tmp_path):
    # 2640 of its 2650 scored epochs lie past the 300 s of signal: it cannot describe this recording.
    root = _sleep_edf_excerpt(real_data_dir, tmp_path / "sleep-edf", hypnogram_s=None)
    with pytest.raises(InputError, match=r"SC4001E0-PSG.edf: 2640 of the hypnogram's 2650 scored epochs "
                                         r"lie outside the signal's 300 s \(last epoch ends at 86400 s\)"):
        ingest("edf", root, tmp_path / "se.h5", sfreq=100, progress=False, strict=True, eeg="EEG Fpz-Cz")


def test_sleep_edf_at_200_hz_is_skipped_for_a_low_rate(real_data_dir, tmp_path):
    root = _sleep_edf_excerpt(real_data_dir, tmp_path / "sleep-edf", hypnogram_s=300)
    with pytest.raises(InputError, match="EEG sampled at 100 Hz, below the target 200 Hz"):
        ingest("edf", root, tmp_path / "se.h5", progress=False, strict=True, eeg="EEG Fpz-Cz")


def test_sleep_edf_names_pair_by_their_night_key():
    signals = [Path("SC4001E0-PSG.edf"), Path("SC4002E0-PSG.edf"), Path("SN001.edf")]
    hyps = [Path("SC4001EC-Hypnogram.edf"), Path("SC4002EC-Hypnogram.edf"), Path("SN001-sleepscoring.edf")]
    pairs = pair_scorings(signals, hyps)
    assert [pairs[s].scoring.name for s in signals] == [h.name for h in hyps]
    assert pair_scorings([Path("SC4003E0-PSG.edf")], hyps) == {Path("SC4003E0-PSG.edf"): Pairing(None)}
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


def test_edf_source_requires_a_channel(real_data_dir, tmp_path):
    with pytest.raises(InputError, match=r"source 'edf' needs a channel: --eeg NAME \(or 'A - B'\), --ecg NAME, or both"):
        ingest("edf", real_data_dir / "sleep-edf", tmp_path / "x.h5", progress=False)
