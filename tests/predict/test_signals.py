"""A night that carries no signal once scaled and resampled is skipped with its reason, never staged."""

import datetime as dt
from pathlib import Path

import edfio
import numpy as np
import pytest

from sleep_kd.errors import InputError
from sleep_kd.predict.__main__ import main
from sleep_kd.predict.channels import ChannelChoice
from sleep_kd.predict.night import RawNight, prepare_windows


def _ecg_night(path: Path, *, physical: tuple[str, str] | None = None, seconds: int = 120) -> Path:
    """A 100 Hz ECG night; ``physical`` rewrites the header's physical min/max (8-character fields)."""
    rng = np.random.default_rng(0)
    values = 400 * (np.sin(2 * np.pi * 1.2 * np.arange(seconds * 100) / 100) > 0.95) + rng.normal(0, 5, seconds * 100)
    edfio.Edf([edfio.EdfSignal(values, 100.0, label="ECG", physical_dimension="uV")]).write(path)
    if physical is not None:
        data = bytearray(path.read_bytes())
        for offset, text in zip((256 + 104, 256 + 112), physical):  # one signal: physical min, then max
            data[offset:offset + 8] = text.ljust(8).encode("ascii")
        path.write_bytes(bytes(data))
    return path


def test_a_physical_range_of_1e_minus_50_is_skipped_not_staged_as_zeros(ecg_checkpoint, tmp_path, capsys):
    """P10: such an EDF was resampled to all-zero windows and staged, exit 0."""
    tiny = _ecg_night(tmp_path / "tiny.edf", physical=("-1e-50", "1e-50"))
    good = _ecg_night(tmp_path / "good.edf")
    out = tmp_path / "out"
    assert main([str(ecg_checkpoint), str(tiny), str(good), "--out", str(out), "--no-progress"]) == 0
    reason = ("tiny.edf: channel 'ECG' never exceeds 1e-50 in magnitude, below what float32 windows hold "
              "(the EDF header's physical range or units?)")
    assert f"skipped tiny.edf: {reason}" in capsys.readouterr().err.splitlines()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("tiny")) == []
    assert main([str(ecg_checkpoint), str(tiny), "--out", str(out), "--no-progress", "--strict"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {reason}"


def test_a_range_past_float32_is_skipped(ecg_checkpoint, tmp_path, capsys):
    huge = _ecg_night(tmp_path / "huge.edf", physical=("-1e45", "1e45"))
    assert main([str(ecg_checkpoint), str(huge), "--out", str(tmp_path / "out"), "--no-progress", "--strict"]) == 2
    assert capsys.readouterr().err.strip() == ("error: huge.edf: channel 'ECG' reaches 1e+45 in magnitude, beyond what "
                                               "float32 windows hold (the EDF header's physical range or units?)")


def test_a_variation_finer_than_float32_is_flat_once_resampled():
    """Distinct in float64 as read, one value in the float32 windows: refused after resampling."""
    rng = np.random.default_rng(1)
    signal = 1000.0 + 1e-6 * rng.normal(size=6000)  # float32's step at 1000 is 6e-5
    night = RawNight(Path("dc.edf"), signal, 100.0, ChannelChoice("ECG", False, True), 0.0,
                     dt.datetime(2020, 1, 1), 60.0)
    with pytest.raises(InputError) as error:
        prepare_windows(night, sfreq=100.0, window_s=30.0, epoch_s=30.0, normalization="zscore")
    assert str(error.value) == "dc.edf: channel 'ECG' (after resampling to 100 Hz) is flat (constant 1000)"
