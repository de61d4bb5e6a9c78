"""Nothing a user made is overwritten by sleep_kd.predict, and nothing an earlier run wrote is lost."""

import csv
import shutil

import pytest

from sleep_kd.predict.__main__ import main
from tests.reliability.conftest import snapshot


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def nights_folder(new_nights, tmp_path):
    """A folder holding a night ``x.edf`` and its scorer's hypnogram ``x.hypnogram.edf``."""
    folder = tmp_path / "nights"
    folder.mkdir()
    shutil.copy(new_nights / "SS1" / "01-01-0001 PSG.edf", folder / "x.edf")
    shutil.copy(new_nights / "SS1" / "01-01-0001 Base.edf", folder / "x.hypnogram.edf")
    return folder


def test_out_into_the_nights_folder_is_refused_before_the_scoring_is_replaced(ecg_checkpoint, nights_folder, capsys):
    """P17: the scorer's x.hypnogram.edf used to be replaced by the prediction, exit 0."""
    before = snapshot(nights_folder)
    night, scoring = nights_folder / "x.edf", nights_folder / "x.hypnogram.edf"
    assert main([str(ecg_checkpoint), str(night), "--hypnogram", str(scoring), "--out", str(nights_folder),
                 "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"error: --out {nights_folder}: x.hypnogram.edf would overwrite the "
                                       "--hypnogram file x.hypnogram.edf, an input of this run; choose another --out\n")
    assert snapshot(nights_folder) == before


def test_a_scoring_paired_from_a_folder_is_an_input_too(ecg_checkpoint, nights_folder, capsys):
    """P18: the same with --hypnogram naming the folder the scoring is paired from."""
    before = snapshot(nights_folder)
    assert main([str(ecg_checkpoint), str(nights_folder / "x.edf"), "--hypnogram", str(nights_folder),
                 "--out", str(nights_folder), "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"error: --out {nights_folder}: x.hypnogram.edf would overwrite the scoring "
                                       "x.hypnogram.edf of x.edf, an input of this run; choose another --out\n")
    assert snapshot(nights_folder) == before


def test_a_night_is_never_an_output_of_another(ecg_checkpoint, nights_folder, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(nights_folder / "x.edf", out / "a.edf")
    shutil.copy(nights_folder / "x.edf", out / "a.hypnogram.edf")  # a.edf's EDF hypnogram would replace it
    before = snapshot(out)
    assert main([str(ecg_checkpoint), str(out / "a.edf"), str(out / "a.hypnogram.edf"), "--out", str(out),
                 "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"error: --out {out}: a.hypnogram.edf would overwrite the night "
                                       "a.hypnogram.edf, an input of this run; choose another --out\n")
    assert snapshot(out) == before


@pytest.mark.parametrize("name, text", [
    ("x.hypnogram.csv", "onset,duration,stage\n0,30,W\n"),
    ("summary.csv", "subject,kappa\nanna,0.7\n"),
])
def test_a_file_predict_did_not_write_is_never_replaced(ecg_checkpoint, nights_folder, tmp_path, capsys, name, text):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text(text)
    assert main([str(ecg_checkpoint), str(nights_folder / "x.edf"), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out / name}: exists and was not written by sleep_kd.predict")
    assert err.endswith("it is never replaced: move it or choose another --out\n")
    assert [p.name for p in out.iterdir()] == [name] and (out / name).read_text() == text


def test_a_scorers_edf_hypnogram_under_the_output_name_is_never_replaced(ecg_checkpoint, nights_folder, tmp_path,
                                                                        capsys):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(nights_folder / "x.hypnogram.edf", out / "x.hypnogram.edf")  # not an input of this run
    before = snapshot(out)
    assert main([str(ecg_checkpoint), str(nights_folder / "x.edf"), "--out", str(out), "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"error: {out / 'x.hypnogram.edf'}: exists and was not written by "
                                       "sleep_kd.predict (a scorer's hypnogram?); it is never replaced: move it or "
                                       "choose another --out\n")
    assert snapshot(out) == before


def test_later_runs_into_one_folder_keep_the_earlier_rows_and_replace_a_night_staged_again(
        ecg_checkpoint, new_nights, tmp_path):
    one, two = new_nights / "SS1" / "01-01-0001 PSG.edf", new_nights / "SS2" / "01-02-0001 PSG.edf"
    out = tmp_path / "out"
    assert main([str(ecg_checkpoint), str(one), "--out", str(out), "--no-progress"]) == 0
    first = _rows(out / "summary.csv")
    assert main([str(ecg_checkpoint), str(two), "--out", str(out), "--no-progress"]) == 0
    rows = _rows(out / "summary.csv")
    assert [r["night"] for r in rows] == ["01-01-0001 PSG", "01-02-0001 PSG"] and rows[0] == first[0]
    # A night staged again (its own outputs, which predict wrote, are replaced) gets its new row.
    assert main([str(ecg_checkpoint), str(one), "--out", str(out), "--end", "600", "--no-progress"]) == 0
    rows = _rows(out / "summary.csv")
    assert [r["night"] for r in rows] == ["01-02-0001 PSG", "01-01-0001 PSG"]
    assert float(rows[1]["TIB_min"]) == 10.0 and float(first[0]["TIB_min"]) > 10.0
    assert len(_rows(out / "01-01-0001 PSG.hypnogram.csv")) == 20
