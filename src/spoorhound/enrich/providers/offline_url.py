"""``url``: the structure of a URL — features for scoring, and the host pivot.

Attributes: ``scheme``, ``host``, ``host_type`` (``domain``, ``ipv4`` or ``ipv6``),
``ip_host`` (an IP literal instead of a name), ``port`` (explicit port or None),
``non_standard_port`` (a port other than the scheme's default and other than
80/443/8080/8443), ``userinfo`` (an ``@`` in the authority — ``http://paypal.com@evil``
shows the victim one host and connects to another), ``length``, ``path_depth``,
``query_params``, ``extension`` (of the last path segment, lower case),
``executable`` (the extension is one that runs or installs: exe, dll, scr, ps1, apk…),
``suspicious_tokens`` (login, verify, account, secure, update, wp-admin, wp-includes,
gate.php, admin, webscr, signin, banking, ``.php?`` — words that phishing kits and
panels use; they appear in honest URLs too, so they are a feature, not a verdict),
``encoded`` (percent-escapes in path or query), ``double_slash`` (``//`` inside the
path, a redirect trick).

Pivot: ``hosted-on`` to the host as a ``domain``, ``ipv4`` or ``ipv6`` indicator.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import (
    EnrichmentResult,
    OfflineProvider,
    Related,
    Status,
    Verdict,
)
from spoorhound.enrich.providers.offline_data import split_url

__all__ = ["SUSPICIOUS_TOKENS", "UrlProvider"]

SUSPICIOUS_TOKENS = (
    "login",
    "logon",
    "signin",
    "verify",
    "account",
    "secure",
    "update",
    "confirm",
    "banking",
    "webscr",
    "password",
    "wp-admin",
    "wp-includes",
    "wp-content",
    "admin",
    "gate.php",
    "panel",
    ".php?",
)
_DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "ftp": 21,
    "ftps": 990,
    "sftp": 22,
    "tftp": 69,
    "ws": 80,
    "wss": 443,
    "smb": 445,
    "ldap": 389,
    "ldaps": 636,
    "rmi": 1099,
    "irc": 6667,
}
_COMMON_PORTS = frozenset({80, 443, 8080, 8443})
_EXECUTABLE_WORDS = (
    "exe dll scr com pif bat cmd ps1 psm1 vbs vbe js jse wsf hta msi msix appx apk jar "
    "lnk iso img vhd elf sh bin dmg pkg deb rpm"
)
_EXECUTABLE = frozenset(_EXECUTABLE_WORDS.split())


def _features(url: str) -> dict[str, Any] | None:
    parts = split_url(url)
    if parts is None:
        return None
    host = parts.hostname or ""
    port = parts.port
    scheme = parts.scheme
    path = parts.path
    query = parts.query
    if ":" in host:
        host_type = "ipv6"
    elif host.rpartition(".")[2].isdigit():
        host_type = "ipv4"
    else:
        host_type = "domain"
    segments = [s for s in path.split("/") if s]
    last = segments[-1] if segments else ""
    dot = last.rfind(".")
    ext = last[dot + 1 :].lower() if dot > 0 else ""
    low = url.lower()
    default = _DEFAULT_PORTS.get(scheme)
    return {
        "scheme": scheme,
        "host": host,
        "host_type": host_type,
        "ip_host": host_type != "domain",
        "port": port,
        "non_standard_port": port is not None and port != default and port not in _COMMON_PORTS,
        "userinfo": "@" in parts.netloc,
        "length": len(url),
        "path_depth": len(segments),
        "query_params": len([p for p in query.split("&") if p]) if query else 0,
        "extension": ext or None,
        "executable": ext in _EXECUTABLE,
        "suspicious_tokens": [t for t in SUSPICIOUS_TOKENS if t in low],
        "encoded": "%" in path or "%" in query,
        "double_slash": "//" in path,
    }


class UrlProvider(OfflineProvider):
    """Scheme, host type, port, path depth, query size, extension and phishing tokens."""

    name: ClassVar[str] = "url"
    title: ClassVar[str] = "URL structure"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.URL})
    cache_ttl: ClassVar[int] = 30 * 86_400

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """Take every accepted URL apart."""
        now = int(time.time())
        out: list[EnrichmentResult] = []
        for ind in indicators:
            if ind.type is not IndicatorType.URL:
                continue
            attrs = _features(ind.value)
            if attrs is None:
                out.append(
                    EnrichmentResult(
                        provider=self.name,
                        indicator=ind,
                        status=Status.NOT_FOUND,
                        error="unparsable URL",
                        fetched_at=now,
                    )
                )
                continue
            related: tuple[Related, ...] = ()
            host = attrs["host"]
            if host:
                related = (Related("hosted-on", _HOST_TYPES[attrs["host_type"]], host),)
            tags: list[str] = []
            if attrs["ip_host"]:
                tags.append("url:ip-host")
            if attrs["userinfo"]:
                tags.append("url:userinfo")
            if attrs["non_standard_port"]:
                tags.append("url:odd-port")
            if attrs["executable"]:
                tags.append("url:executable")
            out.append(
                EnrichmentResult(
                    provider=self.name,
                    indicator=ind,
                    status=Status.OK,
                    verdict=Verdict.UNKNOWN,
                    score=None,
                    tags=tuple(tags),
                    attributes=attrs,
                    related=related,
                    fetched_at=now,
                )
            )
        return out


_HOST_TYPES = {
    "domain": IndicatorType.DOMAIN,
    "ipv4": IndicatorType.IPV4,
    "ipv6": IndicatorType.IPV6,
}
