"""The cases of the reputation-provider tests: one per provider, with its emulator.

:data:`CASES` lists each provider with its emulator app, key, URL prefix and the
indicators and statuses the shared contract tests expect; :func:`start` gets a
case's emulator from the shared :class:`~tests.enrich.harness.Emulators`, reset, as a
:class:`Running` that builds providers pointed at it (client helpers: ``harness``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import HttpProvider, Status
from spoorhound.enrich.providers.abuseipdb import AbuseIPDB
from spoorhound.enrich.providers.greynoise import GreyNoiseCommunity, GreyNoiseEnterprise
from spoorhound.enrich.providers.otx import OTX
from spoorhound.enrich.providers.shodan import Shodan
from spoorhound.enrich.providers.virustotal import VirusTotal
from tests.emulators import abuseipdb as abuse_emu
from tests.emulators import greynoise as gn_emu
from tests.emulators import otx as otx_emu
from tests.emulators import shodan as shodan_emu
from tests.emulators import virustotal as vt_emu
from tests.emulators.server import EmulatorServer
from tests.enrich.harness import Emulators, configured

T = IndicatorType


@dataclass(frozen=True)
class Case:
    """One provider, its emulator and the indicators the contract tests use."""

    name: str
    provider: type[HttpProvider]
    app: Callable[..., FastAPI]
    api_key: str
    prefix: str
    known: Indicator
    unknown: Indicator
    unknown_status: Status
    #: What the provider's own quota response maps to, and its Retry-After.
    quota_status: Status
    quota_retry_after: float | None
    config: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "virustotal",
        VirusTotal,
        vt_emu.virustotal_app,
        vt_emu.API_KEY,
        "/api/v3",
        Indicator(T.IPV4, vt_emu.BAD_IP),
        Indicator(T.SHA256, "0" * 64),
        Status.NOT_FOUND,
        Status.RATE_LIMITED,
        60.0,
    ),
    Case(
        "abuseipdb",
        AbuseIPDB,
        abuse_emu.abuseipdb_app,
        abuse_emu.API_KEY,
        "/api/v2",
        Indicator(T.IPV4, abuse_emu.BAD_IP),
        Indicator(T.IPV6, "2001:db8::1"),
        Status.OK,  # AbuseIPDB answers every address; never-reported ones score 0
        Status.QUOTA_EXCEEDED,  # its only 429 is the daily limit
        abuse_emu.RESET_IN,
    ),
    Case(
        "greynoise",
        GreyNoiseCommunity,
        gn_emu.greynoise_app,
        gn_emu.API_KEY,
        "",
        Indicator(T.IPV4, gn_emu.BAD_IP),
        Indicator(T.IPV4, "198.51.100.77"),
        Status.NOT_FOUND,
        Status.QUOTA_EXCEEDED,  # the community plan's weekly allowance
        gn_emu.RESET_IN,
    ),
    Case(
        "greynoise-enterprise",
        GreyNoiseEnterprise,
        gn_emu.greynoise_app,
        gn_emu.API_KEY,
        "",
        Indicator(T.IPV4, gn_emu.BAD_IP),
        Indicator(T.IPV4, "198.51.100.77"),
        Status.NOT_FOUND,
        Status.RATE_LIMITED,
        1.0,
    ),
    Case(
        "otx",
        OTX,
        otx_emu.otx_app,
        otx_emu.API_KEY,
        "/api/v1",
        Indicator(T.IPV4, otx_emu.BAD_IP),
        Indicator(T.IPV4, "198.51.100.3"),
        Status.OK,  # OTX answers never-seen indicators with zero pulses
        Status.RATE_LIMITED,
        otx_emu.RETRY_AFTER,
    ),
    Case(
        "shodan",
        Shodan,
        shodan_emu.shodan_app,
        shodan_emu.API_KEY,
        "",
        Indicator(T.IPV4, shodan_emu.VULNERABLE_IP),
        Indicator(T.IPV4, "198.51.100.99"),
        Status.NOT_FOUND,
        Status.RATE_LIMITED,
        1.0,
    ),
]
BY_NAME = {c.name: c for c in CASES}


@dataclass
class Running:
    """A started emulator with its app and case."""

    case: Case
    app: FastAPI
    srv: EmulatorServer

    def provider(self, key: str | None = "", **overrides: Any) -> HttpProvider:
        """The provider pointed at this emulator; ``key=""`` means the right key."""
        return configured(
            self.case.provider,
            self.srv.base_url + self.case.prefix,
            None if key is None else key or self.case.api_key,
            **{"timeout": 5.0, **self.case.config, **overrides},
        )


def start(emulators: Emulators, case: Case) -> Running:
    """``case``'s emulator, started on first use; faults, limits and quota reset."""
    srv = emulators.get(case.name, lambda: case.app(case.api_key))
    srv.hang_seconds = 2.0
    srv.huge_bytes = 64 << 10
    srv.retry_after = 7
    app = emulators.apps[case.name]
    app.state.quota.reset()
    return Running(case, app, srv)
