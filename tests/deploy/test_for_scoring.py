"""for_scoring: a frozen scoring copy whose logits equal the plain eval forward's to float rounding."""

import pytest
import torch

from sleep_kd.fast import ScoringUTime, for_scoring, register_scoring
from sleep_kd.fast.phases import CHANNELS_LAST
from sleep_kd.fast.scoring.layers import edge_corrections
from sleep_kd.errors import InputError
from sleep_kd.models import UTime, create_model

TINY = dict(sfreq=10.0, window_s=12.0, filters=[4, 6], pool_sizes=[4, 3], bottleneck_filters=8)
ARCHITECTURES = [
    ("utime_small", {}),
    ("utime_seed", {"window_s": 4.8}),
    ("utime_small", TINY),
    ("utime_small", dict(TINY, kernel_size=7, encoder_dilation=3, decoder_dilation=2)),
    ("utime_small", dict(TINY, kernel_size=3, encoder_dilation=1, bottleneck_dilation=2)),
    ("utime_small", dict(TINY, window_s=12.6, pool_sizes=[7, 3])),  # 126 samples: a first convolution in 2 phases
    ("utime_small", dict(TINY, window_s=12.3, pool_sizes=[41, 3])),  # 123: no phases, a length-1 level
    ("utime_small", dict(TINY, in_channels=2)),  # two signals in: no phases
]


def _trained_looking(name: str, *, negative: bool = True, **overrides):
    """A model whose BatchNorms have non-trivial running statistics (some weights < 0 if ``negative``)."""
    torch.manual_seed(3)
    model = create_model(name, n_classes=4, **overrides)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(-0.5 if negative else 0.2, 2.0)
            module.bias.data.uniform_(-1, 1)
    return model.eval()


@pytest.mark.parametrize("name, overrides", ARCHITECTURES)
@pytest.mark.parametrize("negative", [True, False])
def test_scoring_logits_equal_the_plain_forward(name, overrides, negative):
    """In float64, so that only a different computation (not float32 rounding) could fail it."""
    model = _trained_looking(name, negative=negative, **overrides).double()
    x = torch.randn(3, model.in_channels, model.n_times, dtype=torch.float64)
    scoring = for_scoring(model)
    with torch.no_grad():
        got, expected = scoring(x), model(x)
    assert got.shape == (3, 4) and got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    applied = [stage.apply_map is not None for stage in scoring.encoder]
    assert any(applied) == negative  # a negative BatchNorm weight is applied before pooling


@pytest.mark.parametrize("name", ["utime_small", "utime_seed"])
def test_every_preset_in_float32_scores_like_the_plain_forward(name):
    model = _trained_looking(name)
    x = torch.randn(2, 1, model.n_times)
    with torch.no_grad():
        torch.testing.assert_close(for_scoring(model)(x), model(x), rtol=1e-5, atol=1e-5)


def test_edge_corrections_remove_the_shift_where_taps_read_padding():
    weight = torch.ones(1, 1, 3)
    left, right = edge_corrections(weight, torch.tensor([2.0]), dilation=1, padding=1, length=5)
    torch.testing.assert_close(left, torch.tensor([[2.0]]))  # sample 0: tap 0 reads sample -1
    torch.testing.assert_close(right, torch.tensor([[2.0]]))  # sample 4: tap 2 reads sample 5
    weight = torch.arange(1.0, 6.0).view(1, 1, 5)  # taps 1..5, dilation 2: padding 4
    left, right = edge_corrections(weight, torch.tensor([1.0]), dilation=2, padding=4, length=6)
    # Sample t reads t-4, t-2, t, t+2, t+4 of 6: samples 0-1 miss taps 1 and 2, samples 2-3 miss
    # taps 1 and 5 (one read on each side), samples 4-5 miss taps 4 and 5.
    torch.testing.assert_close(left, torch.tensor([[3.0, 3.0, 6.0, 6.0]]))
    torch.testing.assert_close(right, torch.tensor([[9.0, 9.0]]))


def test_the_copy_is_frozen_and_leaves_the_source_alone():
    model = _trained_looking("utime_small", **TINY).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scoring = for_scoring(model)
    assert model.training  # the source keeps its mode
    assert isinstance(scoring, ScoringUTime) and not scoring.training
    assert list(scoring.parameters()) == []
    with pytest.raises(RuntimeError, match="a scoring module is eval-only"):
        scoring.train()
    x = torch.randn(2, 1, model.n_times)
    with torch.no_grad():
        first = scoring(x)
        for p in model.parameters():
            p.add_(1.0)  # a snapshot: later changes to the source do not reach the copy
        assert torch.equal(scoring(x), first)
    model.load_state_dict(before)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert scoring.config == model.config and scoring.n_times == model.n_times


def test_input_gradients_match_and_no_gradient_reaches_the_source():
    model = _trained_looking("utime_small", **TINY)
    x = torch.randn(2, 1, model.n_times, requires_grad=True)
    model(x)[:, 2].sum().backward()
    expected, x.grad = x.grad.clone(), None
    model.zero_grad(set_to_none=True)
    for_scoring(model)(x)[:, 2].sum().backward()
    torch.testing.assert_close(x.grad, expected, rtol=1e-4, atol=1e-6)
    assert all(p.grad is None for p in model.parameters())


def test_inner_feature_maps_are_channels_last():
    scoring = for_scoring(_trained_looking("utime_small"))
    seen = []
    for stage in (scoring.encoder[0].blocks, scoring.decoder[-1].rest):
        stage.register_forward_hook(lambda module, args, out: seen.append(out))
    with torch.no_grad():
        scoring(torch.randn(2, 1, scoring.n_times))
    assert [tuple(t.shape) for t in seen] == [(2, 8, 1, 3000), (2, 8, 1, 3000)]
    assert all(t.is_contiguous(memory_format=CHANNELS_LAST) and t.stride(1) == 1 for t in seen)


def test_bf16_scoring_agrees_with_float32():
    model = _trained_looking("utime_small", negative=False)
    x = torch.rand(4, 1, model.n_times)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = for_scoring(model)(x)
    assert logits.dtype == torch.bfloat16
    with torch.no_grad():
        torch.testing.assert_close(logits.float(), model(x), rtol=0.05, atol=0.05)


def test_wrong_input_shape_is_refused_like_the_model():
    scoring = for_scoring(create_model("utime_small", n_classes=4, **TINY))
    with pytest.raises(InputError, match=r"\(channels, samples\) = \(1, 120\), got shape \(2, 1, 121\)"):
        scoring(torch.randn(2, 1, 121))


def test_a_network_without_a_scoring_form_is_named():
    with pytest.raises(TypeError, match="no scoring form for Linear; registered: ContextNet, UTime"):
        for_scoring(torch.nn.Linear(2, 2))


def test_a_wrapper_registers_a_converter_that_converts_its_utime():
    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = create_model("utime_small", n_classes=4, **TINY)

        def forward(self, x):
            return self.encoder(x).softmax(1)

    class ScoringWrapper(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.encoder = for_scoring(net.encoder)

        def forward(self, x):
            return self.encoder(x).softmax(1)

    register_scoring(Wrapper)(ScoringWrapper)
    net = Wrapper().eval()
    x = torch.randn(2, 1, 120)
    with torch.no_grad():
        torch.testing.assert_close(for_scoring(net)(x), net(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="already registered"):
        register_scoring(UTime)(ScoringUTime)


def test_a_causal_context_model_scores_like_the_plain_one_and_stays_causal():
    """``sequence: tcn_causal``: the scoring copy gives the plain eval logits, whole sequences and live."""
    from sleep_kd.evaluation.live import live_logits
    from sleep_kd.models import is_causal

    model = _trained_looking("context_small", context_epochs=5, sequence="tcn_causal", filters=[4, 8],
                             pool_sizes=[10, 6], bottleneck_filters=16, sequence_width=8, sequence_layers=2)
    torch.nn.init.normal_(model.head.weight)  # a new head is zero: the sequence model would not count
    scoring = for_scoring(model)
    assert is_causal(scoring) and not scoring.training
    assert all(not p.requires_grad for p in scoring.parameters())
    x = torch.randn(2, 5, 1, model.n_times)
    with torch.no_grad():
        torch.testing.assert_close(scoring(x), model(x), rtol=1e-5, atol=1e-6)
    night = torch.randn(9, 1, model.n_times)
    torch.testing.assert_close(live_logits(scoring, night), live_logits(model, night), rtol=1e-5, atol=1e-6)
