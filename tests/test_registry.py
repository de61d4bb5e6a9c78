"""The one Registry type: register as decorator or call, get with a one-line error, names sorted."""

import pytest

from sleep_kd.errors import InputError
from sleep_kd.registry import Registry


def test_an_item_registers_by_its_own_name_by_a_given_name_or_by_a_call():
    things = Registry("thing")

    @things.register
    def beta():
        return "b"

    @things.register("alpha")
    def _hidden():
        return "a"

    @things.register()
    def gamma():
        return "g"

    assert things.register("delta", len) is len
    assert things.names() == ["alpha", "beta", "delta", "gamma"]
    assert things.get("alpha")() == "a" and things.get("beta") is beta and things.get("delta") is len
    assert "gamma" in things and "_hidden" not in things and len(things) == 4


def test_an_unknown_name_is_one_line_listing_the_known_names_sorted():
    strategies = Registry("strategy", plural="strategies")
    for name in ("kd_temp", "ecg_base", "eeg_base"):
        strategies.register(name, object())
    with pytest.raises(InputError) as error:
        strategies.get("kd")
    assert str(error.value) == "unknown strategy 'kd'; known strategies: ecg_base, eeg_base, kd_temp"


def test_a_taken_name_is_refused_unless_replaced_and_unregister_frees_it():
    things = Registry("thing")
    first, second = object(), object()
    things.register("x", first)
    with pytest.raises(ValueError, match="^thing 'x' is already registered$"):
        things.register("x", second)
    assert things.register("x", second, replace=True) is second and things.get("x") is second
    things.unregister("x")
    things.unregister("x")  # a name not there is no error
    assert things.names() == []


def test_names_filter_by_pattern_and_by_item_and_find_takes_the_first_registered():
    things = Registry("thing")
    for name, value in (("utime_small", 1), ("utime_seed", 2), ("context_small", 3)):
        things.register(name, value)
    assert things.names("utime_*") == ["utime_seed", "utime_small"]
    assert things.names(where=lambda value: value > 1) == ["context_small", "utime_seed"]
    assert things.find(["unet", "context_small", "utime_seed"]) == 3
    assert things.find(["unet"]) is None


def test_every_registry_of_the_project_is_one_registry_with_its_own_names():
    from sleep_kd.data.ingest.sources import SOURCES, list_sources
    from sleep_kd.fast import SCORING_FORMS, TRAINING_FORMS
    from sleep_kd.losses.registry import LOSSES, list_losses
    from sleep_kd.models.registry import MODELS, list_models
    from sleep_kd.strategies.registry import STRATEGIES, list_strategies

    for registry in (SOURCES, SCORING_FORMS, TRAINING_FORMS, LOSSES, MODELS, STRATEGIES):
        assert isinstance(registry, Registry)
    assert list_sources() == SOURCES.names() == ["edf", "mass", "nsrr"]
    assert list_losses() == LOSSES.names() == ["at", "ce", "sd", "wce"]
    assert list_models() == MODELS.names()
    assert list_strategies(controls=True) == STRATEGIES.names()
    assert "ecg_self" in STRATEGIES.names() and "ecg_self" not in list_strategies()
    assert {"ContextNet", "UTime"} <= set(SCORING_FORMS.names())  # a test may have registered its own
    assert TRAINING_FORMS.names() == ["DecoderLevel", "UTime"]


def test_an_unknown_source_is_refused_listing_the_known_ones():
    from sleep_kd.data.ingest.sources import create_source

    with pytest.raises(InputError) as error:
        create_source("shhs")
    assert str(error.value) == "unknown source 'shhs'; known sources: edf, mass, nsrr"
