"""Provider plugins: a pluggy hook spec and entry-point discovery.

Built-in providers register exactly like third-party ones: a module with a
``spoorhound_providers`` hook implementation, named under the ``spoorhound``
entry-point group in ``pyproject.toml``. Nothing registers at import time; the
plugin manager is built on demand and loads entry points then.

A third-party package adds providers with::

    [project.entry-points.spoorhound]
    myprovider = "my_package.spoorhound_plugin"

where ``my_package/spoorhound_plugin.py`` has::

    from spoorhound.enrich.plugins import hookimpl

    @hookimpl
    def spoorhound_providers():
        return [MyProvider]
"""

from __future__ import annotations

import functools

import pluggy

from spoorhound.enrich.provider import Provider

__all__ = ["PROJECT", "available_providers", "hookimpl", "hookspec", "plugin_manager"]

PROJECT = "spoorhound"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class ProviderSpec:
    """The hooks a plugin may implement."""

    @hookspec
    def spoorhound_providers(self) -> list[type[Provider]]:  # type: ignore[empty-body]
        """Return the provider classes this plugin contributes."""


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager with every installed ``spoorhound`` entry point loaded."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(ProviderSpec)
    pm.load_setuptools_entrypoints(PROJECT)
    return pm


def available_providers() -> dict[str, type[Provider]]:
    """Every provider class by name; a name claimed twice is an error (never shadowed)."""
    out: dict[str, type[Provider]] = {}
    for batch in plugin_manager().hook.spoorhound_providers():
        for cls in batch:
            if cls.name in out and out[cls.name] is not cls:
                raise ValueError(f"two plugins provide a provider named {cls.name!r}")
            out[cls.name] = cls
    return dict(sorted(out.items()))
