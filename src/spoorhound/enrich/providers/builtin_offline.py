"""Registration of the built-in offline providers (entry point ``builtin-offline``).

Each provider lives in its own ``offline_*`` module; importing this module imports
those classes but loads no data (every table is built on first use).
"""

from __future__ import annotations

from spoorhound.enrich.plugins import hookimpl
from spoorhound.enrich.provider import Provider
from spoorhound.enrich.providers.offline_domain import DomainProvider
from spoorhound.enrich.providers.offline_geoip import GeoIpProvider
from spoorhound.enrich.providers.offline_hash import HashProvider
from spoorhound.enrich.providers.offline_ipclass import IpClassProvider
from spoorhound.enrich.providers.offline_lexical import LexicalProvider
from spoorhound.enrich.providers.offline_url import UrlProvider
from spoorhound.enrich.providers.offline_warninglists import WarninglistsProvider

#: In the order a runner should apply them (cheapest first).
OFFLINE_PROVIDERS: tuple[type[Provider], ...] = (
    IpClassProvider,
    GeoIpProvider,
    WarninglistsProvider,
    DomainProvider,
    LexicalProvider,
    HashProvider,
    UrlProvider,
)


@hookimpl
def spoorhound_providers() -> list[type[Provider]]:
    """The providers of this group."""
    return list(OFFLINE_PROVIDERS)
