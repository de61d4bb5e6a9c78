"""The context network: shapes, per-epoch taps, the seed's U-Time inside unchanged, config round trip."""

import pytest
import torch

from sleep_kd.errors import InputError
from sleep_kd.models import UTime, create_model, list_models, model_from_config
from sleep_kd.models.context import encoder_config

TINY = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16, sequence_width=8, sequence_layers=2)


@pytest.mark.parametrize("sequence", ["tcn", "gru", "transformer", "tcn_causal"])
def test_logits_per_epoch_and_taps_per_window(sequence):
    torch.manual_seed(0)
    model = create_model("context_small", n_classes=4, context_epochs=6, sequence=sequence, **TINY)
    x = torch.rand(3, 6, 1, 3000)
    logits, taps = model(x, return_taps=True)
    assert logits.shape == (3, 6, 4)
    single = UTime(name="utime_small", n_classes=4, sfreq=100.0, window_s=30.0, filters=[4, 8], pool_sizes=[10, 6],
                   bottleneck_filters=16)
    _, single_taps = single(x.flatten(0, 1), return_taps=True)
    shapes = lambda taps: {g: [t.shape for t in v] for g, v in taps.items()}  # noqa: E731
    assert shapes(taps) == shapes(single_taps)
    assert taps["final"][0].shape == (18, 4, 3000)


def test_the_encoder_is_the_seed_utime_with_its_own_keys():
    model = create_model("context_small", n_classes=4)
    plain = create_model("utime_small", n_classes=4)
    inner = {k[len("encoder."):] for k in model.state_dict() if k.startswith("encoder.")}
    assert inner == set(plain.state_dict())
    assert isinstance(model.encoder, UTime)
    assert encoder_config(model.config) == plain.config
    assert model.config["context_epochs"] == 20  # 10 minutes of 30-s epochs
    assert sum(p.numel() for p in model.encoder.parameters()) == 302184
    assert sum(p.numel() for p in model.parameters()) == 361516


def test_paper_scale_preset_wraps_utime_seed_over_35_epochs():
    model = create_model("context_seed", n_classes=4)
    assert model.config["context_epochs"] == 35 and model.config["encoder_name"] == "utime_seed"
    assert sum(p.numel() for p in model.encoder.parameters()) == 4813240
    assert {"utime_seed", "utime_small", "context_small", "context_seed"} <= set(list_models())


def test_config_round_trip_gives_the_same_network():
    torch.manual_seed(1)
    model = create_model("context_small", n_classes=3, context_epochs=4, **TINY).eval()
    again = model_from_config(model.config).eval()
    again.load_state_dict(model.state_dict())
    x = torch.rand(2, 4, 1, 3000)
    assert torch.equal(model(x), again(x))


def test_each_epoch_sees_its_neighbours():
    """Changing epoch 0 changes the logits of epochs within the TCN's reach (2 layers: +-3 epochs), not beyond."""
    torch.manual_seed(2)
    model = create_model("context_small", n_classes=4, context_epochs=5, **TINY).eval()
    torch.nn.init.normal_(model.head.weight)  # a new model's head is zero: it scores as its encoder alone
    x = torch.rand(1, 5, 1, 3000)
    y = x.clone()
    y[0, 0] = torch.rand(1, 3000)
    with torch.no_grad():
        a, b = model(x), model(y)
    assert not torch.allclose(a[0, 3], b[0, 3])
    assert torch.equal(a[0, 4], b[0, 4])


def test_wrong_input_shape_is_refused():
    model = create_model("context_small", n_classes=4, context_epochs=4, **TINY)
    with pytest.raises(InputError, match=r"expects input \(batch, epochs, channels, samples\) with "
                                         r"\(epochs, channels, samples\) = \(4, 1, 3000\), got shape \(2, 1, 3000\)"):
        model(torch.rand(2, 1, 3000))


@pytest.mark.parametrize("options, message", [
    (dict(sequence="lstm"), "model option 'sequence' must be one of tcn, gru, transformer, tcn_causal, got 'lstm'"),
    (dict(context_epochs=0), "model option 'context_epochs' must be a positive integer, got 0"),
    (dict(sequence_kernel=4), "model option 'sequence_kernel' must be odd, got 4"),
    (dict(filterz=[4]), "model 'context_small': unknown option 'filterz' for model 'utime_small'"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_model("context_small", n_classes=4, **options)


def test_context_epochs_on_a_single_window_model_is_refused():
    with pytest.raises(InputError, match="unknown option 'context_epochs' for model 'utime_small'"):
        create_model("utime_small", n_classes=4, context_epochs=20)


def test_a_new_context_model_scores_each_epoch_as_its_encoder_does():
    """The sequence model's head starts at zero: logits (B, T, C) = the encoder's per-epoch logits."""
    torch.manual_seed(3)
    model = create_model("context_small", n_classes=4, context_epochs=4, **TINY).eval()
    x = torch.rand(2, 4, 1, 3000)
    with torch.no_grad():
        expected = model.encoder(x.flatten(0, 1)).view(2, 4, 4)
        assert torch.equal(model(x), expected)
        torch.nn.init.normal_(model.head.weight)
        assert not torch.allclose(model(x), expected)
