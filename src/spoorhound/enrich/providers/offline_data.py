"""Reference data shared by the offline providers, each loaded once, lazily.

Nothing here is read at import time: the Public Suffix List, the warninglist index
and the GeoIP tables are built on the first call that needs them and kept for the
life of the process (``functools.cache``). Several providers share them (``domain``,
``lexical`` and ``url`` split hosts with the same PSL; ``warninglists`` and ``hash``
query the same index), so one copy serves all.

Host splitting is memoised with a cache larger than an enrichment batch, so when the
runner hands the same batch to ``domain`` and then ``lexical``, the second provider
finds every split already made.
"""

from __future__ import annotations

import functools
import gc
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit

from publicsuffixlist import PublicSuffixList

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import ProviderConfig
from spoorhound.reference.warninglists import SafelistIndex

__all__ = [
    "GEOIP_DATA_FILE",
    "HostParts",
    "OfflineDataConfig",
    "geoip",
    "host_of",
    "psl",
    "safelist_index",
    "split_host",
    "split_url",
]

#: Country + ASN, IPv4 + IPv6, in one file. geoip2fast keeps its tables in module
#: globals, so two ``GeoIP2Fast`` objects with different files in one process would
#: silently share the last one loaded; one combined file avoids that trap.
GEOIP_DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"

#: Bigger than the runner's batch (10,000), so consecutive providers share splits.
_SPLIT_CACHE = 1 << 16


class OfflineDataConfig(ProviderConfig):
    """Settings of an offline provider that keeps derived data on disk.

    ``cache_dir`` holds built indexes between runs; None builds them in memory each
    time. :func:`spoorhound.enrich.config.load_configs` defaults it to
    ``<data dir>/cache``.
    """

    cache_dir: Path | None = None


_T = TypeVar("_T")


def _keep(data: _T) -> _T:
    """Move ``data`` (with everything else alive now) out of the cyclic garbage
    collector's way: it lives as long as the process, and every full collection
    would otherwise walk its hundreds of thousands of objects again, which cost
    the runner a quarter of its CPU. Objects are still freed by reference counting."""
    gc.freeze()
    return data


@functools.cache
def psl() -> PublicSuffixList:
    """The offline Public Suffix List (ICANN and private sections), parsed once.

    The private section matters for threat intelligence: ``evil.blogspot.com`` and
    ``evil.github.io`` are registered by whoever made them, not by Google or GitHub.
    """
    return _keep(PublicSuffixList())


#: The runner enriches several ranges at once (one worker thread each): without a
#: lock, each thread that found the cache empty loaded its own copy (the GeoIP data
#: four times over at the start of every job, ~1 s of CPU each).
_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _safelist_index(cache_dir: str | None) -> SafelistIndex:
    return _keep(SafelistIndex.load(cache_dir=cache_dir))


def safelist_index(cache_dir: str | os.PathLike[str] | None = None) -> SafelistIndex:
    """The warninglist index over every list, built once per ``cache_dir``."""
    with _LOAD_LOCK:
        return _safelist_index(None if cache_dir is None else os.fspath(cache_dir))


@functools.cache
def _geoip() -> Any:
    # Imported here, not at module level: importing geoip2fast costs ~140 ms (it pulls
    # in ctypes, urllib and more), and most processes never look an address up.
    from geoip2fast import GeoIP2Fast

    return _keep(GeoIP2Fast(geoip2fast_data_file=GEOIP_DATA_FILE, verbose=False))


def geoip() -> Any:
    """The geoip2fast database (country and ASN, IPv4 and IPv6), loaded once (~0.3 s)
    however many threads ask for it first."""
    with _LOAD_LOCK:
        return _geoip()


@dataclass(frozen=True, slots=True)
class HostParts:
    """A DNS name split by the Public Suffix List."""

    host: str
    suffix: str  # public suffix, e.g. ``co.uk``
    registered: str | None  # registered domain, e.g. ``example.co.uk``; None for a suffix
    subdomain: str  # what is left of the registered domain, e.g. ``www.mail``


@functools.lru_cache(maxsize=_SPLIT_CACHE)
def split_host(host: str) -> HostParts:
    """Split a canonical (lower-case A-label) host name into suffix, registered, subdomain."""
    suffix = psl().publicsuffix(host) or host.rpartition(".")[2]
    if suffix == host:
        return HostParts(host, suffix, None, "")
    head = host[: -len(suffix) - 1]
    dot = head.rfind(".")
    label = head[dot + 1 :]
    return HostParts(host, suffix, f"{label}.{suffix}", head[:dot] if dot >= 0 else "")


def host_of(indicator: Indicator) -> tuple[str, bool]:
    """The host an indicator names and whether it is an IP literal.

    A domain is its own host, an e-mail its domain part, a URL its authority's host
    (brackets of an IPv6 literal removed). An empty host means there is none.
    """
    t = indicator.type
    v = indicator.value
    if t is IndicatorType.DOMAIN:
        return v, False
    if t is IndicatorType.EMAIL:
        return v.rpartition("@")[2], False
    return _url_host(v)


@functools.lru_cache(maxsize=_SPLIT_CACHE)
def split_url(url: str) -> SplitResult | None:
    """``urlsplit`` of a URL, memoised (``domain``, ``lexical`` and ``url`` all need
    it for the same batch); None if it does not parse."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port; fail here, once
    except ValueError:
        return None
    return parts


def _url_host(url: str) -> tuple[str, bool]:
    parts = split_url(url)
    host = (parts.hostname or "") if parts is not None else ""
    return host, _is_ip_literal(host)


def _is_ip_literal(host: str) -> bool:
    if ":" in host:
        return True
    last = host.rpartition(".")[2]
    return last.isdigit()  # a real TLD is never all digits
