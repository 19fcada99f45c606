"""Registration of built-in providers (entry point `builtin-reputation`).

The reputation services: VirusTotal, AbuseIPDB, GreyNoise (community and
enterprise), AlienVault OTX and Shodan. Importing this module registers nothing;
the plugin manager calls the hook when it loads the entry point.
"""

from __future__ import annotations

from spoorhound.enrich.plugins import hookimpl
from spoorhound.enrich.provider import Provider
from spoorhound.enrich.providers.abuseipdb import AbuseIPDB
from spoorhound.enrich.providers.greynoise import GreyNoiseCommunity, GreyNoiseEnterprise
from spoorhound.enrich.providers.otx import OTX
from spoorhound.enrich.providers.shodan import Shodan
from spoorhound.enrich.providers.virustotal import VirusTotal


@hookimpl
def spoorhound_providers() -> list[type[Provider]]:
    """The providers of this group."""
    return [VirusTotal, AbuseIPDB, GreyNoiseCommunity, GreyNoiseEnterprise, OTX, Shodan]
