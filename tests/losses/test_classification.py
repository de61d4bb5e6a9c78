"""ce and wce, and the balanced class weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from sleep_kd.errors import InputError
from sleep_kd.losses import Outputs, balanced_class_weights, get_loss, list_losses

# Softmax of [0, log 3] is [0.25, 0.75].
LOGITS = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
TARGETS = torch.tensor([0, 1])


def test_registered_terms_are_listed_sorted():
    assert list_losses() == ["at", "ce", "sd", "wce"]


def test_ce_hand_computed():
    value = get_loss("ce")(Outputs(LOGITS), None, TARGETS)
    assert value.item() == pytest.approx((math.log(4.0) + math.log(4.0 / 3.0)) / 2)


def test_wce_applies_the_weights():
    weights = torch.tensor([3.0, 1.0])
    value = get_loss("wce")(Outputs(LOGITS), None, TARGETS, class_weights=weights)
    assert value.item() == pytest.approx((3 * math.log(4.0) + 1 * math.log(4.0 / 3.0)) / 4)


def test_wce_with_uniform_weights_equals_ce():
    torch.manual_seed(0)
    logits, targets = torch.randn(16, 4), torch.randint(0, 4, (16,))
    wce = get_loss("wce")(Outputs(logits), None, targets, class_weights=torch.full((4,), 2.5))
    ce = get_loss("ce")(Outputs(logits), None, targets)
    assert wce.item() == pytest.approx(ce.item(), rel=1e-6)


def test_wce_without_applying_weights_is_the_seed_unweighted_loss():
    value = get_loss("wce")(Outputs(LOGITS), None, TARGETS, class_weights=torch.tensor([3.0, 1.0]),
                            apply_weights=False)
    assert value.item() == pytest.approx(get_loss("ce")(Outputs(LOGITS), None, TARGETS).item())


def test_wce_refuses_missing_or_misshapen_weights():
    with pytest.raises(InputError, match="loss term 'wce' needs option 'class_weights'"):
        get_loss("wce")(Outputs(LOGITS), None, TARGETS)
    with pytest.raises(InputError, match=r"must have shape \(2,\), got \(3,\)"):
        get_loss("wce")(Outputs(LOGITS), None, TARGETS, class_weights=torch.ones(3))


def test_unknown_option_names_the_term_and_option():
    with pytest.raises(InputError, match="loss term 'ce' has no option 'weight'"):
        get_loss("ce")(Outputs(LOGITS), None, TARGETS, weight=1.0)


def test_unknown_term_lists_the_known_terms():
    with pytest.raises(InputError, match="unknown loss term 'kl'; known loss terms: at, ce, sd, wce"):
        get_loss("kl")


def test_balanced_weights_match_sklearn():
    labels = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3])
    expected = compute_class_weight("balanced", classes=np.arange(4), y=labels)
    np.testing.assert_allclose(balanced_class_weights(labels, 4), expected)
    np.testing.assert_allclose(balanced_class_weights(labels, 4), [10 / 12, 10 / 4, 10 / 8, 10 / 16])


def test_balanced_weights_give_absent_classes_zero():
    weights = balanced_class_weights(np.array([0, 0, 2]), 3)
    np.testing.assert_allclose(weights, [3 / 4, 0.0, 3 / 2])


def test_balanced_weights_refuse_out_of_range_labels():
    with pytest.raises(InputError, match=r"class labels must lie in \[0, 3\), got values from 0 to 3"):
        balanced_class_weights(np.array([0, 3]), 3)
