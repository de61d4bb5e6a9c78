"""The real-time student (``sequence: tcn_causal``): epoch t's logits never read an epoch after t."""

import pytest
import torch

from sleep_kd.models import create_model, is_causal, model_from_config

TINY = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16, sequence_width=8, sequence_layers=2)


def _student(sequence: str = "tcn_causal", *, context_epochs: int = 8, seed: int = 0, **options):
    """A context model whose head is not zero (a new one scores each epoch as its encoder alone)."""
    torch.manual_seed(seed)
    model = create_model("context_small", n_classes=4, context_epochs=context_epochs, sequence=sequence,
                         **{**TINY, **options})
    torch.nn.init.normal_(model.head.weight)
    return model


# The eval-mode checks run in float64. In float32 the same epoch's logits can differ by ~1e-5 between two
# calls on different tensors (the CPU kernels' summation order follows the memory alignment; seen once in
# CI), which a tight tolerance reads as a leak; in float64 that rounding is ~1e-15, far below any leak.
TOLERANCE = dict(rtol=0, atol=1e-10)


def _later_epochs_changed(x: torch.Tensor, t: int) -> torch.Tensor:
    y = x.clone()
    y[:, t + 1:] = torch.randn_like(y[:, t + 1:])
    return y


@pytest.mark.parametrize("seed", [0, 1])
def test_changing_epochs_after_t_never_changes_epoch_t_in_eval_mode(seed):
    model = _student(seed=seed).double().eval()
    assert is_causal(model)
    x = torch.randn(3, 8, 1, 3000, dtype=torch.float64)
    with torch.no_grad():
        base = model(x)
        for t in range(8):
            changed = model(_later_epochs_changed(x, t))
            torch.testing.assert_close(changed[:, :t + 1], base[:, :t + 1], **TOLERANCE)
            if t < 7:  # the change is real: the epoch after t does move
                assert not torch.allclose(changed[:, t + 1], base[:, t + 1], atol=1e-3)


def test_the_sequence_half_reads_no_later_epoch_in_train_mode_with_dropout():
    """In train mode the encoder's BatchNorm normalises with the whole batch's statistics (training
    only; scoring is in eval mode), so train mode is checked on what follows the encoder: the
    causal TCN with dropout, with the same dropout masks (same seed) for both inputs."""
    model = _student(dropout=0.3).train()
    logits, features = torch.randn(2, 8, 4), torch.randn(2, 8, 8)
    torch.manual_seed(5)
    base = model.contextualise(logits, features)
    for t in range(8):
        later = _later_epochs_changed(features, t)
        torch.manual_seed(5)
        changed = model.contextualise(logits, later)
        torch.testing.assert_close(changed[:, :t + 1], base[:, :t + 1], rtol=0, atol=1e-6)
        if t < 7:
            assert not torch.allclose(changed[:, t + 1], base[:, t + 1], atol=1e-3)


def test_the_bidirectional_tcn_does_read_later_epochs():
    """The check above can fail: the default ``tcn`` lets epoch 6 see epoch 7."""
    model = _student("tcn").eval()
    assert not is_causal(model)
    x = torch.randn(1, 8, 1, 3000)
    with torch.no_grad():
        assert not torch.allclose(model(_later_epochs_changed(x, 6))[:, 6], model(x)[:, 6], atol=1e-3)


def test_an_epoch_reaches_forward_over_the_receptive_field_and_no_further():
    """2 layers of kernel 3, dilations 1 and 2: epoch 0 reaches epochs 0..6 (1 + 2 * 3 = 7 epochs)."""
    model = _student(context_epochs=10).double().eval()
    x = torch.randn(1, 10, 1, 3000, dtype=torch.float64)
    y = x.clone()
    y[0, 0] = torch.randn(1, 3000, dtype=torch.float64)
    with torch.no_grad():
        a, b = model(x)[0], model(y)[0]
    assert not torch.allclose(a[6], b[6], atol=1e-4)
    torch.testing.assert_close(a[7:], b[7:], **TOLERANCE)


def test_the_causal_student_has_the_tcn_parameters_and_round_trips_its_config():
    model = _student().eval()
    plain = create_model("context_small", n_classes=4, context_epochs=8, **TINY)
    assert {k: v.shape for k, v in model.state_dict().items()} == {k: v.shape for k, v in plain.state_dict().items()}
    again = model_from_config(model.config).eval()
    again.load_state_dict(model.state_dict())
    assert again.config["sequence"] == "tcn_causal" and is_causal(again)
    x = torch.randn(2, 8, 1, 3000)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
