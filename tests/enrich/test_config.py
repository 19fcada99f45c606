"""Provider settings: providers.toml, environment overrides, validation, secrets."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from pydantic import SecretStr

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.config import (
    ProviderConfigError,
    config_problems,
    enabled_providers,
    env_name,
    load_configs,
    public_view,
)
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    HttpProvider,
    Provider,
    ProviderConfig,
)
from spoorhound.enrich.providers.offline_ipclass import IpClassProvider
from spoorhound.enrich.providers.offline_lexical import LexicalConfig, LexicalProvider

SECRET = "sk-live-7f3a9c1e5b2d4f60"


class FakeIntelConfig(HttpConfig):
    base_url: str = "http://127.0.0.1:9"
    max_pages: int = 3


class FakeIntel(HttpProvider):
    name: ClassVar[str] = "fake-intel"
    title: ClassVar[str] = "Fake intel"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.IPV4})
    needs_key: ClassVar[bool] = True
    config_model: ClassVar[type[ProviderConfig]] = FakeIntelConfig

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        raise NotImplementedError


class FakeIntelPlus(FakeIntel):
    name: ClassVar[str] = "fake-intel-plus"


PROVIDERS: dict[str, type[Provider]] = {
    "fake-intel": FakeIntel,
    "fake-intel-plus": FakeIntelPlus,
    "ipclass": IpClassProvider,
    "lexical": LexicalProvider,
}


def write(data_dir: Path, text: str) -> Path:
    path = data_dir / "providers.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    configs = load_configs(tmp_path, PROVIDERS, environ={})
    assert configs["ipclass"].enabled is True  # offline: on by default
    assert configs["fake-intel"].enabled is False  # online: off until configured
    lexical = configs["lexical"]
    assert isinstance(lexical, LexicalConfig)
    assert lexical.cache_dir == tmp_path / "cache"  # under the data directory
    assert lexical.protected_domains == []


def test_toml_then_environment(tmp_path: Path) -> None:
    write(
        tmp_path,
        f"""
[fake-intel]
enabled = true
api_key = "{SECRET}"
timeout = 5

[lexical]
protected_domains = ["PayPal.com", "bücher.de"]

[ipclass]
enabled = false
""",
    )
    env = {
        "SPOORHOUND_FAKE_INTEL_TIMEOUT": "7.5",
        "SPOORHOUND_FAKE_INTEL_PLUS_ENABLED": "true",  # not fake-intel's "plus_enabled"
        "SPOORHOUND_FAKE_INTEL_PLUS_API_KEY": "other",
        "SPOORHOUND_LEXICAL_PROTECTED_DOMAINS": "example.com, example.org",
        "SPOORHOUND_DATA_DIR": "/elsewhere",  # not a provider setting: ignored
    }
    configs = load_configs(tmp_path, PROVIDERS, environ=env)
    fake = configs["fake-intel"]
    assert isinstance(fake, FakeIntelConfig)
    assert fake.enabled is True and fake.timeout == 7.5
    assert fake.api_key is not None and fake.api_key.get_secret_value() == SECRET
    assert configs["fake-intel-plus"].enabled is True
    lexical = configs["lexical"]
    assert isinstance(lexical, LexicalConfig)
    assert lexical.protected_domains == ["example.com", "example.org"]
    assert configs["ipclass"].enabled is False


def test_toml_values_are_canonicalised(tmp_path: Path) -> None:
    write(tmp_path, '[lexical]\nprotected_domains = ["PayPal.com", "bücher.de"]\n')
    lexical = load_configs(tmp_path, PROVIDERS, environ={})["lexical"]
    assert isinstance(lexical, LexicalConfig)
    assert lexical.protected_domains == ["paypal.com", "xn--bcher-kva.de"]


def test_env_list_as_json(tmp_path: Path) -> None:
    env = {"SPOORHOUND_LEXICAL_PROTECTED_DOMAINS": '["a-bank.com", "b-bank.com"]'}
    lexical = load_configs(tmp_path, PROVIDERS, environ=env)["lexical"]
    assert isinstance(lexical, LexicalConfig)
    assert lexical.protected_domains == ["a-bank.com", "b-bank.com"]


def test_unknown_key_in_file_names_provider_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[fake-intel]\nenabled = true\napi_kye = "x"\n')
    with pytest.raises(ProviderConfigError) as exc:
        load_configs(tmp_path, PROVIDERS, environ={})
    message = str(exc.value)
    assert "'fake-intel'" in message and "'api_kye'" in message and str(path) in message
    assert "api_key" in message  # the known settings are listed


def test_unknown_key_in_environment(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="SPOORHOUND_IPCLASS_COLOUR"):
        load_configs(tmp_path, PROVIDERS, environ={"SPOORHOUND_IPCLASS_COLOUR": "blue"})


def test_bad_values_are_all_reported_without_their_value(tmp_path: Path) -> None:
    write(
        tmp_path,
        f'[fake-intel]\ntimeout = "{SECRET}"\n[lexical]\nprotected_domains = ["not a domain"]\n',
    )
    with pytest.raises(ProviderConfigError) as exc:
        load_configs(tmp_path, PROVIDERS, environ={})
    assert len(exc.value.problems) == 2
    assert "'timeout'" in str(exc.value) and "protected_domains" in str(exc.value)
    assert SECRET not in str(exc.value)


def test_invalid_toml(tmp_path: Path) -> None:
    write(tmp_path, "[fake-intel\n")
    with pytest.raises(ProviderConfigError, match="not valid TOML"):
        load_configs(tmp_path, PROVIDERS, environ={})


def test_unknown_provider_table_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "[virustotl]\nenabled = true\n")
    with caplog.at_level(logging.WARNING):
        configs = load_configs(tmp_path, PROVIDERS, environ={})
    assert "virustotl" in caplog.text and "ipclass" in configs


def test_secret_is_masked_everywhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, f'[fake-intel]\nenabled = true\napi_key = "{SECRET}"\n')
    with caplog.at_level(logging.DEBUG):
        configs = load_configs(tmp_path, PROVIDERS, environ={})
        providers = enabled_providers(tmp_path, PROVIDERS, environ={})
        cfg = configs["fake-intel"]
        logging.getLogger("spoorhound.test").info("loaded %s / %r", cfg, cfg)
    assert SECRET not in repr(cfg) and SECRET not in str(cfg)
    assert SECRET not in caplog.text
    view = public_view(cfg)
    assert view["api_key"] == "set" and SECRET not in repr(view)
    assert public_view(configs["fake-intel-plus"])["api_key"] == "unset"
    assert view["timeout"] == 15.0 and view["base_url"] == "http://127.0.0.1:9"
    assert [p.name for p in providers] == ["fake-intel", "ipclass", "lexical"]


def test_missing_key_is_one_problem_and_the_rest_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "[fake-intel]\nenabled = true\n")
    problems: list[str] = []
    with caplog.at_level(logging.WARNING):
        providers = enabled_providers(tmp_path, PROVIDERS, environ={}, problems=problems)
    assert len(problems) == 1
    assert problems[0].startswith("fake-intel:")
    assert env_name("fake-intel", "api_key") == "SPOORHOUND_FAKE_INTEL_API_KEY"
    assert "SPOORHOUND_FAKE_INTEL_API_KEY" in problems[0]
    assert caplog.text.count("no API key") == 1
    assert [p.name for p in providers] == ["ipclass", "lexical"]
    assert isinstance(providers[1].config, LexicalConfig)


def test_disabled_keyless_provider_is_no_problem(tmp_path: Path) -> None:
    configs = load_configs(tmp_path, PROVIDERS, environ={})
    assert config_problems(configs, PROVIDERS) == []
    empty = FakeIntelConfig(enabled=True, api_key=SecretStr(""))
    assert len(config_problems({"fake-intel": empty}, PROVIDERS)) == 1
