"""The studies find a fold's cohort through its teacher's typed preparation, or say in one line why not."""

import json

import pytest

from sleep_kd.errors import InputError
from sleep_kd.studies.common import teacher_cohort

DATA = {"n_classes": 4, "sfreq": 100.0, "window_s": 30.0, "normalization": "minmax", "modality": "eeg"}


def _fold(tmp_path, record) -> tuple:
    best = tmp_path / "fold0" / "eeg_base" / "best"
    best.mkdir(parents=True)
    (best / "config.json").write_text(record if isinstance(record, str) else json.dumps(record))
    return tmp_path / "fold0", best / "config.json"


def test_the_cohort_is_the_teachers_recorded_path(tmp_path):
    fold, _ = _fold(tmp_path, {"data": {**DATA, "path": "/data/cohort.h5"}})
    assert str(teacher_cohort(fold)) == "/data/cohort.h5"


@pytest.mark.parametrize("record, message", [
    ({"data": DATA}, "{path}: the checkpoint does not record its cohort (data.path)"),
    ("{not json", "{path}: not a checkpoint record (JSONDecodeError: "),
    ({"data": {**DATA, "sfreq": "fast", "path": "c.h5"}}, "checkpoint {best}: config.json has data.sfreq 'fast'; expected a positive number"),
])
def test_a_record_without_a_usable_cohort_is_one_line(tmp_path, record, message):
    fold, path = _fold(tmp_path, record)
    with pytest.raises(InputError) as error:
        teacher_cohort(fold)
    assert str(error.value).startswith(message.format(path=path, best=path.parent))
    assert "\n" not in str(error.value)
