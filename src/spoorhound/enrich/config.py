"""Provider settings: ``providers.toml`` in the data directory, overridden by environment.

The file has one table per provider name::

    [virustotal]
    enabled = true
    api_key = "..."

    [lexical]
    protected_domains = ["paypal.com", "example-bank.com"]

and every field can be set or overridden by an environment variable
``SPOORHOUND_<PROVIDER>_<FIELD>`` (upper case, ``-`` in a provider name becomes
``_``): ``SPOORHOUND_VIRUSTOTAL_API_KEY``, ``SPOORHOUND_GREYNOISE_ENTERPRISE_ENABLED``.
Environment values are strings; pydantic converts them (``true``/``1``, numbers,
paths), and list fields take JSON (``["a.com","b.com"]``) or a comma-separated list.

Each provider's ``config_model`` validates its settings. Unknown keys (in the file
or the environment) and bad values raise :class:`ProviderConfigError`, whose message
names the provider, the key and where it came from, but never the value (it may be
a secret). Secrets are ``SecretStr``: masked in ``repr``/``str`` and shown by
:func:`public_view` only as ``"set"``/``"unset"``.

A provider that is enabled but ``needs_key`` and has none is not an error: it is
reported once, as a problem (see :func:`config_problems` and
:func:`enabled_providers`), and the other providers run.

A field named ``cache_dir`` left unset defaults to ``<data dir>/cache``.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from spoorhound.enrich.provider import Provider, ProviderConfig

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "ProviderConfigError",
    "config_problems",
    "enabled_providers",
    "env_name",
    "load_configs",
    "public_view",
]

log = logging.getLogger(__name__)

CONFIG_FILE = "providers.toml"
ENV_PREFIX = "SPOORHOUND_"


class ProviderConfigError(ValueError):
    """Invalid provider settings; ``str(exc)`` lists every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def env_name(provider: str, field: str) -> str:
    """The environment variable that sets ``field`` of ``provider``."""
    return f"{ENV_PREFIX}{provider.upper().replace('-', '_')}_{field.upper()}"


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise ProviderConfigError([f"{path}: not valid TOML: {e}"]) from None


def _is_list_field(model: type[BaseModel], field: str) -> bool:
    annotation = model.model_fields[field].annotation
    return _mentions(annotation, (list, tuple, set, frozenset))


def _mentions(annotation: Any, targets: tuple[Any, ...]) -> bool:
    """Whether a type annotation is, or contains (``X | None``, ``list[X]``), a target."""
    if annotation in targets:
        return True
    origin = typing.get_origin(annotation)
    if origin in targets:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_mentions(a, targets) for a in typing.get_args(annotation))
    return False


def _env_value(model: type[BaseModel], field: str, raw: str) -> Any:
    if _is_list_field(model, field):
        text = raw.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                pass  # left as a string: validation names the variable
        return [part.strip() for part in text.split(",") if part.strip()]
    return raw


def _env_settings(
    providers: Mapping[str, type[Provider]], environ: Mapping[str, str]
) -> tuple[dict[str, dict[str, tuple[str, Any]]], list[str]]:
    """Per provider, ``field -> (variable name, value)`` from the environment."""
    prefixes = sorted(
        ((env_name(name, ""), name) for name in providers), key=lambda p: len(p[0]), reverse=True
    )
    found: dict[str, dict[str, tuple[str, Any]]] = {}
    problems: list[str] = []
    for var, raw in environ.items():
        if not var.startswith(ENV_PREFIX):
            continue
        # Longest prefix first, so SPOORHOUND_GREYNOISE_ENTERPRISE_X is not read as
        # field ENTERPRISE_X of provider greynoise.
        for prefix, name in prefixes:
            if var.startswith(prefix) and len(var) > len(prefix):
                field = var[len(prefix) :].lower()
                model = providers[name].config_model
                if field not in model.model_fields:
                    problems.append(
                        f"environment variable {var}: provider {name!r} has no setting "
                        f"{field!r} (known: {', '.join(sorted(model.model_fields))})"
                    )
                else:
                    found.setdefault(name, {})[field] = (var, _env_value(model, field, raw))
                break
    return found, problems


def load_configs(
    data_dir: Path,
    providers: Mapping[str, type[Provider]],
    environ: Mapping[str, str] = os.environ,
) -> dict[str, ProviderConfig]:
    """Every provider's validated settings: defaults < ``providers.toml`` < environment.

    Raises :class:`ProviderConfigError` listing every unknown key and bad value (with
    the provider, key and source, never the value). A table for a provider that is
    not installed is logged as a warning and ignored, so uninstalling a plugin does
    not stop the platform. A provider that needs settings nobody gave (no table, no
    environment variable) is left out of the result: it is off, not misconfigured.
    """
    path = Path(data_dir) / CONFIG_FILE
    file_data = _read_file(path)
    env, problems = _env_settings(providers, environ)
    for name, table in file_data.items():
        if name not in providers:
            log.warning("%s: no installed provider is named %r; table ignored", path, name)
        elif not isinstance(table, dict):
            problems.append(f"{path}: [{name}] must be a table of settings")
    configs: dict[str, ProviderConfig] = {}
    for name, cls in providers.items():
        model = cls.config_model
        table = file_data.get(name)
        values: dict[str, Any] = dict(table) if isinstance(table, dict) else {}
        sources = {key: f"{path} [{name}]" for key in values}
        for field, (var, value) in env.get(name, {}).items():
            values[field] = value
            sources[field] = f"environment variable {var}"
        if "cache_dir" in model.model_fields and values.get("cache_dir") is None:
            values["cache_dir"] = Path(data_dir) / "cache"
        try:
            configs[name] = model.model_validate(values)
        except ValidationError as exc:
            if not sources and all(e.get("type") == "missing" for e in exc.errors()):
                # Nobody configured this provider and it cannot run without settings
                # (a DNS resolver, a MISP URL): it is simply off, not an error.
                continue
            problems.extend(_explain(name, model, exc, sources))
    if problems:
        raise ProviderConfigError(problems)
    return configs


def _explain(
    name: str, model: type[BaseModel], exc: ValidationError, sources: Mapping[str, str]
) -> list[str]:
    """Readable messages without the offending values (which may be secrets)."""
    out: list[str] = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = err.get("loc") or ()
        key = str(loc[0]) if loc else "?"
        where = sources.get(key, f"settings of {name!r}")
        if err.get("type") == "extra_forbidden":
            out.append(
                f"{where}: provider {name!r} has no setting {key!r} "
                f"(known: {', '.join(sorted(model.model_fields))})"
            )
        elif err.get("type") == "missing":
            out.append(
                f"provider {name!r}: required setting {key!r} is missing "
                f"(set it in [{name}] of {CONFIG_FILE} or {env_name(name, key)})"
            )
        else:
            path = ".".join(str(p) for p in loc)
            out.append(f"{where}: provider {name!r}, setting {path!r}: {err.get('msg')}")
    return out


def config_problems(
    configs: Mapping[str, ProviderConfig], providers: Mapping[str, type[Provider]]
) -> list[str]:
    """One message per enabled provider that cannot run (an API key it needs is unset)."""
    return list(_blocked(configs, providers).values())


def _blocked(
    configs: Mapping[str, ProviderConfig], providers: Mapping[str, type[Provider]]
) -> dict[str, str]:
    """Provider name -> why it cannot run."""
    problems: dict[str, str] = {}
    for name, cfg in configs.items():
        cls = providers.get(name)
        if cls is None or not cfg.enabled or not cls.needs_key:
            continue
        key = getattr(cfg, "api_key", None)
        if key is None or (isinstance(key, SecretStr) and not key.get_secret_value()):
            problems[name] = (
                f"{name}: enabled but no API key is set; set api_key in [{name}] of "
                f"{CONFIG_FILE} or {env_name(name, 'api_key')}. Skipped until then."
            )
    return problems


def enabled_providers(
    data_dir: Path,
    providers: Mapping[str, type[Provider]],
    environ: Mapping[str, str] = os.environ,
    problems: list[str] | None = None,
) -> list[Provider]:
    """Instances of every enabled provider that can run, in name order.

    A provider that cannot run (see :func:`config_problems`) is left out and its
    problem is logged once as a warning and appended to ``problems`` when given, so
    the caller can show it (CLI, API, job record) without one error per indicator.
    Raises :class:`ProviderConfigError` for invalid settings.
    """
    configs = load_configs(data_dir, providers, environ)
    blocked = _blocked(configs, providers)
    for message in blocked.values():
        log.warning("%s", message)
    if problems is not None:
        problems.extend(blocked.values())
    return [
        providers[name](cfg)
        for name, cfg in sorted(configs.items())
        if cfg.enabled and name not in blocked
    ]


def public_view(config: BaseModel) -> dict[str, Any]:
    """The settings as JSON-ready data for display or the API: secrets become
    ``"set"`` or ``"unset"``, never their value (not even masked)."""
    out: dict[str, Any] = {}
    for field, info in type(config).model_fields.items():
        value = getattr(config, field)
        if isinstance(value, SecretStr) or _mentions(info.annotation, (SecretStr,)):
            out[field] = "set" if value is not None else "unset"
        elif isinstance(value, BaseModel):
            out[field] = public_view(value)
        elif isinstance(value, Path):
            out[field] = str(value)
        else:
            out[field] = value
    return out
