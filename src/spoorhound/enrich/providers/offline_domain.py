"""``domain``: the structure of a DNS name, from the offline Public Suffix List.

For a domain the name itself, for a URL its host, for an e-mail address its domain
part. Attributes: ``host``, ``registered_domain`` (PSL, private section included, so
``evil.github.io`` is its own registered domain), ``public_suffix``, ``tld``,
``subdomain`` and ``subdomain_depth``, ``label_count``, ``longest_label``,
``is_public_suffix`` (the name *is* a suffix, e.g. ``co.uk``), ``platform`` (the
suffix comes from the PSL's private section: a hosting or dynamic-DNS platform such
as ``blogspot.com``), ``is_idn`` and, for IDNs, ``unicode`` (the U-label form).

Pivot: ``registered-domain`` to the registered domain when it differs from the
value. URLs whose host is an IP address are ``not_found``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import idna
from publicsuffixlist import PublicSuffixList

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    OfflineProvider,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers.offline_data import host_of, split_host

__all__ = ["DomainProvider", "to_unicode"]


@functools.cache
def _icann() -> PublicSuffixList:
    """The PSL's ICANN section alone, to tell platform suffixes from registry ones."""
    return PublicSuffixList(only_icann=True)


@functools.lru_cache(maxsize=4096)
def _is_platform(host: str, suffix: str) -> bool:
    return _icann().publicsuffix(host) != suffix


@functools.lru_cache(maxsize=1 << 14)
def to_unicode(host: str) -> str | None:
    """The U-label form of an IDN host, or None if it does not decode."""
    try:
        return idna.decode(host)
    except (idna.IDNAError, UnicodeError):
        return None


def describe_host(host: str) -> dict[str, Any]:
    """Structural attributes of a canonical host name (see the module docstring)."""
    parts = split_host(host)
    labels = host.split(".")
    sub = parts.subdomain
    attrs: dict[str, Any] = {
        "host": host,
        "registered_domain": parts.registered,
        "public_suffix": parts.suffix,
        "tld": labels[-1],
        "subdomain": sub,
        "subdomain_depth": sub.count(".") + 1 if sub else 0,
        "label_count": len(labels),
        "longest_label": max(map(len, labels)),
        "is_public_suffix": parts.registered is None,
        # Multi-label suffixes only: every private-section rule has a dot.
        "platform": "." in parts.suffix and _is_platform(host, parts.suffix),
        "is_idn": "xn--" in host,
    }
    if attrs["is_idn"]:
        attrs["unicode"] = to_unicode(host)
    return attrs


class DomainProvider(OfflineProvider):
    """Registered domain, public suffix, subdomain depth and IDN-ness of a name."""

    name: ClassVar[str] = "domain"
    title: ClassVar[str] = "Domain structure (Public Suffix List)"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {IndicatorType.DOMAIN, IndicatorType.URL, IndicatorType.EMAIL}
    )
    cache_ttl: ClassVar[int] = 30 * 86_400

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """Split every accepted name (or URL / e-mail host) with the PSL."""
        now = int(time.time())
        out: list[EnrichmentResult] = []
        types = self.types
        for ind in indicators:
            if ind.type not in types:
                continue
            host, is_ip = host_of(ind)
            if not host or is_ip:
                out.append(
                    EnrichmentResult(
                        provider=self.name,
                        indicator=ind,
                        status=Status.NOT_FOUND,
                        attributes={"reason": "no domain name (IP literal or no host)"},
                        fetched_at=now,
                    )
                )
                continue
            attrs = describe_host(host)
            registered = attrs["registered_domain"]
            related: tuple[Related, ...] = ()
            if registered is not None and registered != ind.value:
                related = (Related("registered-domain", IndicatorType.DOMAIN, registered),)
            tags = ("domain:idn",) if attrs["is_idn"] else ()
            if attrs["platform"]:
                tags = (*tags, "domain:platform")
            out.append(
                EnrichmentResult(
                    provider=self.name,
                    indicator=ind,
                    status=Status.OK,
                    verdict=Verdict.UNKNOWN,
                    score=None,
                    tags=tags,
                    attributes=attrs,
                    related=related,
                    fetched_at=now,
                )
            )
        return out
