"""Checkpoints: atomic writes, safetensors only, clear errors for anything else."""

import json
import os
import pickle
from collections import namedtuple

import pytest
import torch

from sleep_kd.engine import checkpoint as ckpt
from sleep_kd.engine.restore import check_compatible, model_from_checkpoint
from sleep_kd.errors import InputError
from sleep_kd.models import create_model

TINY = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16)


def save_tiny(path, n_classes=4, **extra):
    model = create_model("utime_small", n_classes=n_classes, **TINY)
    ckpt.save_checkpoint(path, state_dict=model.state_dict(), config={"model": model.config, **extra},
                         metrics={"kappa": 0.5})
    return model


def test_round_trip_rebuilds_the_same_model(tmp_path):
    model = save_tiny(tmp_path / "best").eval()
    loaded, record = model_from_checkpoint(tmp_path / "best")
    x = torch.randn(3, 1, 3000)
    assert torch.equal(model(x), loaded(x))
    assert record.metrics == {"kappa": 0.5}
    assert sorted(os.listdir(tmp_path / "best")) == ["config.json", "metrics.json", "model.safetensors"]


def test_a_new_save_replaces_the_old_only_when_complete(tmp_path, monkeypatch):
    save_tiny(tmp_path / "best")
    before = (tmp_path / "best" / "model.safetensors").read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk died mid-write")

    monkeypatch.setattr(ckpt, "_write_json", crash)
    with pytest.raises(OSError):
        save_tiny(tmp_path / "best")
    assert (tmp_path / "best" / "model.safetensors").read_bytes() == before


def test_crash_between_renames_is_recovered(tmp_path):
    save_tiny(tmp_path / "best")
    os.replace(tmp_path / "best", tmp_path / ".best.old-123")
    model, _ = model_from_checkpoint(tmp_path / "best")
    assert (tmp_path / "best" / "model.safetensors").is_file()


def test_not_enough_disk_space_fails_before_writing(tmp_path, monkeypatch):
    save_tiny(tmp_path / "best")
    before = (tmp_path / "best" / "model.safetensors").read_bytes()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(ckpt.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))
    with pytest.raises(InputError, match="not enough free disk space .* to write checkpoint best"):
        save_tiny(tmp_path / "best")
    assert (tmp_path / "best" / "model.safetensors").read_bytes() == before


class Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_planted_pickle_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(pickle.dumps(Boom()))
    (folder / "config.json").write_text(json.dumps({"model": {}}))
    with pytest.raises(InputError, match=r"checkpoint .*model.safetensors is not a valid safetensors file"):
        model_from_checkpoint(folder)
    assert not (tmp_path / "PWNED").exists()


def test_missing_files_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has no model.safetensors"):
        ckpt.read_checkpoint(tmp_path / "empty")
    with pytest.raises(InputError, match="does not exist"):
        ckpt.read_checkpoint(tmp_path / "nowhere")


def test_weights_of_the_wrong_shape_are_refused(tmp_path):
    model = create_model("utime_small", n_classes=4, **TINY)
    state = model.state_dict()
    config = dict(model.config, filters=[4, 12])
    ckpt.save_checkpoint(tmp_path / "c", state_dict=state, config={"model": config}, metrics={})
    with pytest.raises(InputError, match="does not fit the model"):
        model_from_checkpoint(tmp_path / "c")


def test_teacher_with_another_class_count_is_refused(tmp_path):
    save_tiny(tmp_path / "t3", n_classes=3)
    record = ckpt.read_checkpoint(tmp_path / "t3")
    with pytest.raises(InputError, match=r"teacher checkpoint .* predicts 3 classes, this run has 4"):
        check_compatible(record, role="teacher", n_classes=4)
    other = create_model("utime_small", n_classes=3).config
    with pytest.raises(InputError, match=r"is a different model: bottleneck_filters is 16 there, 128 here"):
        check_compatible(record, role="teacher", n_classes=3, model_config=other)
