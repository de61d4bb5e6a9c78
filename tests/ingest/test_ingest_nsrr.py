"""The ``nsrr`` source: SHHS/MESA-shaped folders, every stage concept, channel aliases, hostile XML."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sleep_kd.data.cohort_file import cohort_modalities
from sleep_kd.data.ingest import ingest, nsrr_annotations
from sleep_kd.data.ingest.nsrr_annotations import read_nsrr_stages
from sleep_kd.errors import InputError
from tests.ingest.nsrr_fixtures import (BILLION_LAUGHS, CONCEPTS, EXTERNAL_ENTITY, MESA_CHANNELS, nsrr_xml,
                                        stage_event, write_nsrr_night)

SFREQ = 64.0


def test_every_stage_concept_and_multi_epoch_events(tmp_path):
    # One event per concept, the N2 one spanning three epochs; an arousal in between is no stage.
    events, start = [("", "Recording Start Time", 0, 330)], 0
    for concept in CONCEPTS:
        length = 90 if concept.startswith("Stage 2") else 30
        events.append(stage_event(concept, start, length))
        start += length
    events.insert(3, ("Arousals|Arousals", "Arousal|Arousal ()", 40.0, 5.0))
    _, xml = write_nsrr_night(tmp_path, "shhs1-200001", seconds=300, events=events, visit_folder="shhs1")
    epochs = read_nsrr_stages(xml)
    assert epochs.stage.tolist() == [0, 1, 2, 2, 2, 3, 4, 5, -1, -2]
    assert epochs.onset.tolist() == [0, 30, 60, 90, 120, 150, 180, 210, 240, 270]
    assert epochs.duration.tolist() == [30.0] * 10


def test_shhs_night_is_ingested_with_its_aliases_recorded(tmp_path):
    write_nsrr_night(tmp_path / "shhs", "shhs1-200001", visit_folder="shhs1")
    write_nsrr_night(tmp_path / "shhs", "shhs2-200001", channels=("EEG2", "EEG 2x", "ECG"), visit_folder="shhs2")
    out = tmp_path / "shhs.h5"
    summary = ingest("nsrr", tmp_path / "shhs", out, sfreq=SFREQ, progress=False)
    assert summary.written == ["shhs1-200001", "shhs2-200001"]
    assert summary.per_recording["shhs1-200001"] == {"W": 1, "N2": 3, "R": 2}
    with h5py.File(out) as f:
        first, second = f["recordings/shhs1-200001"], f["recordings/shhs2-200001"]
        assert first.attrs["eeg_derivation"] == "EEG" and first.attrs["ecg_derivation"] == "ECG"
        assert second.attrs["eeg_derivation"] == "EEG2"  # visit 2 renamed the channel
        # Both visits are one participant: one subject, so one side of every split.
        assert first.attrs["subject"] == second.attrs["subject"] == "shhs-200001"
        assert first.attrs["subset"] == "shhs1" and first.attrs["cohort"] == "shhs"
        assert first.attrs["hypnogram_file"] == "polysomnography/annotations-events-nsrr/shhs1/shhs1-200001-nsrr.xml"
        assert first["epochs/stage"][()].tolist() == [0, 2, 2, 2, 5, 5]
        assert first["eeg"].shape == first["ecg"].shape == (180 * 64,)
    assert cohort_modalities(out) == ("eeg", "ecg")


def test_mesa_aliases_and_overrides(tmp_path):
    write_nsrr_night(tmp_path, "mesa-sleep-0001", channels=MESA_CHANNELS)
    out = tmp_path / "mesa.h5"
    ingest("nsrr", tmp_path / "polysomnography", out, sfreq=SFREQ, progress=False)  # the folder itself works too
    with h5py.File(out) as f:
        rec = f["recordings/mesa-sleep-0001"]
        assert (rec.attrs["eeg_derivation"], rec.attrs["ecg_derivation"]) == ("EEG3", "EKG")
        assert rec.attrs["subject"] == "mesa-0001" and rec.attrs["subset"] == "mesa-sleep"
    ingest("nsrr", tmp_path, out, sfreq=SFREQ, progress=False, eeg="EEG1 - EEG2", ecg="EKG", invert_ecg=True)
    with h5py.File(out) as f:
        rec = f["recordings/mesa-sleep-0001"]
        assert (rec.attrs["eeg_derivation"], rec.attrs["ecg_derivation"]) == ("EEG1 - EEG2", "-1 * EKG")
        assert rec["ecg"][()].mean() < -20  # the fixture's ECG spikes are positive


def test_ecg_only_nights(tmp_path):
    write_nsrr_night(tmp_path, "shhs1-200001", channels=("ECG", "EMG"))  # a Holter-like night: no EEG
    out = tmp_path / "ecg.h5"
    ingest("nsrr", tmp_path, out, sfreq=SFREQ, progress=False, modalities=["ecg"])
    assert cohort_modalities(out) == ("ecg",)
    with h5py.File(out) as f:
        assert sorted(f["recordings/shhs1-200001"]) == ["ecg", "epochs"]
    ingest("nsrr", tmp_path, out, sfreq=SFREQ, progress=False, ecg="ECG")  # --ecg alone means the same
    assert cohort_modalities(out) == ("ecg",)


def test_a_night_without_an_eeg_alias_is_skipped_naming_what_was_tried(tmp_path):
    write_nsrr_night(tmp_path, "shhs1-200001")
    write_nsrr_night(tmp_path, "shhs1-200002", channels=("ECG", "EMG"))
    summary = ingest("nsrr", tmp_path, tmp_path / "c.h5", sfreq=SFREQ, progress=False)
    assert summary.skipped == [("shhs1-200002", "shhs1-200002.edf: no EEG channel for cohort shhs (tried 'EEG', "
                                "'EEG(sec)', 'EEG 2', 'EEG2', 'EEG sec'; pass --eeg NAME)")]


def test_a_folder_without_the_nsrr_layout_is_refused(tmp_path):
    (tmp_path / "edf").mkdir()
    with pytest.raises(InputError, match=r"no NSRR layout here \(expected polysomnography/edfs/"):
        ingest("nsrr", tmp_path, tmp_path / "c.h5", progress=False)


def test_billion_laughs_is_refused_before_anything_is_expanded(tmp_path, monkeypatch):
    path = tmp_path / "x-nsrr.xml"
    path.write_text(BILLION_LAUGHS)
    seen = []
    original = nsrr_annotations._Collector.data
    monkeypatch.setattr(nsrr_annotations._Collector, "data", lambda self, text: seen.append(text) or original(self, text))
    with pytest.raises(InputError) as error:
        read_nsrr_stages(path)
    assert str(error.value) == ("x-nsrr.xml: refused: the file declares the XML entity 'lol' (entity declarations "
                                "are refused, never expanded)")
    assert sum(len(text) for text in seen) == 0  # stopped in the DTD, before any element text


def test_external_entities_are_refused(tmp_path):
    path = tmp_path / "x-nsrr.xml"
    path.write_text(EXTERNAL_ENTITY)
    with pytest.raises(InputError, match="x-nsrr.xml: refused: the file declares the XML entity 'secret'"):
        read_nsrr_stages(path)


@pytest.mark.parametrize("xml, reason", [
    ("<PSGAnnotation><EpochLength>30</EpochLength><ScoredEvents>", "not well-formed XML (no element found at line 1)"),
    ("<Annotations/>", "root element is 'Annotations', expected 'PSGAnnotation' (an NSRR annotation file)"),
    (nsrr_xml([stage_event("Wake|5", 0, 30)]),
     "stage event 0 has EventConcept 'Wake|5': expected one of 'Wake|0', 'Stage 1 sleep|1' ... 'Stage 4 sleep|4', "
     "'REM sleep|5', 'Movement|6', 'Unscored|9'"),
    (nsrr_xml([stage_event("Wake|0", 0, 20), stage_event("REM sleep|5", 20, 20)]),
     "annotation at 0 s lasts 20 s, not a whole number of 30 s epochs"),
    (nsrr_xml([stage_event("Wake|0", "zero", 30)]), "stage event 0 has no numeric Start and Duration (got 'zero', '30')"),
    (nsrr_xml([("Arousals|Arousals", "Arousal|Arousal ()", 0, 5)]), "the hypnogram holds no sleep stage annotations"),
])
def test_bad_annotation_files_name_the_reason(tmp_path, xml, reason):
    path = tmp_path / "x-nsrr.xml"
    path.write_text(xml)
    with pytest.raises(InputError) as error:
        read_nsrr_stages(path)
    assert str(error.value) == f"x-nsrr.xml: {reason}"


def test_stage_counts_per_recording_are_printed(tmp_path):
    write_nsrr_night(tmp_path, "shhs1-200001")
    summary = ingest("nsrr", tmp_path, tmp_path / "c.h5", sfreq=SFREQ, progress=False)
    lines = summary.format().splitlines()
    assert lines[1:3] == ["epochs per stage: W 1, N2 3, R 2", "  shhs1-200001: W 1, N2 3, R 2"]
    assert np.isclose(summary.hours, 180 / 3600)
