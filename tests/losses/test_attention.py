"""at: attention transfer over the tap groups."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sleep_kd.errors import InputError
from sleep_kd.losses import Outputs, attention_map, get_loss

at = get_loss("at")
GROUPS = ("encoder", "bottleneck", "decoder", "final", "head")
NO_TARGETS = torch.zeros(2, dtype=torch.long)


def random_taps(seed: int, batch: int = 3) -> dict[str, list[torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    layers = {"encoder": [(4, 8), (8, 4)], "bottleneck": [(16, 4)], "decoder": [(8, 8), (4, 16)],
              "final": [(4, 16)], "head": [(3, 16)]}
    return {g: [torch.randn(batch, ch, n, generator=gen) for ch, n in shapes] for g, shapes in layers.items()}


def outputs(taps) -> Outputs:
    return Outputs(torch.zeros(next(iter(taps.values()))[0].shape[0], 3), taps)


def one_layer(x: torch.Tensor) -> Outputs:
    return outputs({"encoder": [x]})


def test_identical_features_give_zero():
    taps = random_taps(0)
    for options in ({}, dict(normalize="batch", distance="l1"), dict(group_weighting="uniform")):
        assert at(outputs(taps), outputs(random_taps(0)), NO_TARGETS, **options).item() == 0.0


def test_attention_map_sums_powers_over_channels_and_normalises_each_sample():
    x = torch.tensor([[[1.0, 0.0], [-1.0, 2.0]]])            # (1, 2 channels, 2 samples)
    np.testing.assert_allclose(attention_map(x, p=2).numpy(), [[2 / math.sqrt(20), 4 / math.sqrt(20)]], rtol=1e-6)
    np.testing.assert_allclose(attention_map(x, p=1, normalize="sample").numpy(),
                               [[2 / math.sqrt(8), 2 / math.sqrt(8)]], rtol=1e-6)


def test_hand_computed_l2_and_l1():
    student = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])        # map [2, 0] -> [1, 0]
    teacher = torch.tensor([[[1.0, 1.0], [0.0, 0.0]]])        # map [1, 1] -> [r, r]
    r = 1 / math.sqrt(2)
    l2 = at(one_layer(student), one_layer(teacher), NO_TARGETS, groups=["encoder"])
    l1 = at(one_layer(student), one_layer(teacher), NO_TARGETS, groups=["encoder"], distance="l1")
    assert l2.item() == pytest.approx(((1 - r) ** 2 + r**2) / 2, rel=1e-6)
    assert l1.item() == pytest.approx(((1 - r) + r) / 2, rel=1e-6)


def test_sample_normalisation_ignores_a_per_sample_scale_but_batch_normalisation_does_not():
    x = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(3))
    scaled = x * torch.tensor([1.0, 10.0]).view(2, 1, 1)
    groups = ["encoder"]
    assert at(one_layer(x), one_layer(scaled), NO_TARGETS, groups=groups).item() == pytest.approx(0.0, abs=1e-7)
    assert at(one_layer(x), one_layer(scaled), NO_TARGETS, groups=groups, normalize="batch").item() > 1e-3


def seed_formula(student_taps, teacher_taps) -> float:
    """The seed's AT loss written out: x^2 summed over channels, L2 over the batch, L1, groups."""
    group_means = []
    for group in GROUPS:
        layer_losses = []
        for s, t in zip(student_taps[group], teacher_taps[group]):
            maps = []
            for f in (s.double().numpy(), t.double().numpy()):
                m = (f**2).sum(axis=1)
                maps.append(m / np.sqrt((m**2).sum(axis=0, keepdims=True)))
            layer_losses.append(np.abs(maps[0] - maps[1]).mean())
        group_means.append(np.mean(layer_losses))
    return float(np.mean(group_means))


def test_seed_mode_reproduces_the_seed_formula():
    student, teacher = random_taps(1), random_taps(2)
    value = at(outputs(student), outputs(teacher), NO_TARGETS, normalize="batch", distance="l1",
               group_weighting="seed")
    assert value.item() == pytest.approx(seed_formula(student, teacher), rel=1e-5)


def test_seed_and_uniform_group_weighting():
    student, teacher = random_taps(4), random_taps(5)
    per_layer = {g: [at(one_layer(s), one_layer(t), NO_TARGETS, groups=["encoder"]).item()
                     for s, t in zip(student[g], teacher[g])] for g in GROUPS}
    seed = at(outputs(student), outputs(teacher), NO_TARGETS)
    uniform = at(outputs(student), outputs(teacher), NO_TARGETS, group_weighting="uniform")
    assert seed.item() == pytest.approx(np.mean([np.mean(v) for v in per_layer.values()]), rel=1e-5)
    assert uniform.item() == pytest.approx(np.mean(sum(per_layer.values(), [])), rel=1e-5)
    assert abs(seed.item() - uniform.item()) > 1e-4


def test_groups_option_selects_the_groups():
    student, teacher = random_taps(6), random_taps(7)
    head_only = at(outputs(student), outputs(teacher), NO_TARGETS, groups=["head"])
    expected = at(one_layer(student["head"][0]), one_layer(teacher["head"][0]), NO_TARGETS, groups=["encoder"])
    assert head_only.item() == pytest.approx(expected.item(), rel=1e-6)


def test_mismatched_tap_shapes_are_refused():
    student, teacher = random_taps(0), random_taps(0)
    teacher["decoder"][1] = torch.zeros(3, 4, 15)
    with pytest.raises(InputError, match=r"tap decoder\[1\]: student shape \(3, 4, 16\) differs from teacher shape"):
        at(outputs(student), outputs(teacher), NO_TARGETS)


def test_missing_taps_and_bad_options_are_refused():
    with pytest.raises(InputError, match="needs feature taps"):
        at(Outputs(torch.zeros(1, 3)), Outputs(torch.zeros(1, 3)), NO_TARGETS)
    taps = random_taps(0)
    with pytest.raises(InputError, match="'distance' must be one of"):
        at(outputs(taps), outputs(taps), NO_TARGETS, distance="cosine")
    with pytest.raises(InputError, match="'groups' must be a non-empty subset"):
        at(outputs(taps), outputs(taps), NO_TARGETS, groups=["middle"])
