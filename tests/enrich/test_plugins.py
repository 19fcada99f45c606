"""Provider discovery through the ``spoorhound`` entry points and the pluggy hook."""

from __future__ import annotations

import importlib.metadata
from typing import ClassVar

import pytest

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.plugins import available_providers, hookimpl, plugin_manager
from spoorhound.enrich.provider import EnrichmentResult, OfflineProvider, Provider
from spoorhound.enrich.providers.builtin_offline import OFFLINE_PROVIDERS

OFFLINE_NAMES = {"ipclass", "geoip", "warninglists", "domain", "lexical", "hash", "url"}


def test_builtin_offline_is_an_entry_point() -> None:
    eps = importlib.metadata.entry_points(group="spoorhound")
    assert eps["builtin-offline"].value == "spoorhound.enrich.providers.builtin_offline"


def test_available_providers_finds_every_offline_builtin() -> None:
    found = available_providers()
    assert set(found) >= OFFLINE_NAMES
    assert {cls.name for cls in OFFLINE_PROVIDERS} == OFFLINE_NAMES
    for name in OFFLINE_NAMES:
        assert issubclass(found[name], OfflineProvider)
        assert found[name].name == name
    assert list(found) == sorted(found)


class _Impostor(OfflineProvider):
    name: ClassVar[str] = "ipclass"
    title: ClassVar[str] = "Not the real one"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.IPV4})

    def enrich_many(self, indicators: object) -> list[EnrichmentResult]:
        return []


class _ImpostorPlugin:
    @hookimpl
    def spoorhound_providers(self) -> list[type[Provider]]:
        return [_Impostor]


def test_a_name_claimed_twice_is_an_error() -> None:
    pm = plugin_manager()
    plugin = _ImpostorPlugin()
    pm.register(plugin, name="test-impostor")
    try:
        with pytest.raises(ValueError, match="'ipclass'"):
            available_providers()
    finally:
        pm.unregister(plugin)
    assert available_providers()["ipclass"] is not _Impostor


def test_same_class_registered_twice_is_not_a_conflict() -> None:
    class Again:
        @hookimpl
        def spoorhound_providers(self) -> list[type[Provider]]:
            return list(OFFLINE_PROVIDERS)

    pm = plugin_manager()
    plugin = Again()
    pm.register(plugin, name="test-again")
    try:
        assert set(available_providers()) >= OFFLINE_NAMES
    finally:
        pm.unregister(plugin)


def test_offline_instance_runs_with_default_config() -> None:
    cls = available_providers()["ipclass"]
    provider = cls()
    assert isinstance(provider, OfflineProvider)
    [result] = provider.enrich_many([Indicator(IndicatorType.IPV4, "100.64.0.9")])
    assert result.attributes["class"] == "cgnat"
