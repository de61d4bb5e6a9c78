"""Channel search and --start/--end parsing on the real EDF headers of tests/data."""

import datetime as dt

import pytest

from sleep_kd.data.ingest.edf_reader import read_header
from sleep_kd.errors import InputError
from sleep_kd.predict.channels import choose_channel
from sleep_kd.predict.night import parse_time


def test_search_finds_the_clinical_ecg_lead_and_leaves_it_upright(real_data_dir):
    header = read_header(real_data_dir / "mne-testing" / "chtypes_edf.edf")
    choice = choose_channel(header, modality="ecg")
    assert (choice.spec, choice.invert, choice.searched) == ("ECG ECG1", False, True)
    assert choose_channel(header, modality="ecg", invert=True).invert is True


def test_search_finds_sleep_edf_eeg_and_names_the_channels_when_there_is_no_ecg(real_data_dir):
    header = read_header(real_data_dir / "sleep-edf" / "SC4001E0-PSG-first300s.edf")
    assert choose_channel(header, modality="eeg").spec == "EEG Fpz-Cz"
    with pytest.raises(InputError, match=r"^SC4001E0-PSG-first300s.edf: no ECG channel among the common names "
                                         r"\(channels: EEG Fpz-Cz, EEG Pz-Oz, EOG horizontal"):
        choose_channel(header, modality="ecg")


def test_a_given_derivation_is_spelled_as_the_header_spells_it(real_data_dir):
    header = read_header(real_data_dir / "mne-testing" / "chtypes_edf.edf")
    choice = choose_channel(header, modality="eeg", channel="eeg c3-ref - EEG A2-Ref")
    assert (choice.spec, choice.searched) == ("EEG C3-Ref - EEG A2-Ref", False)
    with pytest.raises(InputError, match=r"^chtypes_edf.edf: no channel 'EEG A9-Ref'"):
        choose_channel(header, modality="eeg", channel="EEG C3-Ref - EEG A9-Ref")


def test_clock_times_count_from_the_recording_start_across_midnight():
    start = dt.datetime(2005, 1, 1, 22, 30, 0)
    assert parse_time("23:00", start=start, name="start") == 1800.0
    assert parse_time("01:30:30", start=start, name="end") == 3 * 3600 + 30
    assert parse_time("3600", start=start, name="end") == 3600.0
    assert parse_time(None, start=start, name="end") is None
    with pytest.raises(InputError, match=r"^--start '23:00': the EDF header has no start time; give seconds instead$"):
        parse_time("23:00", start=None, name="start")
    with pytest.raises(InputError, match=r"^--end '-5': expected seconds >= 0"):
        parse_time("-5", start=start, name="end")
