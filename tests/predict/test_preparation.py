"""A checkpoint's data preparation is read once into a typed, frozen record; a bad key is one line."""

import dataclasses
import json
import shutil

import pytest

from sleep_kd.data.preparation import Lead, read_preparation
from sleep_kd.errors import InputError
from sleep_kd.predict.__main__ import main as predict_main

WHERE = "runs/x/best"
DATA = {"n_classes": 4, "sfreq": 100.0, "window_s": 30.0, "normalization": "minmax"}


def _read(data, **model):
    return read_preparation({"model": model, "data": data}, checkpoint=WHERE)


def test_a_train_loop_checkpoint_reads_into_the_record(ecg_checkpoint):
    config = json.loads((ecg_checkpoint / "config.json").read_text())
    prep = read_preparation(config, checkpoint=ecg_checkpoint)
    assert (prep.modality, prep.sfreq, prep.window_s, prep.normalization) == ("ecg", 100.0, 30.0, "minmax")
    assert prep.class_names == ("W", "Light", "Deep", "REM") and prep.n_classes == 4 and prep.context_epochs == 0
    assert prep.path == config["data"]["path"]
    assert set(prep.splits) == {"train", "val", "test"}
    assert prep.splits["test"] == tuple(config["data"]["splits"]["test"])
    assert dict(prep.split_content_ids) == config["data"]["split_content_ids"]
    assert all(isinstance(lead, Lead) for lead in prep.leads)
    with pytest.raises(dataclasses.FrozenInstanceError):
        prep.modality = "eeg"


def test_a_checkpoint_from_before_the_optional_keys_gets_their_documented_meaning():
    prep = _read(DATA, context_epochs=20)
    assert prep.modality == "ecg" and prep.class_names == ("W", "Light", "Deep", "REM")
    assert prep.context_epochs == 20  # the model's own
    assert prep.leads == () and prep.splits is None and prep.path is None
    assert (prep.split, prep.split_seed, prep.folds, prep.fold) == ("pooled", 42, 5, 0)


@pytest.mark.parametrize("missing", ["n_classes", "sfreq", "window_s", "normalization"])
def test_a_missing_required_key_is_named(missing):
    data = {key: value for key, value in DATA.items() if key != missing}
    with pytest.raises(InputError) as error:
        _read(data)
    assert str(error.value) == (f"checkpoint {WHERE}: config.json has no data.{missing} "
                                "(expected a checkpoint written by train_loop.py)")


@pytest.mark.parametrize("key, value, expected", [
    ("modality", "emg", "one of eeg, ecg"),
    ("sfreq", "fast", "a positive number"),
    ("window_s", 0, "a positive number"),
    ("normalization", "l2", "one of minmax, zscore, none"),
    ("n_classes", 4.0, "an integer >= 1"),
    ("context_epochs", -1, "an integer >= 0"),
    ("class_names", ["W", "REM"], "4 names (data.n_classes)"),
    ("path", 7, "a string"),
])
def test_a_bad_value_is_refused_in_one_line_naming_the_key(key, value, expected):
    with pytest.raises(InputError) as error:
        _read({**DATA, key: value})
    assert str(error.value) == f"checkpoint {WHERE}: config.json has data.{key} {value!r}; expected {expected}"


def test_a_bad_lead_record_is_refused():
    with pytest.raises(InputError) as error:
        _read({**DATA, "leads": [{"lead": "ECG I", "inverted": "yes"}]})
    assert str(error.value) == (f"checkpoint {WHERE}/config.json: data.leads holds {{'lead': 'ECG I', 'inverted': "
                                "'yes'}; expected {'lead': NAME, 'inverted': true or false, ...}")


def test_predict_refuses_a_checkpoint_with_a_bad_modality_in_one_line(ecg_checkpoint, new_nights, tmp_path, capsys):
    folder = shutil.copytree(ecg_checkpoint, tmp_path / "best")
    record = json.loads((folder / "config.json").read_text())
    record["data"]["modality"] = "emg"
    (folder / "config.json").write_text(json.dumps(record))
    code = predict_main([str(folder), str(new_nights / "SS1" / "01-01-0001 PSG.edf"), "--out", str(tmp_path / "out"),
                         "--no-progress", "--cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"error: checkpoint {folder}: config.json has data.modality 'emg'; expected one of eeg, ecg\n"
