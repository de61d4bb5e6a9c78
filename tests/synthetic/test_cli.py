"""The command line: help, a small run, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sleep_kd.data.synthetic.__main__ import main


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for option in ("--out", "--subjects", "--hours", "--seed", "--sfreq", "--workers"):
        assert option in out


def test_small_run_writes_the_cohort(tmp_path, capsys):
    code = main(["--out", str(tmp_path), "--subjects", "2", "--hours", "0.1", "--seed", "3",
                 "--sfreq", "128", "--workers", "2"])
    assert code == 0
    meta = json.loads((tmp_path / "cohort.json").read_text())
    assert [r["id"] for r in meta["recordings"]] == ["01-01-0001", "01-02-0001"]
    assert meta["sfreq"] == 128.0 and "wrote 2 nights" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--subjects", "0", "--hours", "1"], "error: subjects: expected a whole number >= 1, got 0"),
    (["--subjects", "2", "--hours", "0"],
     "error: hours: expected a night between 0.083 and 24 hours, got 0.0"),
    (["--subjects", "2", "--hours", "1", "--sfreq", "99.5"],
     "error: sfreq: expected a whole number of Hz in 100..2048, got 99.5"),
])
def test_bad_option_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    assert main(["--out", str(tmp_path), *args]) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "cohort.json").exists()


def test_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["--out", str(target), "--subjects", "1", "--hours", "1"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {target}: expected a folder for the cohort, found a file"


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    run = subprocess.run([sys.executable, "-m", "sleep_kd.data.synthetic", "--out", str(tmp_path),
                          "--subjects", "0", "--hours", "1"], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["error: subjects: expected a whole number >= 1, got 0"]
