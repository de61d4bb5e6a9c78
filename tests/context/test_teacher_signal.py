"""sleep-kd study teacher_signal on known inputs (its run over a study folder: tests/context/test_kd_study.py)."""

import numpy as np
import pytest

from sleep_kd.studies import teacher_signal


def test_calibration_error_of_a_known_overconfident_model():
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]])
    # Bin 0.9: accuracy 1/2 at confidence 0.9; bin 0.8: accuracy 1 at confidence 0.8.
    assert teacher_signal.expected_calibration_error(p, np.array([0, 1, 1, 1])) == pytest.approx(
        0.5 * 0.4 + 0.5 * 0.2)
    assert teacher_signal.expected_calibration_error(np.array([[1.0, 0.0]]), np.array([0])) == 0.0


def test_softening_equals_a_softmax_of_logits_over_t():
    logits = np.array([[2.0, 0.5, -1.0, 0.0]])
    p = np.exp(logits) / np.exp(logits).sum()
    expected = np.exp(logits / 4) / np.exp(logits / 4).sum()
    assert np.allclose(teacher_signal.softened(p, 4.0), expected)
    assert np.allclose(teacher_signal.softened(p, 1.0), p)


def test_entropy_is_zero_for_one_hot_and_one_for_uniform():
    assert teacher_signal.normalised_entropy(np.full((3, 4), 0.25)) == pytest.approx(1.0)
    assert teacher_signal.normalised_entropy(np.eye(4)) == pytest.approx(0.0, abs=1e-12)


def test_a_folder_without_a_study_is_refused(tmp_path, capsys):
    assert teacher_signal.main([str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: no fold*/context20/eeg_base/best (a kd_study runs folder?)\n"
