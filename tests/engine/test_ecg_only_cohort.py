"""An ECG-only cohort (Holter nights with expert stages): ECG students train and score; a strategy
that needs the EEG is refused naming the modality and the cohort, before anything is trained."""

import json

import pytest

import evaluate
import train_loop
from sleep_kd.data.cohort_file import cohort_modalities
from tests.reliability.conftest import run_cli


@pytest.fixture(scope="module")
def ecg_only_cohort(tmp_path_factory):
    """Six synthetic nights ingested through a manifest with --ecg only."""
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    root = tmp_path_factory.mktemp("ecg-only")
    generate_cohort(root / "edf", n_subjects=16, hours=0.25, seed=3, sfreq=128.0)
    recordings = json.loads((root / "edf" / "cohort.json").read_text())["recordings"]
    # The edf source reads scorings in 30-s epochs (--scoring-epoch-s): the R&K nights' 20-s ones are left out.
    rows = [f"edf/{r['psg']},edf/{r['base']},{r['id']}," for r in recordings
            if "ECG ECGI" in r["channels"] and r["epoch_s"] == 30]
    manifest = root / "manifest.csv"
    manifest.write_text("signal,hypnogram,subject,subset\n" + "\n".join(rows) + "\n")
    out = root / "ecg.h5"
    ingest("edf", None, out, sfreq=100.0, progress=False, manifest=manifest, ecg="ECG ECGI")
    assert cohort_modalities(out) == ("ecg",)
    return out


def test_ecg_base_trains_and_evaluates_on_an_ecg_only_cohort(ecg_only_cohort, tmp_path, train_args):
    assert train_loop.main(["--strategy", "ecg_base", *train_args(ecg_only_cohort, tmp_path, "--max-steps", "2")]) == 0
    report = tmp_path / "report.json"
    best = tmp_path / "ecg" / "4class" / "ecg_base" / "best"
    assert evaluate.main([str(best), "--split", "all", "--json", str(report), "--cpu"]) == 0
    assert json.loads(report.read_text())["n_epochs"] > 0


@pytest.mark.parametrize("strategy", ["kd_temp", "eeg_base", "feat_temp"])
def test_a_strategy_needing_eeg_is_refused_before_anything_is_trained(strategy, ecg_only_cohort, tmp_path,
                                                                        train_args, capsys):
    code, out, err = run_cli(train_loop.main, ["--strategy", strategy, *train_args(ecg_only_cohort, tmp_path)],
                             capsys)
    assert code == 2
    assert err == (f"error: {ecg_only_cohort}: strategy {strategy} needs EEG, but the cohort holds only ECG "
                   "(ingest it with --eeg and --ecg to store both)\n")
    assert "training" not in out and not (tmp_path / "ecg").exists()
