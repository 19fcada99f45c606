"""Registration of built-in providers (entry point `builtin-feeds`).

Threat feeds (abuse.ch URLhaus / ThreatFox / MalwareBazaar, Pulsedive, a MISP
instance) and network context (DNS, RDAP). All are network providers, off until
configured. Importing this module imports the provider modules, which do no I/O.
"""

from __future__ import annotations

from spoorhound.enrich.plugins import hookimpl
from spoorhound.enrich.provider import Provider
from spoorhound.enrich.providers.dns import DnsProvider
from spoorhound.enrich.providers.malwarebazaar import MalwareBazaarProvider
from spoorhound.enrich.providers.misp import MispProvider
from spoorhound.enrich.providers.pulsedive import PulsediveProvider
from spoorhound.enrich.providers.rdap import RdapProvider
from spoorhound.enrich.providers.threatfox import ThreatFoxProvider
from spoorhound.enrich.providers.urlhaus import UrlhausProvider


@hookimpl
def spoorhound_providers() -> list[type[Provider]]:
    """The providers of this group."""
    return [
        UrlhausProvider,
        ThreatFoxProvider,
        MalwareBazaarProvider,
        PulsediveProvider,
        MispProvider,
        RdapProvider,
        DnsProvider,
    ]
