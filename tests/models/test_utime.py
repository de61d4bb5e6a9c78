"""The U-Time network: the seed's architecture, shapes, taps, config round trip, refusals."""

from __future__ import annotations

import json
import math

import pytest
import torch

from sleep_kd.errors import InputError
from sleep_kd.models import TAP_GROUPS, UTime, create_model, list_models, model_from_config

TINY = dict(sfreq=10.0, window_s=8.0, filters=[4, 8], pool_sizes=[2, 2], bottleneck_filters=8)


def n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("n_classes", "expected"), [(3, 4_813_215), (4, 4_813_240)])
def test_utime_seed_has_the_seed_parameter_count(n_classes, expected):
    assert n_parameters(create_model("utime_seed", n_classes=n_classes)) == expected


def test_utime_seed_shapes_match_the_seed():
    model = create_model("utime_seed", n_classes=4).eval()
    assert (model.n_times, model.sfreq) == (6000, 200.0)
    with torch.no_grad():
        logits, taps = model(torch.randn(2, 1, 6000), return_taps=True)
    shapes = {group: [tuple(t.shape) for t in taps[group]] for group in TAP_GROUPS}
    assert logits.shape == (2, 4)
    assert shapes == {
        "encoder": [(2, 16, 2000), (2, 32, 1000), (2, 64, 500), (2, 128, 250), (2, 256, 125)],
        "bottleneck": [(2, 512, 125)],
        "decoder": [(2, 256, 250), (2, 128, 500), (2, 64, 1000), (2, 32, 2000), (2, 16, 6000)],
        "final": [(2, 16, 6000)],
        "head": [(2, 4, 6000)],
    }


def test_utime_seed_block_order_is_conv_relu_batchnorm():
    block = create_model("utime_seed", n_classes=3).encoder[0].blocks[0]
    kinds = (torch.nn.Conv1d, torch.nn.ReLU, torch.nn.BatchNorm1d)
    children = list(block.children())
    assert len(children) == 3 and all(isinstance(m, kind) for m, kind in zip(children, kinds))
    assert block.conv.dilation == (2,) and block.conv.kernel_size == (5,) and block.conv.padding == (4,)


def test_convolutions_are_xavier_uniform_with_zero_bias():
    torch.manual_seed(0)
    model = create_model("utime_seed", n_classes=4)
    for conv in (m for m in model.modules() if isinstance(m, torch.nn.Conv1d)):
        fan_in = conv.in_channels * conv.kernel_size[0]
        fan_out = conv.out_channels * conv.kernel_size[0]
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert conv.weight.abs().max() <= bound
        assert conv.weight.abs().max() > 0.5 * bound
        assert torch.count_nonzero(conv.bias) == 0


def test_utime_small_preset_shapes_and_size():
    model = create_model("utime_small", n_classes=4).eval()
    assert (model.n_times, model.sfreq) == (3000, 100.0)
    assert n_parameters(model) == 302_184
    with torch.no_grad():
        assert model(torch.randn(3, 1, 3000)).shape == (3, 4)


def test_list_models_is_sorted():
    assert list_models() == ["context_seed", "context_small", "utime_seed", "utime_small"]
    assert list_models("utime*seed") == ["utime_seed"]


def test_forward_without_taps_returns_a_plain_tensor_equal_to_the_tapped_logits():
    torch.manual_seed(0)
    model = create_model("utime_small", n_classes=3, **TINY).eval()
    x = torch.randn(2, 1, 80)
    plain = model(x)
    logits, taps = model(x, return_taps=True)
    assert type(plain) is torch.Tensor
    assert torch.equal(plain, logits)
    assert torch.equal(taps["final"][0], taps["decoder"][-1])
    assert [len(taps[g]) for g in TAP_GROUPS] == [2, 1, 2, 1, 1]


def test_config_round_trip_through_json_rebuilds_the_same_architecture():
    model = create_model("utime_small", n_classes=3, **TINY, kernel_size=3, decoder_dilation=2)
    config = json.loads(json.dumps(model.config))
    rebuilt = model_from_config(config)
    assert rebuilt.config == model.config
    assert config["name"] == "utime_small" and config["kernel_size"] == 3 and config["filters"] == [4, 8]
    assert [tuple(p.shape) for p in rebuilt.parameters()] == [tuple(p.shape) for p in model.parameters()]


def test_same_seed_gives_the_same_weights():
    weights = []
    for _ in range(2):
        torch.manual_seed(7)
        weights.append(torch.cat([p.flatten() for p in create_model("utime_small", n_classes=4, **TINY).parameters()]))
    assert torch.equal(*weights)


def test_unknown_model_lists_the_known_names():
    with pytest.raises(InputError, match=r"unknown model 'unet'; known models: context_seed, context_small, "
                                         r"utime_seed, utime_small"):
        create_model("unet", n_classes=4)


def test_unknown_override_is_refused():
    with pytest.raises(InputError, match=r"unknown option 'filterz' for model 'utime_small'"):
        create_model("utime_small", n_classes=4, filterz=[8])


@pytest.mark.parametrize(("overrides", "message"), [
    (dict(pool_sizes=[3, 3]), r"pool by 9 in all, which does not divide the window's 80 samples"),
    (dict(kernel_size=4), r"'kernel_size' must be odd"),
    (dict(filters=[4, 8, 16]), r"'filters' \(3 levels\) and 'pool_sizes' \(2\) must have the same length"),
    (dict(filters=[4, 0]), r"'filters' must be a positive integer, got 0"),
    (dict(bottleneck_filters=-1), r"'bottleneck_filters' must be a positive integer"),
    (dict(window_s=8.05), r"8.05 s at 10.0 Hz is 80.5 samples; expected a whole number"),
    (dict(sfreq=0.0), r"must be positive"),
])
def test_impossible_structures_are_refused_with_the_reason(overrides, message):
    with pytest.raises(InputError, match=message):
        create_model("utime_small", n_classes=4, **{**TINY, **overrides})


def test_wrong_input_shape_names_expected_and_got():
    model = create_model("utime_small", n_classes=4, **TINY)
    with pytest.raises(InputError, match=r"\(channels, samples\) = \(1, 80\), got shape \(2, 1, 81\)"):
        model(torch.randn(2, 1, 81))
    with pytest.raises(InputError, match=r"got shape \(1, 80\)"):
        model(torch.randn(1, 80))


def test_model_from_config_needs_name_and_classes():
    with pytest.raises(InputError, match="'name' and 'n_classes'"):
        model_from_config({"filters": [4]})


def test_utime_is_usable_directly():
    model = UTime(n_classes=2, sfreq=4.0, window_s=6.0, filters=[2], pool_sizes=[3], bottleneck_filters=4)
    assert model(torch.randn(1, 1, 24)).shape == (1, 2)


def test_the_fast_forms_read_only_attributes_utime_promises():
    """``FAST_FORM_CONTRACT``: each attribute the fast forms rely on is there, of the promised kind."""
    from sleep_kd.models.blocks import ConvBlock, DecoderLevel, EncoderLevel
    from sleep_kd.models.utime import FAST_FORM_CONTRACT

    model = create_model("utime_small", n_classes=4)
    instances = {"UTime": [model], "EncoderLevel": list(model.encoder), "DecoderLevel": list(model.decoder),
                 "ConvBlock": [m for m in model.modules() if isinstance(m, ConvBlock)]}
    assert set(FAST_FORM_CONTRACT) == set(instances)
    for cls, attributes in FAST_FORM_CONTRACT.items():
        for instance in instances[cls]:
            assert [a for a in attributes if not hasattr(instance, a)] == [], cls
    assert all(isinstance(level, EncoderLevel) for level in model.encoder)
    assert all(isinstance(level, DecoderLevel) for level in model.decoder)
    assert all(isinstance(block, ConvBlock) for block in model.bottleneck)
    assert all(isinstance(block, ConvBlock) for level in model.encoder for block in level.blocks)
    assert all(isinstance(level.reduce, ConvBlock) and isinstance(level.scale, int) for level in model.decoder)
    assert all(isinstance(level.pool_size, int) for level in model.encoder)
    for block in instances["ConvBlock"]:
        assert type(block.conv) is torch.nn.Conv1d and type(block.norm) is torch.nn.BatchNorm1d
    assert model.dense.kernel_size == (1,) and model.classify.kernel_size == (1,)
    assert (model.n_times, model.in_channels, model.n_classes) == (3000, 1, 4) and model.config["name"] == "utime_small"
