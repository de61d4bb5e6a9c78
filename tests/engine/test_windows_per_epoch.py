"""train.windows_per_epoch: a new random subset of the training windows every epoch."""

import json

import pytest

import train_loop
from sleep_kd.engine.data import EpochShuffleSampler
from tests.context.conftest import _context_args


def test_each_epoch_draws_its_own_subset_of_the_asked_size():
    sampler = EpochShuffleSampler(100, seed=3, per_epoch=30)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert len(sampler) == 30 and len(first) == len(set(first)) == 30 and len(second) == 30
    assert first != second and set(first) | set(second) <= set(range(100))
    sampler.set_epoch(0)
    assert list(sampler) == first  # the same (seed, epoch) gives the same subset: a resumed run replays it


def test_a_subset_larger_than_the_data_is_all_of_it():
    assert sorted(EpochShuffleSampler(10, seed=0, per_epoch=50)) == list(range(10))
    assert len(EpochShuffleSampler(10, seed=0)) == 10


@pytest.mark.parametrize("context", [False, True])
def test_a_run_takes_the_steps_of_its_subset(tiny_cohort, tmp_path, train_args, context):
    make = _context_args if context else train_args
    out = tmp_path / "run"
    # 64 windows per epoch at batch 16 (context: 64 // 8 = 8 sequences, 16 // 8 = 2 per batch): 4 steps per epoch.
    args = make(tiny_cohort, tmp_path, "--out", str(out), "--epochs", "2", "--set", "train.windows_per_epoch=64")
    assert train_loop.main(["--strategy", "ecg_base", *args]) == 0
    assert json.loads((out / "last" / "metrics.json").read_text())["step"] == 8
