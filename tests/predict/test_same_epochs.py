"""Predicted and scored epochs are the same epochs: predict prepares a night as the checkpoint's
training did (the lead's orientation), and follows a scoring's epoch grid."""

import csv
import json
import shutil

import numpy as np
import pytest

from sleep_kd.data import cohort_file as store
from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data.ingest import ingest
from sleep_kd.predict.__main__ import main
from sleep_kd.predict.agreement import grid_start, read_scored
from sleep_kd.predict.night import prepare_windows, read_night
from sleep_kd.predict.scoring import load_stager
from tests.engine.conftest import _train_args
from tests.ingest.fixtures import write_mass_night


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _cohort_windows(cohort, rid, stager):
    """(scored epoch indices, ECG windows) of one recording as training reads them."""
    windows = CohortWindows(cohort, n_classes=4, recordings=[rid], sfreq=stager.sfreq, window_s=stager.window_s,
                            normalization=stager.normalization, modalities=("ecg",))
    items = windows.__getitems__(range(len(windows)))
    return np.array([int(item["epoch"]) for item in items]), np.stack([item["ecg"][0].numpy() for item in items])


# --- The lead's orientation: as training read it (P59) ---------------------------------------------------------

@pytest.fixture(scope="module")
def edf_trained(tiny_cohort, tmp_path_factory):
    """The tiny cohort's 30-s (AASM) nights ingested with ``--source edf --ecg 'ECG ECGI'`` (not inverted),
    and an ecg_base checkpoint trained on them."""
    import train_loop

    root = tmp_path_factory.mktemp("edf-source")
    for subset in ("SS1", "SS3"):
        shutil.copytree(tiny_cohort.parent / "edf" / subset, root / "nights" / subset)
    cohort = root / "edf.h5"
    ingest("edf", root / "nights", cohort, sfreq=100.0, ecg="ECG ECGI", progress=False)
    runs = root / "runs"
    assert train_loop.main(["--strategy", "ecg_base", *_train_args(cohort, runs, "--max-steps", "2", "--set",
                                                                     "data.split=kfold", "--set", "data.folds=3")]) == 0
    return cohort, runs / "edf" / "4class" / "ecg_base" / "best"


def test_every_checkpoint_records_the_leads_training_read_and_their_orientation(ecg_checkpoint, edf_trained):
    mass = json.loads((ecg_checkpoint / "config.json").read_text())["data"]["leads"]
    assert {(lead["lead"], lead["inverted"]) for lead in mass} == {("ECG ECGI", True), ("ECG ECGII", True)}
    cohort, checkpoint = edf_trained
    edf = json.loads((checkpoint / "config.json").read_text())["data"]
    assert edf["leads"] == [{"lead": "ECG ECGI", "inverted": False, "recordings": len(edf["splits"]["train"])}]


def test_a_model_trained_on_an_upright_lead_reads_it_upright(edf_trained, tmp_path, capsys):
    """P59: MASS's ECG ECGI ingested with --source edf was not inverted; predict used to invert it anyway
    (correlation -1.0 with the training windows), and now reads it as training did."""
    cohort, checkpoint = edf_trained
    stager = load_stager(checkpoint, cpu=True)
    with store.open_cohort(cohort) as handle:
        rid = stager.checkpoint.config["data"]["splits"]["train"][0]
        attrs = store.recording_attrs(handle, rid)
    raw = read_night(cohort.parent / "nights" / attrs["source_file"], modality="ecg", trained=stager.leads,
                     start=repr(attrs["start_offset_s"]))
    assert (raw.choice.spec, raw.choice.invert) == ("ECG ECGI", False)
    windows = prepare_windows(raw, sfreq=stager.sfreq, window_s=stager.window_s, epoch_s=30.0,
                              normalization=stager.normalization)
    epochs, theirs = _cohort_windows(cohort, rid, stager)
    correlation = np.corrcoef(windows[epochs].ravel(), theirs.ravel())[0, 1]
    assert correlation > 0.9999
    assert main([str(checkpoint), str(raw.path), "--out", str(tmp_path), "--no-progress", "--cpu"]) == 0
    assert ("channel 'ECG ECGI' (found by name search), read as recorded: as training read this lead"
            in capsys.readouterr().out)


def test_a_model_trained_on_mass_inverts_mass_leads_because_training_did(ecg_checkpoint, new_nights, tmp_path,
                                                                        capsys):
    night = new_nights / "SS1" / "01-01-0001 PSG.edf"
    assert main([str(ecg_checkpoint), str(night), "--out", str(tmp_path), "--no-progress"]) == 0
    assert ("channel 'ECG ECGI' (found by name search), inverted: as training inverted this lead"
            in capsys.readouterr().out)


def test_invert_flags_win_and_a_lead_training_never_saw_is_read_as_recorded(ecg_checkpoint, real_data_dir):
    from sleep_kd.data.ingest.edf_reader import read_header
    from sleep_kd.predict.channels import choose_channel

    trained = load_stager(ecg_checkpoint, cpu=True).leads
    header = read_header(real_data_dir / "mne-testing" / "chtypes_edf.edf")
    choice = choose_channel(header, modality="ecg", trained=trained)
    assert (choice.spec, choice.invert) == ("ECG ECG1", False)
    assert choice.describe() == ("channel 'ECG ECG1' (found by name search), read as recorded: a lead training "
                                 "never saw (it read ecg ecgi, ecg ecgii)")
    forced = choose_channel(header, modality="ecg", trained=trained, invert=True)
    assert forced.invert is True and forced.describe().endswith("inverted: --invert")


def test_a_checkpoint_without_the_record_keeps_the_old_rule_and_says_so(ecg_checkpoint, new_nights, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(ecg_checkpoint, old)
    config = json.loads((old / "config.json").read_text())
    del config["data"]["leads"]
    (old / "config.json").write_text(json.dumps(config))
    night = new_nights / "SS1" / "01-01-0001 PSG.edf"
    assert main([str(old), str(night), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert ("channel 'ECG ECGI' (found by name search), inverted: the checkpoint does not record its training "
            "leads; MASS's ECG ECG... leads are inverted as before" in capsys.readouterr().out)


def test_a_lead_training_read_both_ways_needs_an_explicit_sign(ecg_checkpoint, new_nights, tmp_path, capsys):
    mixed = tmp_path / "mixed"
    shutil.copytree(ecg_checkpoint, mixed)
    config = json.loads((mixed / "config.json").read_text())
    config["data"]["leads"] = [{"lead": "ECG ECGI", "inverted": False, "recordings": 1},
                               {"lead": "ECG ECGI", "inverted": True, "recordings": 1}]
    (mixed / "config.json").write_text(json.dumps(config))
    night = new_nights / "SS1" / "01-01-0001 PSG.edf"
    assert main([str(mixed), str(night), "--out", str(tmp_path / "out"), "--no-progress", "--strict"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: 01-01-0001 PSG.edf: lead 'ECG ECGI' was read both inverted and as recorded in this checkpoint's "
        "training; pass --invert or --no-invert")
    assert main([str(mixed), str(night), "--out", str(tmp_path / "out"), "--no-progress", "--no-invert"]) == 0


# --- The scoring's epoch grid (P23) -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def late_scoring(tmp_path_factory):
    """A MASS night whose scoring starts 165.5 s into the EDF (30-s epochs), and that night ingested."""
    root = tmp_path_factory.mktemp("late-scoring")
    psg, base = write_mass_night(root / "mass" / "SS1", "01-01-0042", "W" * 4 + "2" * 8 + "R" * 4 + "W" * 4,
                                 lead_s=165.5, tail_s=0.5, sfreq=256.0)
    ingest("mass", root / "mass", root / "late.h5", sfreq=100.0, progress=False)
    return psg, base, root / "late.h5"


def test_predicted_epochs_follow_the_scoring_grid_and_cover_the_scored_seconds(ecg_checkpoint, late_scoring,
                                                                             tmp_path):
    """P23: the predicted epochs used to start at the EDF's start, 14.5 s from every scored epoch."""
    psg, base, cohort = late_scoring
    assert main([str(ecg_checkpoint), str(psg), "--hypnogram", str(base), "--out", str(tmp_path),
                 "--no-progress"]) == 0
    onsets = [float(row["onset_s"]) for row in _rows(tmp_path / "01-01-0042 PSG.hypnogram.csv")]
    assert onsets[:7] == [15.5, 45.5, 75.5, 105.5, 135.5, 165.5, 195.5]
    scored = 165.5 + 30.0 * np.arange(20)
    assert set(scored) <= set(onsets)  # every scored epoch has the predicted epoch of its own seconds
    report = json.loads((tmp_path / "01-01-0042 PSG.agreement.json").read_text())
    assert report["n_epochs"] == 20
    # ... and that epoch's window is the window training read for the scored epoch.
    stager = load_stager(ecg_checkpoint, cpu=True)
    raw = read_night(psg, modality="ecg", trained=stager.leads)
    first_s = grid_start(read_scored(base, psg=psg, epoch_s=30.0), offset_s=raw.offset_s, epoch_s=30.0, source="b")
    windows = prepare_windows(raw, sfreq=stager.sfreq, window_s=stager.window_s, epoch_s=30.0,
                              normalization=stager.normalization, first_s=first_s)
    epochs, theirs = _cohort_windows(cohort, "01-01-0042", stager)
    inner = epochs > 0  # ingest's resampler starts at its crop, 165.5 s: its first window's edge differs
    np.testing.assert_allclose(windows[5 + epochs[inner]], theirs[inner], atol=1e-5)


def test_a_scoring_off_one_epoch_grid_is_refused(ecg_checkpoint, late_scoring, tmp_path, capsys):
    psg, _, _ = late_scoring
    scoring = tmp_path / "01-01-0042 PSG.csv"
    scoring.write_text("onset,duration,stage\n165.5,30,W\n195.5,30,W\n240,30,N2\n270,30,N2\n")
    assert main([str(ecg_checkpoint), str(psg), "--hypnogram", str(scoring), "--out", str(tmp_path / "out"),
                 "--no-progress", "--strict"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: 01-01-0042 PSG.csv: the scored epochs are not on one 30 s grid: the epoch at 240 s is 14.5 s off "
        "the grid of the first, at 165.5 s (predicted epochs could not cover the same seconds)")
    assert not (tmp_path / "out" / "01-01-0042 PSG.hypnogram.csv").exists()


def test_a_scoring_that_does_not_describe_the_night_is_refused_as_ingest_refuses_it(ecg_checkpoint, late_scoring,
                                                                                    tmp_path, capsys):
    psg, _, _ = late_scoring
    scoring = tmp_path / "01-01-0042 PSG.csv"
    scoring.write_text("onset,duration,stage\n0,30,W\n30000,30,N2\n60000,30,N2\n90000,30,REM\n")
    assert main([str(ecg_checkpoint), str(psg), "--hypnogram", str(scoring), "--out", str(tmp_path / "out"),
                 "--no-progress", "--strict"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: 01-01-0042 PSG.csv: 3 of the hypnogram's 4 scored epochs lie outside the signal's 766 s (last "
        "epoch ends at 90030 s): it does not describe this recording (another night's file, or times in another "
        "unit?)")


def test_the_line_step_of_a_one_stage_per_line_scoring_is_never_taken_from_epoch_s(ecg_checkpoint, late_scoring,
                                                                                     tmp_path, capsys):
    psg, _, _ = late_scoring
    scoring = tmp_path / "01-01-0042 PSG.txt"
    scoring.write_text("W\n" * 12 + "N2\n" * 12)  # one line per 10 s: 24 lines, 4 minutes
    out = tmp_path / "out"
    argv = [str(ecg_checkpoint), str(psg), "--hypnogram", str(scoring), "--out", str(out), "--no-progress"]
    assert main([*argv, "--strict"]) == 2
    assert capsys.readouterr().err.strip() == ("error: 01-01-0042 PSG.txt: one stage per line, and the seconds "
                                               "between lines are not given: pass --line-s SECONDS (the step is "
                                               "never guessed)")
    assert main([*argv, "--line-s", "10"]) == 0
    report = json.loads((out / "01-01-0042 PSG.agreement.json").read_text())
    assert report["n_epochs"] == 8  # 24 lines of 10 s: eight 30 s epochs, from the EDF start
    assert main([*argv, "--line-s", "0"]) == 2
    assert capsys.readouterr().err.strip().endswith("error: --line-s must be a positive number of seconds, got 0.0")
