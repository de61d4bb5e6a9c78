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


def _edf_plus(path, *, seconds=4, sfreq=10.0):
    """An EDF+ file of one channel in 1 s records (each record's TAL gives its start: +0, +1, ...)."""
    import edfio

    signal = edfio.EdfSignal(np.sin(np.arange(int(seconds * sfreq))), sfreq, label="EEG X", physical_dimension="uV")
    edfio.Edf([signal], annotations=[edfio.EdfAnnotation(0, None, "start")]).write(path)
    data = bytearray(path.read_bytes())
    assert data[192:197] == b"EDF+C"
    data[192:197] = b"EDF+D"
    path.write_bytes(bytes(data))
    return path


def test_edf_plus_d_whose_records_follow_each_other_is_read_as_continuous(tmp_path):
    header = edf_reader.read_header(_edf_plus(tmp_path / "d.edf"))
    assert header.discontinuous and header.duration_s == 4.0
    signal, sfreq = edf_reader.read_signal(header, "EEG X")
    assert sfreq == 10.0 and signal.shape == (40,)


def test_edf_plus_d_with_a_gap_is_refused_naming_the_record(tmp_path):
    path = _edf_plus(tmp_path / "d.edf")
    data = path.read_bytes()
    # Record 2 starts 60 s later than a continuous record would: "+2" becomes "+62" (same TAL width).
    at = data.index(b"+2\x14\x14\x00\x00")
    path.write_bytes(data[:at] + b"+62\x14\x14\x00" + data[at + 6:])
    with pytest.raises(InputError) as error:
        edf_reader.read_header(path)
    assert str(error.value) == (
        "d.edf: EDF+D (discontinuous) file: data record 2 starts at 62 s, expected 2 s for continuous data; "
        "refused, since reading across the gap would shift every later epoch (split the file at its gaps or "
        "export it as EDF+C)")


def test_a_lead_flat_except_a_few_spikes_counts_as_flat():
    lead_off = np.zeros(10_000)
    lead_off[[100, 5000, 9000]] = 800.0  # three spikes on a disconnected lead
    with pytest.raises(InputError, match=r"f.edf: channel 'ECG' is flat \(9997 of its 10000 samples equal 0; "
                                         r"a disconnected lead\?\)"):
        edf_reader.check_signal(lead_off, source="f.edf", channel="ECG")
    # Just under the rule (half the samples at one value) is a signal, and so is coarse quantisation.
    half = np.zeros(10_000)
    half[:5000] = np.arange(1, 5001)
    edf_reader.check_signal(half, source="f.edf", channel="ECG")
    coarse = np.round(np.random.default_rng(0).normal(0, 2, 10_000))  # about 20% of samples share a value
    edf_reader.check_signal(coarse, source="f.edf", channel="EEG")
