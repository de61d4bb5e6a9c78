"""Tiny trained checkpoints (ECG and EEG) and fresh synthetic nights that ingest never saw."""

from pathlib import Path

import pytest

from tests.engine.conftest import _train_args, tiny_cohort  # noqa: F401  (the engine tests' tiny cohort)

TINY_CONTEXT = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16, sequence_width=8, sequence_layers=2)


def tiny_context_model(sequence: str, *, context_epochs: int = 6):
    """A small ``context_small`` in eval mode with a random head (a new model's head is zero: no context at all)."""
    import torch

    from sleep_kd.models import create_model

    torch.manual_seed(0)
    model = create_model("context_small", n_classes=4, context_epochs=context_epochs, sequence=sequence,
                         **TINY_CONTEXT)
    torch.nn.init.normal_(model.head.weight)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_runs(tiny_cohort, tmp_path_factory) -> Path:  # noqa: F811
    """ecg_base and eeg_base trained for 6 steps on the tiny cohort: ``<runs>/<strategy>/best``."""
    import train_loop

    runs = tmp_path_factory.mktemp("predict-runs")
    for strategy in ("ecg_base", "eeg_base"):
        assert train_loop.main(["--strategy", strategy, *_train_args(tiny_cohort, runs, "--max-steps", "6")]) == 0
    return runs / "tiny" / "4class"


@pytest.fixture(scope="session")
def ecg_checkpoint(tiny_runs) -> Path:
    return tiny_runs / "ecg_base" / "best"


@pytest.fixture(scope="session")
def eeg_checkpoint(tiny_runs) -> Path:
    return tiny_runs / "eeg_base" / "best"


@pytest.fixture(scope="session")
def context_checkpoint(tiny_cohort, tmp_path_factory) -> Path:  # noqa: F811
    """ecg_base, context_small (T = 8, bidirectional TCN) trained for 4 steps: ``.../ecg_base/best``."""
    import train_loop
    from sleep_kd.engine.restore import model_from_checkpoint
    from tests.context.conftest import _context_args

    runs = tmp_path_factory.mktemp("context-runs")
    assert train_loop.main(["--strategy", "ecg_base", *_context_args(tiny_cohort, runs, "--max-steps", "4")]) == 0
    checkpoint = runs / "tiny" / "4class" / "ecg_base" / "best"
    model, _ = model_from_checkpoint(checkpoint)
    assert model.context_epochs == 8 and not model.causal
    assert model.head.weight.abs().max() > 1e-3  # trained: the neighbours move the logits, so the rule matters
    return checkpoint


@pytest.fixture(scope="session")
def new_nights(tmp_path_factory) -> Path:
    """Two synthetic MASS-like nights (15 min each, seed 99: not the tiny cohort's) with their Base.edf."""
    from sleep_kd.data.synthetic import generate_cohort

    root = tmp_path_factory.mktemp("new-nights")
    generate_cohort(root, n_subjects=2, hours=0.25, seed=99, sfreq=128.0)
    return root
