"""``warninglists``: membership in the MISP warninglists (known-benign and context lists).

Lookups go through :class:`spoorhound.reference.warninglists.SafelistIndex` (a
compact index over the ``pymispwarninglists`` data; microseconds per lookup), built
once per process or read from ``cache_dir``.

A warninglist hit means "this is often a false positive", which is not the same as
"this is safe". Three groups, and what each yields:

* **Strong lists** give verdict ``benign`` with score 10 (confidently benign, never
  0: a well-known site can still be compromised):

  - domains whose *registered domain* (Public Suffix List, private section
    included) is itself on a top-sites list (``tranco10k``, ``cisco_top1000``,
    ``cisco_top5k``, ``cisco_top10k``, ``moz-top500``, ``alexa``) or a vendor's own
    list (``google``, ``microsoft``, ``microsoft-office365``,
    ``microsoft-win10-connection-endpoints``). Exact, not by suffix, so
    ``evil.blogspot.com`` (its own registered domain) does not inherit Blogger's rank;
  - hashes on a known-benign hash list (``empty-hashes``, ``nioc-filehash``,
    ``mozilla-CA``, ``mozilla-IntermediateCA``, ``common-ioc-false-positive``,
    ``ti-falsepositives``).

  URLs, e-mail addresses and IPs are never called benign here: a phishing page on
  ``docs.google.com`` or a C2 in a cloud range is the rule, not the exception.
* **Context lists** say what something *is* without making it less interesting, so
  they add the tag ``warninglist:<name>`` but not ``safelisted``: dynamic DNS,
  disposable e-mail, URL shorteners, parking, sinkholes, link-in-bio and LOTS
  (living-off-trusted-sites) domains, IPFS gateways, "what is my IP" services, VPN
  ranges, cloud and CDN ranges, scanners, malware-analysis services, the EICAR test
  file, attack simulators, and the TLD lists.
* **Every other list** (``tranco``'s million, public DNS resolvers, RFC ranges,
  universities, banks…) adds the tag ``safelisted`` and verdict ``unknown`` —
  except where a hostname list only matched the *hosting platform*: a name under a
  multi-label public suffix (``evil.blogspot.com``, ``x.duckdns.org``) inherits
  hits on ``blogspot.com`` through suffix matching, and those are reported in
  ``platform_warninglists`` without making the name ``safelisted``.

Attribute ``warninglists`` lists every matching list by name; no match is
``not_found``.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import EnrichmentResult, OfflineProvider, Status, Verdict
from spoorhound.enrich.providers.offline_data import (
    OfflineDataConfig,
    host_of,
    safelist_index,
    split_host,
)
from spoorhound.reference.warninglists import warninglists_dir

__all__ = [
    "BENIGN_SCORE",
    "CONTEXT_LISTS",
    "STRONG_DOMAIN_LISTS",
    "STRONG_HASH_LISTS",
    "WarninglistsProvider",
    "is_context_list",
]

#: Score of a ``benign`` verdict from a strong list (0 = surely benign, 100 = surely bad).
BENIGN_SCORE = 10

STRONG_DOMAIN_LISTS = frozenset(
    {
        "tranco10k",
        "cisco_top1000",
        "cisco_top5k",
        "cisco_top10k",
        "moz-top500",
        "alexa",
        "google",
        "microsoft",
        "microsoft-office365",
        "microsoft-win10-connection-endpoints",
    }
)
STRONG_HASH_LISTS = frozenset(
    {
        "empty-hashes",
        "nioc-filehash",
        "mozilla-CA",
        "mozilla-IntermediateCA",
        "common-ioc-false-positive",
        "ti-falsepositives",
    }
)
CONTEXT_LISTS = frozenset(
    {
        "automated-malware-analysis",
        "captive-portals",
        "check-host-net",
        "disposable-email",
        "dynamic-dns",
        "eicar.com",
        "findip-host",
        "link-in-bio",
        "lots-project",
        "microsoft-attack-simulator",
        "parking-domain",
        "parking-domain-ns",
        "public-ipfs-gateways",
        "second-level-tlds",
        "sinkholes",
        "tlds",
        "url-shortener",
        "vpn-ipv4",
        "vpn-ipv6",
        "whats-my-ip",
        # cloud and CDN ranges: attackers rent there too
        "akamai",
        "amazon-aws",
        "apple",
        "cloudflare",
        "fastly",
        "github",
        "google-gcp",
        "microsoft-azure",
        "microsoft-azure-china",
        "microsoft-azure-germany",
        "microsoft-azure-us-gov",
        "ovh-cluster",
        "stackpath",
        "zscaler",
    }
)
_HASH_TYPES = frozenset(
    {IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256, IndicatorType.SHA512}
)
_HOST_TYPES = frozenset({IndicatorType.DOMAIN, IndicatorType.URL, IndicatorType.EMAIL})


def is_context_list(name: str) -> bool:
    """Whether a list describes what a value is rather than vouching for it."""
    return name in CONTEXT_LISTS or name.endswith(("-scanning", "-scanner"))


@functools.cache
def _strong_domains() -> frozenset[str]:
    """Exact entries of the strong domain lists (about 30,000 names, read once)."""
    names: set[str] = set()
    root = warninglists_dir()
    for name in STRONG_DOMAIN_LISTS:
        path = root / name / "list.json"
        if not path.exists():
            continue
        with path.open("rb") as fh:
            data: dict[str, Any] = json.load(fh)
        names.update(str(e).strip().strip(".").lower() for e in data.get("list", []))
    return frozenset(names)


class WarninglistsProvider(OfflineProvider):
    """Which MISP warninglists flag an indicator; ``benign`` only for strong lists."""

    name: ClassVar[str] = "warninglists"
    title: ClassVar[str] = "MISP warninglists"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {
            IndicatorType.IPV4,
            IndicatorType.IPV6,
            IndicatorType.CIDR,
            IndicatorType.DOMAIN,
            IndicatorType.URL,
            IndicatorType.EMAIL,
            *_HASH_TYPES,
            IndicatorType.SSDEEP,
            IndicatorType.TLSH,
            IndicatorType.IMPHASH,
        }
    )
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[OfflineDataConfig]] = OfflineDataConfig

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """Look every accepted indicator up in the warninglist index."""
        cfg = self.config
        index = safelist_index(cfg.cache_dir if isinstance(cfg, OfflineDataConfig) else None)
        matches = index.matches
        now = int(time.time())
        out: list[EnrichmentResult] = []
        types = self.types
        for ind in indicators:
            t = ind.type
            if t not in types:
                continue
            names = matches(t.value, ind.value)
            if not names:
                out.append(
                    EnrichmentResult(
                        provider=self.name, indicator=ind, status=Status.NOT_FOUND, fetched_at=now
                    )
                )
                continue
            verdict, score = _verdict(ind, names)
            attrs: dict[str, Any] = {"warninglists": names}
            vouching = [n for n in names if not is_context_list(n)]
            if vouching and t in _HOST_TYPES:
                platform = _platform_lists(matches, ind)
                on_platform = [n for n in names if n in platform]
                if on_platform:
                    attrs["platform_warninglists"] = on_platform
                    vouching = [n for n in vouching if n not in platform]
            tags = [f"warninglist:{n}" for n in names]
            if vouching:
                tags.append("safelisted")
            out.append(
                EnrichmentResult(
                    provider=self.name,
                    indicator=ind,
                    status=Status.OK,
                    verdict=verdict,
                    score=score,
                    tags=tuple(tags),
                    attributes=attrs,
                    fetched_at=now,
                )
            )
        return out


def _platform_lists(matches: Callable[[str, str], list[str]], ind: Indicator) -> set[str]:
    """Lists that flag the hosting platform (a multi-label public suffix such as
    ``blogspot.com`` or ``duckdns.org``) rather than this registrant.

    Hostname lists match parent domains, so ``evil.blogspot.com`` hits ``tranco``
    through ``blogspot.com``; that rank belongs to Blogger, not to whoever
    registered ``evil``, so it must not make the name ``safelisted``.
    """
    host, is_ip = host_of(ind)
    if not host or is_ip:
        return set()
    suffix = split_host(host).suffix
    return set(matches("domain", suffix)) if "." in suffix else set()


def _verdict(ind: Indicator, names: list[str]) -> tuple[Verdict, int | None]:
    t = ind.type
    if t in _HASH_TYPES:
        if any(n in STRONG_HASH_LISTS for n in names):
            return Verdict.BENIGN, BENIGN_SCORE
    elif t is IndicatorType.DOMAIN and any(n in STRONG_DOMAIN_LISTS for n in names):
        host, _ = host_of(ind)
        registered = split_host(host).registered
        if registered is not None and registered in _strong_domains():
            return Verdict.BENIGN, BENIGN_SCORE
    return Verdict.UNKNOWN, None
