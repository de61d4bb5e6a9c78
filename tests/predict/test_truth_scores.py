"""Scoring against the synthetic cohort's true stages: one reader, one check, one score (sleep_kd.evaluation.truth)."""

import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from sleep_kd.data import cohort_file as store
from sleep_kd.data.stages import to_classes
from sleep_kd.data.synthetic.truth import read_truth
from sleep_kd.errors import InputError
from sleep_kd.data.synthetic.truth import read_true_classes
from sleep_kd.evaluation.truth import scores_against_truth, true_classes_of, truth_beside


@pytest.fixture(scope="module")
def night(tiny_cohort):
    """(truth folder, first recording id, its scored stage codes): the generator writes truth/ beside its EDFs."""
    with store.open_cohort(tiny_cohort) as handle:
        rid = store.recording_ids(handle)[0]
        return tiny_cohort.parent / "edf" / "truth", rid, store.read_epochs(handle, rid).stage


def test_true_classes_are_the_truth_files_true_stages(night):
    truth_dir, rid, scored = night
    classes = read_true_classes(truth_dir, rid, scored_stage=scored, n_classes=4)
    np.testing.assert_array_equal(classes, to_classes(read_truth(truth_dir / f"{rid}.csv").true, 4))
    assert classes.dtype == np.int64 and classes.size == scored.size


def test_predictions_equal_to_the_truth_score_kappa_one(night, tiny_cohort):
    truth_dir, rid, scored = night
    epochs = np.arange(scored.size)
    true = true_classes_of(tiny_cohort, truth_dir, [rid] * scored.size, epochs, n_classes=4)
    kept = true >= 0
    predictions = SimpleNamespace(recording=np.zeros(kept.sum(), np.int64), epoch=epochs[kept], y_pred=true[kept])
    dataset = SimpleNamespace(path=tiny_cohort, recordings=[rid], n_classes=4)
    assert scores_against_truth(predictions, dataset, truth_dir)["kappa"] == pytest.approx(1.0)
    predictions.y_pred = (true[kept] + 1) % 4  # every epoch wrong
    assert scores_against_truth(predictions, dataset, truth_dir)["accuracy"] == 0.0


def test_a_missing_short_or_foreign_truth_file_is_refused_naming_it(night, tmp_path):
    truth_dir, rid, scored = night
    with pytest.raises(InputError, match=f"^{tmp_path}: no truth file for recording '{rid}' \\(pass --truth DIR\\)$"):
        read_true_classes(tmp_path, rid, scored_stage=scored, n_classes=4)
    lines = (truth_dir / f"{rid}.csv").read_text().splitlines()
    (tmp_path / f"{rid}.csv").write_text("\n".join(lines[:-1]) + "\n")  # one epoch short
    with pytest.raises(InputError) as error:
        read_true_classes(tmp_path, rid, scored_stage=scored, n_classes=4)
    assert str(error.value) == (f"{tmp_path / f'{rid}.csv'}: {scored.size - 1} truth epochs, expected "
                                f"{scored.size} as in the cohort file")
    shutil.copy(truth_dir / f"{rid}.csv", tmp_path / f"{rid}.csv")
    with pytest.raises(InputError) as error:
        read_true_classes(tmp_path, rid, scored_stage=np.roll(scored, 7), n_classes=4)
    assert str(error.value) == (f"{tmp_path / f'{rid}.csv'}: scored stages differ from the cohort file's "
                                "(not this cohort's truth?)")


def test_the_truth_folder_is_found_beside_a_cohort_only_where_it_is(tiny_cohort, tmp_path):
    assert truth_beside(tiny_cohort) is None  # the generator's truth/ is beside its EDFs, not the ingested file
    assert truth_beside(tiny_cohort.parent / "edf" / "any.h5") == tiny_cohort.parent / "edf" / "truth"
