"""Reading channels and derivations from EDF files, and rejecting bad files."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from sleep_kd.data.ingest import edf_reader
from sleep_kd.errors import InputError


def test_clinical_edf_channels_by_name(real_data_dir):
    header = edf_reader.read_header(real_data_dir / "mne-testing" / "chtypes_edf.edf")
    # 42 signals plus the EDF+ annotation channel
    assert len(header.labels) == 43 and header.labels[-1] == "EDF Annotations" and header.duration_s == 5.0
    signal, sfreq = edf_reader.read_signal(header, "EEG C3-Ref")
    assert sfreq == 200.0 and signal.shape == (1000,)
    derived, _ = edf_reader.read_signal(header, "EEG C3-Ref - EEG A2-Ref")
    raw = mne.io.read_raw_edf(header.path, include=["EEG C3-Ref", "EEG A2-Ref"], preload=True, verbose="error")
    expected = (raw.get_data(picks="EEG C3-Ref") - raw.get_data(picks="EEG A2-Ref"))[0] * 1e6
    np.testing.assert_allclose(derived, expected)


def test_missing_channel_names_channel_and_file(real_data_dir):
    header = edf_reader.read_header(real_data_dir / "mne-testing" / "chtypes_edf.edf")
    with pytest.raises(InputError, match=r"^chtypes_edf.edf: no channel 'EEG C3-CLE' \(channels: EEG Fp1-Ref"):
        edf_reader.read_signal(header, "EEG C3-CLE - EEG A2-Ref")


def test_channel_rates_are_the_channels_own(real_data_dir):
    header = edf_reader.read_header(real_data_dir / "sleep-edf" / "SC4001E0-PSG-first300s.edf")
    rates = dict(zip(header.labels, header.sfreqs))
    assert rates["EEG Fpz-Cz"] == 100.0 and rates["Temp rectal"] == 1.0
    assert header.start.isoformat() == "1989-04-24T16:13:00"


def test_several_signals_come_each_at_its_own_rate_one_read_per_rate(real_data_dir, monkeypatch):
    header = edf_reader.read_header(real_data_dir / "sleep-edf" / "SC4001E0-PSG-first300s.edf")
    reads = []
    original = edf_reader._read_channels
    monkeypatch.setattr(edf_reader, "_read_channels", lambda h, names: reads.append(list(names)) or original(h, names))
    specs = ["EEG Fpz-Cz", "Temp rectal", "EEG Pz-Oz", "EEG Fpz-Cz - EEG Pz-Oz"]
    signals = edf_reader.read_signals(header, specs)
    assert [rate for _, rate in signals] == [100.0, 1.0, 100.0, 100.0]
    assert [x.shape for x, _ in signals] == [(30000,), (300,), (30000,), (30000,)]
    assert reads == [["EEG Fpz-Cz", "EEG Pz-Oz"], ["Temp rectal"]]
    np.testing.assert_array_equal(signals[3][0], signals[0][0] - signals[2][0])
    alone, _ = edf_reader.read_signal(header, "Temp rectal")
    np.testing.assert_array_equal(alone, signals[1][0])


def test_truncated_and_non_edf_files_are_rejected(real_data_dir, tmp_path):
    data = (real_data_dir / "sleep-edf" / "SC4001E0-PSG-first300s.edf").read_bytes()
    cut = tmp_path / "cut.edf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="^cut.edf: truncated EDF file"):
        edf_reader.read_header(cut)
    junk = tmp_path / "junk.edf"
    junk.write_text("not an edf at all")
    with pytest.raises(InputError, match="^junk.edf: not a readable EDF file"):
        edf_reader.read_header(junk)


def test_flat_and_nan_signals_are_rejected():
    with pytest.raises(InputError, match="f.edf: channel 'EEG' is flat"):
        edf_reader.check_signal(np.zeros(10), source="f.edf", channel="EEG")
    with pytest.raises(InputError, match="NaN"):
        edf_reader.check_signal(np.array([1.0, np.nan]), source="f.edf", channel="EEG")


def test_sha256_of_a_known_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert edf_reader.sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sha256_of_an_empty_file_falls_back_to_reading(tmp_path):
    """An empty file cannot be memory-mapped; its hash is still the hash of no bytes."""
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    assert edf_reader.sha256_file(path) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_sha256_of_a_file_larger_than_a_block(tmp_path):
    import hashlib

    data = np.random.default_rng(0).integers(0, 256, size=3 * (1 << 20) + 17, dtype=np.uint8).tobytes()
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert edf_reader.sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert edf_reader.sha256_file(path, block_bytes=1000) == hashlib.sha256(data).hexdigest()
