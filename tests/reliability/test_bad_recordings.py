"""Bad recordings through the real ingest command, each beside a good night.

For every bad night: the default run skips it with its one-line reason and still writes the good
night; ``--strict`` exits 2 with that same line on stderr (no traceback) and leaves the cohort
file written before byte-identical, with no temporary file left behind.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from sleep_kd.data.ingest.__main__ import main
from tests.ingest.fixtures import LABELS, MASS_EEG, night_signals, write_annotations, write_edf, write_mass_night
from tests.ingest.nsrr_fixtures import BILLION_LAUGHS, stage_event, write_nsrr_night
from tests.reliability.conftest import run_cli, snapshot

SFREQ = 128.0  # the nights' rate; ingested at half of it
TARGET = "64"
GOOD, BAD = "01-01-0001", "01-01-0002"
STAGES = "W12R"  # 4 epochs of 30 s: 120 s of signal
HEADER = 256 * 5  # fixed header + 3 channels + edfio's EDF Annotations signal


def _psg(folder: Path) -> Path:
    return folder / f"{BAD} PSG.edf"


def _edit_header(path: Path, offset: int, width: int, value: str) -> None:
    data = bytearray(path.read_bytes())
    data[offset:offset + width] = value.ljust(width).encode("ascii")
    path.write_bytes(bytes(data))


# Each builder writes the bad night BAD into the SS1 folder and returns the reason ingest must give.

def truncated_edf(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    whole = _psg(folder).read_bytes()
    _psg(folder).write_bytes(whole[:3000])
    return f"{BAD} PSG.edf: truncated EDF file ({3000 - HEADER} data bytes, header promises {len(whole) - HEADER})"


def not_an_edf(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    _psg(folder).write_text("time,ecg\n0.0,12.5\n0.01,13.1\n")  # a CSV export under an .edf name
    return f"{BAD} PSG.edf: not a readable EDF file (bad or missing header)"


def header_size_edited(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    _edit_header(_psg(folder), 184, 8, "512")
    return f"{BAD} PSG.edf: inconsistent EDF header: its size field says 512 bytes, expected {HEADER} for 4 signals"


def record_count_raised(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    data_bytes = _psg(folder).stat().st_size - HEADER
    _edit_header(_psg(folder), 236, 8, "200")  # 120 records of 1 s were written
    return (f"{BAD} PSG.edf: truncated EDF file ({data_bytes} data bytes, header promises "
            f"{data_bytes // 120 * 200})")


def record_count_lowered(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    data_bytes = _psg(folder).stat().st_size - HEADER
    _edit_header(_psg(folder), 236, 8, "60")
    return (f"{BAD} PSG.edf: inconsistent EDF header: it says 60 data records but the file holds 120 "
            f"({data_bytes} data bytes of {data_bytes // 120} each)")


def digital_range_empty(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    # Signal fields are stored field by field over the 4 signals; ECG is signal 2 (0-based).
    digital_min = 256 + (16 + 80 + 8 + 8 + 8) * 4 + 8 * 2
    digital_max = digital_min + 8 * 4
    _edit_header(_psg(folder), digital_max, 8, "-32768")
    return (f"{BAD} PSG.edf: channel 'ECG ECGI' has digital minimum -32768 >= maximum -32768 in the EDF header "
            "(expected minimum < maximum)")


def missing_eeg_channel(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ, channels=("EEG F3-CLE", "EEG A2-CLE", "ECG ECGI"))
    return f"{BAD} PSG.edf: no EEG channel 'EEG C3-CLE - EEG A2-CLE' for MASS subset SS1"


def missing_ecg_channel(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ, channels=MASS_EEG + ("EMG Chin",))
    return f"{BAD} PSG.edf: no ECG channel (expected a label starting with 'ECG ECG')"


def rate_below_target(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=32.0)
    return f"{BAD} PSG.edf: EEG sampled at 32 Hz, below the target 64 Hz (pass --sfreq 32 or lower)"


def flat_ecg(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    n = int(len(STAGES) * 30 * SFREQ)
    signals = night_signals(MASS_EEG, n, SFREQ)
    signals["ECG ECGI"] = np.zeros(n)  # lead off
    write_edf(_psg(folder), signals, SFREQ)
    return f"{BAD} PSG.edf: channel 'ECG ECGI' is flat (constant 0)"


def ecg_flat_but_for_spikes(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    n = int(len(STAGES) * 30 * SFREQ)
    signals = night_signals(MASS_EEG, n, SFREQ)
    signals["ECG ECGI"] = np.zeros(n)
    signals["ECG ECGI"][[500, 7000, 12000]] = 300.0  # a disconnected lead with three spikes
    write_edf(_psg(folder), signals, SFREQ)
    return f"{BAD} PSG.edf: channel 'ECG ECGI' is flat ({n - 3} of its {n} samples equal 0; a disconnected lead?)"


def _ecg_physical_range(folder, low: str, high: str) -> None:
    physical_min = 256 + (16 + 80 + 8) * 4 + 8 * 2  # field by field over the 4 signals; ECG is signal 2
    _edit_header(_psg(folder), physical_min, 8, low)
    _edit_header(_psg(folder), physical_min + 8 * 4, 8, high)


def ecg_range_vanishing(folder):
    """P10: a physical range of +-1e-50 scales the ECG to values float32 holds as zeros."""
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    _ecg_physical_range(folder, "-1e-50", "1e-50")
    return (f"{BAD} PSG.edf: channel 'ECG ECGI' never exceeds 1e-50 in magnitude, below what float32 windows hold "
            "(the EDF header's physical range or units?)")


def ecg_range_past_float32(folder):
    """Finite as read (float64), but infinite in the float32 a cohort stores: refused, never stored."""
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    _ecg_physical_range(folder, "-1e45", "1e45")
    return (f"{BAD} PSG.edf: channel 'ECG ECGI' reaches 1e+45 in magnitude, beyond what float32 windows hold "
            "(the EDF header's physical range or units?)")


def discontinuous_with_a_gap(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    n = int(len(STAGES) * 30 * SFREQ)
    write_edf(_psg(folder), night_signals(MASS_EEG + ("ECG ECGI",), n, SFREQ), SFREQ, annotations=[(0, 0, "start")])
    data = bytearray(_psg(folder).read_bytes())
    data[192:197] = b"EDF+D"
    at = bytes(data).index(b"+60\x14\x14\x00")  # record 60 starts 60 s in; make it 900 s (a 14-min gap)
    data[at:at + 6] = b"+900\x14\x14"
    _psg(folder).write_bytes(bytes(data))
    return (f"{BAD} PSG.edf: EDF+D (discontinuous) file: data record 60 starts at 900 s, expected 60 s for continuous "
            "data; refused, since reading across the gap would shift every later epoch (split the file at its gaps "
            "or export it as EDF+C)")


def annotations_past_the_end(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    write_annotations(folder / f"{BAD} Base.edf", [(i * 30.0, 30.0, LABELS[s]) for i, s in enumerate(STAGES + "2")])
    return f"{BAD} PSG.edf: annotation at 120 s (+30 s) runs past the signal, which lasts 120 s from the first annotation"


def overlapping_annotations(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    write_annotations(folder / f"{BAD} Base.edf",
                      [(0.0, 30.0, LABELS["W"]), (20.0, 30.0, LABELS["1"]), (50.0, 30.0, LABELS["2"])])
    return f"{BAD} Base.edf: stage annotations overlap (the one at 0 s lasts 30 s but the next starts at 20 s)"


def unknown_stage_label(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    write_annotations(folder / f"{BAD} Base.edf", [(0.0, 30.0, LABELS["W"]), (30.0, 30.0, "Sleep stage 6")])
    return (f"{BAD} Base.edf: annotation at 30 s: unknown sleep stage label 'Sleep stage 6': expected W, N1, N2, "
            "N3, N4 (or 1-4), R/REM, ? or Movement time")


def empty_hypnogram(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    write_annotations(folder / f"{BAD} Base.edf", [(0.0, 0.0, "Lights off"), (110.0, 0.0, "Lights on")])
    return f"{BAD} Base.edf: the hypnogram holds no sleep stage annotations"


def missing_hypnogram(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    (folder / f"{BAD} Base.edf").unlink()
    return f"{BAD} PSG.edf: no matching annotation file {BAD} Base.edf"


def hypnogram_not_an_edf(folder):
    write_mass_night(folder, BAD, STAGES, sfreq=SFREQ)
    (folder / f"{BAD} Base.edf").write_bytes(b"")
    return f"{BAD} Base.edf: not a readable EDF file (bad or missing header)"


MASS_CASES = [truncated_edf, not_an_edf, header_size_edited, record_count_raised, record_count_lowered,
              digital_range_empty, missing_eeg_channel, missing_ecg_channel, rate_below_target, flat_ecg,
              ecg_flat_but_for_spikes, ecg_range_vanishing, ecg_range_past_float32, discontinuous_with_a_gap, annotations_past_the_end, overlapping_annotations, unknown_stage_label, empty_hypnogram,
              missing_hypnogram, hypnogram_not_an_edf]


def _recordings(path: Path) -> list[str]:
    with h5py.File(path, "r") as handle:
        return sorted(handle["recordings"])


def check_skip_then_strict(argv, out: Path, bad_id: str, reason: str, good_ids: list[str], capsys):
    """Default run: skips ``bad_id`` with ``reason``, writes the rest. Strict: exit 2, ``out`` unchanged."""
    code, stdout, stderr = run_cli(main, [*argv, "--out", out, "--no-progress"], capsys)
    assert code == 0, stderr
    assert stdout.endswith(f"skipped 1 recordings:\n  {bad_id}: {reason}\n"), stdout
    assert stdout.startswith(f"wrote {len(good_ids)} recordings")
    assert stderr == f"skipped {bad_id}: {reason}\n"
    assert _recordings(out) == good_ids
    before = out.read_bytes()

    code, stdout, stderr = run_cli(main, [*argv, "--out", out, "--no-progress", "--strict"], capsys)
    assert code == 2
    assert stderr == f"error: {reason}\n" and stdout == ""
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary file left


@pytest.mark.parametrize("make_bad", MASS_CASES, ids=lambda f: f.__name__)
def test_bad_mass_night_is_skipped_with_its_reason_or_stops_a_strict_run(make_bad, tmp_path, capsys):
    root = tmp_path / "mass"
    write_mass_night(root / "SS1", GOOD, STAGES, sfreq=SFREQ)
    reason = make_bad(root / "SS1")
    (tmp_path / "out").mkdir()
    check_skip_then_strict(["--source", "mass", "--root", root, "--sfreq", TARGET], tmp_path / "out" / "cohort.h5",
                           BAD, reason, [GOOD], capsys)


# The generic edf source, with CSV hypnograms (EDF+ annotations are read back sorted by onset, so
# order is a CSV matter).

def _edf_night(folder: Path, name: str, hypnogram: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    n = int(120 * SFREQ)
    write_edf(folder / f"{name}.edf", night_signals(MASS_EEG + ("ECG ECGI",), n, SFREQ), SFREQ)
    (folder / f"{name}.csv").write_text(hypnogram)


EDF_CASES = {
    "out_of_order": ("onset,duration,stage\n30,30,N1\n0,30,W\n60,30,N2\n",
                     "bravo.csv: stage annotations out of order (onset 0 s after 30 s)"),
    "unknown_label": ("W\nN1\nDeep\n",
                      "bravo.csv: annotation at 60 s: unknown sleep stage label 'Deep': expected W, N1, N2, N3, N4 "
                      "(or 1-4), R/REM, ? or Movement time"),
    "empty": ("# scored by nobody\n\n", "bravo.csv: the hypnogram is empty"),
    "not_numbers": ("onset,duration,stage\n0,30,W\nthirty,30,N1\n",
                    "bravo.csv: line 3 is not onset,duration,stage numbers"),
    "odd_duration": ("onset,duration,stage\n0,30,W\n30,45,N1\n",
                     "bravo.csv: annotation at 30 s lasts 45 s, not a whole number of 30 s epochs"),
    "numeric_without_a_code_map": ("5\n3\n2\n4\n",
                                   "bravo.csv: numeric stage codes (2, 3, 4, 5) need a code map: pass --stage-codes "
                                   "NAME (aasm, reverse, rk; see --help) or your own, e.g. "
                                   "--stage-codes '0=W,1=N1,2=N2,3=N3,4=R'"),
    "onsets_in_milliseconds": ("onset,duration,stage\n0,30,W\n30000,30,N2\n60000,30,N2\n90000,30,REM\n",
                               "bravo.edf: 3 of the hypnogram's 4 scored epochs lie outside the signal's 120 s (last "
                               "epoch ends at 90030 s): it does not describe this recording (another night's file, "
                               "or times in another unit?)"),
    "another_epoch_length": ("onset,duration,stage\n0,20,W\n20,20,N1\n40,20,N2\n",
                             "bravo.csv: annotation at 0 s lasts 20 s, not a whole number of 30 s epochs"),
}


@pytest.mark.parametrize("case", sorted(EDF_CASES))
def test_bad_csv_hypnogram_is_skipped_with_its_reason_or_stops_a_strict_run(case, tmp_path, capsys):
    rows, reason = EDF_CASES[case]
    root = tmp_path / "site"
    _edf_night(root / "ward", "alpha", "onset,duration,stage\n0,30,W\n30,60,N2\n90,30,REM\n")
    _edf_night(root / "ward", "bravo", rows)
    (tmp_path / "out").mkdir()
    check_skip_then_strict(["--source", "edf", "--root", root, "--sfreq", TARGET, "--eeg", "EEG C3-CLE - EEG A2-CLE",
                            "--ecg", "ECG ECGI", "--epoch-s", "30"], tmp_path / "out" / "cohort.h5", "bravo", reason,
                           ["alpha"], capsys)


def test_a_scoring_of_one_label_per_line_is_never_read_at_a_guessed_step(tmp_path, capsys):
    """A 20-s R&K scoring read at 30 s would put every stage at the wrong time: without --epoch-s it is refused."""
    root = tmp_path / "site"
    _edf_night(root / "ward", "alpha", "onset,duration,stage\n0,30,W\n30,60,N2\n90,30,REM\n")
    _edf_night(root / "ward", "bravo", "W\nN2\nN2\nREM\n")
    (tmp_path / "out").mkdir()
    check_skip_then_strict(["--source", "edf", "--root", root, "--sfreq", TARGET, "--eeg", "EEG C3-CLE - EEG A2-CLE"],
                           tmp_path / "out" / "cohort.h5", "bravo",
                           "bravo.csv: one stage per line, and the seconds between lines are not given: pass --epoch-s "
                           "SECONDS (the step is never guessed)", ["alpha"], capsys)


def test_lines_that_disagree_inside_a_scoring_epoch_are_skipped_naming_the_line(tmp_path, capsys):
    root = tmp_path / "site"
    _edf_night(root / "ward", "alpha", "W\nW\nW\nN2\nN2\nN2\n" * 2)
    _edf_night(root / "ward", "bravo", "W\nW\nW\nN2\nN1\nN2\n" * 2)
    (tmp_path / "out").mkdir()
    check_skip_then_strict(["--source", "edf", "--root", root, "--sfreq", TARGET, "--eeg", "EEG C3-CLE - EEG A2-CLE",
                            "--epoch-s", "10", "--scoring-epoch-s", "30"], tmp_path / "out" / "cohort.h5", "bravo",
                           "bravo.csv: line 5 ('N1') disagrees with line 4 ('N2') inside the 30 s scoring epoch at 30 s",
                           ["alpha"], capsys)


def test_manifest_row_with_a_missing_hypnogram_is_skipped_naming_the_row(tmp_path, capsys):
    root = tmp_path / "site"
    _edf_night(root, "alpha", "W\nN2\nN2\nREM\n")
    _edf_night(root, "bravo", "W\nN2\nN2\nREM\n")
    (root / "pairs.csv").write_text("signal,hypnogram\nalpha.edf,alpha.csv\nbravo.edf,scoring/bravo.csv\n")
    (tmp_path / "out").mkdir()
    check_skip_then_strict(["--source", "edf", "--manifest", root / "pairs.csv", "--sfreq", TARGET,
                            "--eeg", "EEG C3-CLE - EEG A2-CLE", "--epoch-s", "30"], tmp_path / "out" / "cohort.h5",
                           "bravo", f"pairs.csv line 3: hypnogram file {root / 'scoring' / 'bravo.csv'} not found", ["alpha"],
                           capsys)


def test_edf_source_missing_ecg_channel_names_it(tmp_path, capsys):
    root = tmp_path / "site"
    _edf_night(root / "ward", "alpha", "W\nN2\nN2\nREM\n")
    root_b = root / "ward"
    n = int(120 * SFREQ)
    write_edf(root_b / "bravo.edf", night_signals(MASS_EEG, n, SFREQ), SFREQ)
    (root_b / "bravo.csv").write_text("W\nN2\nN2\nREM\n")
    (tmp_path / "out").mkdir()
    check_skip_then_strict(["--source", "edf", "--root", root, "--sfreq", TARGET, "--eeg", "EEG C3-CLE - EEG A2-CLE",
                            "--ecg", "ECG ECGI", "--epoch-s", "30"], tmp_path / "out" / "cohort.h5", "bravo",
                           "bravo.edf: no channel 'ECG ECGI' (channels: EEG C3-CLE, EEG A2-CLE, EDF Annotations)",
                           ["alpha"], capsys)


def test_nothing_usable_exits_2_and_keeps_the_previous_cohort(tmp_path, capsys):
    root = tmp_path / "mass"
    reason = truncated_edf(root / "SS1")
    out = tmp_path / "cohort.h5"
    out.write_bytes(b"an earlier cohort file")
    code, stdout, stderr = run_cli(main, ["--source", "mass", "--root", root, "--out", out, "--sfreq", TARGET,
                                          "--no-progress"], capsys)
    assert code == 2
    assert stderr.splitlines()[-1] == f"error: {root}: no recording could be written (1 skipped; first: {reason})"
    assert out.read_bytes() == b"an earlier cohort file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.h5", "mass"]


# NSRR nights (SHHS layout): EDFs from the project's writer, annotation XML written by the tests.

def _nsrr_missing_annotation(root):
    _, xml = write_nsrr_night(root, "shhs1-200002")
    xml.unlink()
    return "shhs1-200002.edf: no annotation file shhs1-200002-nsrr.xml (expected in polysomnography/annotations-events-nsrr/)"


def _nsrr_malformed(root):
    write_nsrr_night(root, "shhs1-200002", xml="<PSGAnnotation><EpochLength>30</EpochLength><ScoredEvent>\n</PSG>")
    return "shhs1-200002-nsrr.xml: not well-formed XML (mismatched tag at line 2)"


def _nsrr_billion_laughs(root):
    write_nsrr_night(root, "shhs1-200002", xml=BILLION_LAUGHS)
    return ("shhs1-200002-nsrr.xml: refused: the file declares the XML entity 'lol' (entity declarations are refused, "
            "never expanded)")


def _nsrr_no_ecg(root):
    write_nsrr_night(root, "shhs1-200002", channels=("EEG", "EEG(sec)", "EMG"))
    return "shhs1-200002.edf: no ECG channel for cohort shhs (tried 'ECG', 'EKG'; pass --ecg NAME)"


def _nsrr_scored_past_the_end(root):
    events = [stage_event("Wake|0", 0, 30), stage_event("Stage 2 sleep|2", 30, 900)]  # 930 s of scoring, 180 s of signal
    write_nsrr_night(root, "shhs1-200002", events=events)
    return ("shhs1-200002.edf: 25 of the hypnogram's 31 scored epochs lie outside the signal's 180 s (last epoch ends at "
            "930 s): it does not describe this recording (another night's file, or times in another unit?)")


NSRR_CASES = [_nsrr_missing_annotation, _nsrr_malformed, _nsrr_billion_laughs, _nsrr_no_ecg, _nsrr_scored_past_the_end]


@pytest.mark.parametrize("make_bad", NSRR_CASES, ids=lambda f: f.__name__.lstrip("_"))
def test_bad_nsrr_night_is_skipped_with_its_reason_or_stops_a_strict_run(make_bad, tmp_path, capsys):
    root = tmp_path / "shhs"
    write_nsrr_night(root, "shhs1-200001")
    reason = make_bad(root)
    (tmp_path / "out").mkdir()
    check_skip_then_strict(["--source", "nsrr", "--root", root, "--sfreq", TARGET], tmp_path / "out" / "cohort.h5",
                           "shhs1-200002", reason, ["shhs1-200001"], capsys)


def test_a_night_without_a_scored_epoch_is_written_with_a_warning(tmp_path, capsys):
    root = tmp_path / "shhs"
    write_nsrr_night(root, "shhs1-200001")
    write_nsrr_night(root, "shhs1-200002", events=[stage_event("Unscored|9", 0, 180)])
    code, stdout, stderr = run_cli(main, ["--source", "nsrr", "--root", root, "--out", tmp_path / "c.h5",
                                          "--sfreq", TARGET, "--no-progress"], capsys)
    warning = "warning: shhs1-200002: no scored epoch (all 6 unscored or movement)"
    assert code == 0 and stderr == warning + "\n" and warning in stdout.splitlines()
    assert _recordings(tmp_path / "c.h5") == ["shhs1-200001", "shhs1-200002"]


def test_a_cohort_without_any_scored_epoch_is_refused_and_keeps_the_previous_file(tmp_path, capsys):
    root = tmp_path / "shhs"
    write_nsrr_night(root, "shhs1-200001", events=[stage_event("Unscored|9", 0, 90), stage_event("Movement|6", 90, 90)])
    out = tmp_path / "c.h5"
    out.write_bytes(b"an earlier cohort file")
    code, _, stderr = run_cli(main, ["--source", "nsrr", "--root", root, "--out", out, "--sfreq", TARGET,
                                     "--no-progress"], capsys)
    assert code == 2
    assert stderr.splitlines()[-1] == (f"error: {root}: none of the 1 recordings has a scored epoch (all unscored or "
                                       "movement): nothing to train or evaluate on")
    assert out.read_bytes() == b"an earlier cohort file" and sorted(p.name for p in tmp_path.iterdir()) == ["c.h5", "shhs"]


@pytest.mark.parametrize("make_out, reason", [
    (lambda tmp: (tmp / "cohort.h5").mkdir() or tmp / "cohort.h5",
     "{tmp}/cohort.h5: --out is an existing folder; expected a file path such as {tmp}/cohort.h5/cohort.h5"),
    (lambda tmp: (tmp / "notes.txt").write_text("x") and tmp / "notes.txt" / "c.h5",
     "{tmp}/notes.txt: cannot write the cohort file c.h5 there (File exists)"),
])
def test_out_that_cannot_be_written_exits_2_before_reading_any_night(make_out, reason, tmp_path, capsys, monkeypatch):
    from sleep_kd.data.ingest import pipeline

    root = tmp_path / "mass"
    write_mass_night(root / "SS1", GOOD, STAGES, sfreq=SFREQ)
    monkeypatch.setattr(pipeline, "_results", lambda *a, **k: pytest.fail("a night was read"))
    before = snapshot(tmp_path)
    out = make_out(tmp_path)
    made = snapshot(tmp_path)
    code, stdout, stderr = run_cli(main, ["--source", "mass", "--root", root, "--out", out, "--sfreq", TARGET,
                                          "--no-progress"], capsys)
    assert code == 2 and stdout == "" and stderr == "error: " + reason.format(tmp=tmp_path) + "\n"
    assert snapshot(tmp_path) == made and set(made) >= set(before)  # nothing written, no probe left
