"""The SSRF guard of the active probe: which addresses Spoorhound may connect to, and how.

An analyst submits a value; the probe then connects to it. Without a guard that is
a server-side request forgery tool aimed at the server's own network: the cloud
metadata service, the database, an admin panel on loopback. :class:`NetGuard`:

* **refuses** every address that is not globally routable — loopback, private
  (RFC 1918, IPv6 ULA), link-local, carrier-grade NAT (100.64.0.0/10), multicast,
  unspecified, reserved and documentation ranges, IPv4 embedded in IPv6
  (``::ffff:127.0.0.1``, 6to4, NAT64) judged by the embedded address — unless an
  administrator's allow-range (``allow``) contains it;
* **always refuses** the cloud metadata endpoints (:data:`METADATA_ADDRESSES`),
  even inside an allow-range: no probe has a reason to read instance credentials;
* **resolves once and pins**: :meth:`NetGuard.resolve` returns the checked
  addresses and the caller connects to one of them (never to the name again), so
  a DNS answer that changes between the check and the connection (DNS rebinding)
  cannot move the connection. A name with *any* refused address is refused;
* re-checks **every redirect hop** (the probe calls :meth:`NetGuard.target` for
  each ``Location``).

Every refusal is a :class:`Refused` whose message names the address and the reason.
Resolution uses dnspython (``nameservers``/``port`` select the resolver; tests point
it at a local DNS server). Nothing happens at import time.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import dns.exception
import dns.inet
import dns.resolver
import httpx

__all__ = [
    "METADATA_ADDRESSES",
    "Fetched",
    "Hop",
    "IPAddress",
    "IPNetwork",
    "NetGuard",
    "Refused",
    "Target",
    "classify",
    "fetch",
    "parse_ranges",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Cloud instance metadata services (AWS, GCP, Azure, OpenStack, DigitalOcean: the
#: link-local one; AWS over IPv6; Alibaba; Oracle's legacy address).
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The guard refused a destination; the message says which and why."""


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public destination (``"loopback"``, ``"private"``…), or None."""
    if ip in METADATA_ADDRESSES:
        return "cloud metadata service"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            why = classify(inner)
            return None if why is None else f"{why} (IPv4 {inner} inside IPv6)"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    for hit, why in checks:
        if hit:
            return why
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """One checked destination: the URL as given, its host and port, and the pinned addresses."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]

    @property
    def ip(self) -> IPAddress:
        """The address to connect to (the first checked one)."""
        return self.addresses[0]


@dataclass(frozen=True, slots=True)
class NetGuard:
    """Decides which destinations the probe may reach; see the module docstring.

    ``allow``: administrator allow-ranges (e.g. ``10.20.0.0/16`` for an internal
    sandbox, or ``127.0.0.1/32`` in tests). ``nameservers``/``port``: the DNS
    resolver (default: the system's). ``timeout``: seconds per resolution.
    """

    allow: tuple[IPNetwork, ...] = ()
    nameservers: tuple[str, ...] = ()
    port: int = 53
    timeout: float = 5.0
    schemes: frozenset[str] = field(default_factory=lambda: frozenset({"http", "https"}))

    @classmethod
    def build(
        cls,
        allow: Iterable[str] = (),
        *,
        nameservers: Iterable[str] = (),
        port: int = 53,
        timeout: float = 5.0,
    ) -> NetGuard:
        """A guard from allow-range texts (``"10.0.0.0/8"``, ``"192.0.2.7"``)."""
        return cls(
            allow=parse_ranges([a for a in allow if a.strip()]),
            nameservers=tuple(nameservers),
            port=port,
            timeout=timeout,
        )

    def resolver(self) -> dns.resolver.Resolver:
        """A dnspython resolver for this guard's settings."""
        if self.nameservers:
            r = dns.resolver.Resolver(configure=False)
            r.nameservers = list(self.nameservers)
            r.port = self.port
        else:
            r = dns.resolver.Resolver()
        r.lifetime = self.timeout
        r.timeout = self.timeout
        return r

    def check(self, ip: IPAddress, host: str | None = None) -> None:
        """Raise :class:`Refused` unless ``ip`` may be contacted."""
        what = f"{host} ({ip})" if host and host != str(ip) else str(ip)
        if ip in METADATA_ADDRESSES:
            raise Refused(f"refused {what}: cloud metadata service (never probed)")
        why = classify(ip)
        if why is None:
            return
        if any(ip.version == n.version and ip in n for n in self.allow):
            return
        raise Refused(f"refused {what}: {why} address (no allow-range permits it)")

    def resolve(self, host: str) -> tuple[IPAddress, ...]:
        """The checked addresses of ``host`` (an IP literal or a DNS name), resolved once.

        Refused when the name does not resolve or when any of its addresses is refused.
        """
        host = host.strip("[]").rstrip(".")
        if dns.inet.is_address(host):
            ip = ipaddress.ip_address(host.split("%", 1)[0])
            self.check(ip)
            return (ip,)
        if not host:
            raise Refused("refused: no host name")
        found: list[IPAddress] = []
        r = self.resolver()
        for rdtype in ("A", "AAAA"):
            try:
                answer = r.resolve(host, rdtype, search=False)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            except dns.exception.DNSException as e:
                raise Refused(
                    f"refused {host}: DNS resolution failed ({type(e).__name__})"
                ) from None
            found.extend(ipaddress.ip_address(rd.to_text()) for rd in answer)
        if not found:
            raise Refused(f"refused {host}: the name does not resolve")
        for ip in found:
            self.check(ip, host)
        return tuple(dict.fromkeys(found))

    def target(self, url: str) -> Target:
        """Check ``url``'s scheme and host and pin its addresses; raise :class:`Refused`."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as e:
            raise Refused(f"refused {url!r}: not a valid URL ({e})") from None
        scheme = parts.scheme.lower()
        if scheme not in self.schemes:
            raise Refused(f"refused {url!r}: scheme {scheme or 'none'!r} (only http and https)")
        host = parts.hostname or ""
        if parts.username or parts.password:
            raise Refused(f"refused {url!r}: credentials in the URL")
        port = port or (443 if scheme == "https" else 80)
        return Target(url, scheme, host, port, self.resolve(host))


def parse_ranges(texts: Sequence[str]) -> tuple[IPNetwork, ...]:
    """Allow-ranges from texts; raises ValueError naming a bad one."""
    out = []
    for t in texts:
        try:
            out.append(ipaddress.ip_network(t.strip(), strict=False))
        except ValueError as e:
            raise ValueError(f"bad allow-range {t!r}: {e}") from None
    return tuple(out)


# -- fetching through the guard -------------------------------------------------------

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of a redirect chain: where it went (URL and pinned address) and the answer."""

    url: str
    ip: str
    status: int
    headers: dict[str, str]
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of :func:`fetch`: every hop, the last body (capped) and why it stopped early."""

    hops: list[Hop]
    body: bytes = b""
    truncated: bool = False
    error: str | None = None

    @property
    def final(self) -> Hop | None:
        """The last hop that answered, if any."""
        return self.hops[-1] if self.hops else None


def _pinned(t: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with the host replaced by the checked address, the Host header, extensions."""
    parts = urlsplit(t.url)
    ip = f"[{t.ip}]" if t.ip.version == 6 else str(t.ip)
    default = 443 if t.scheme == "https" else 80
    netloc = ip if t.port == default else f"{ip}:{t.port}"
    url = urlunsplit((t.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = t.host if t.port == default else f"{t.host}:{t.port}"
    if ":" in t.host:
        host_header = f"[{t.host}]" if t.port == default else f"[{t.host}]:{t.port}"
    ext = (
        {"sni_hostname": t.host} if t.scheme == "https" and not dns.inet.is_address(t.host) else {}
    )
    return url, {"Host": host_header}, ext


def _headers(resp: httpx.Response, limit: int = 100) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in list(resp.headers.multi_items())[:limit]:
        k = k.lower()
        out[k] = f"{out[k]}, {v[:2000]}" if k in out else v[:2000]
    return out


def fetch(
    guard: NetGuard,
    method: str,
    url: str,
    *,
    max_redirects: int = 5,
    timeout: float = 10.0,
    max_bytes: int = 1 << 20,
    user_agent: str = "Spoorhound-probe/1",
) -> Fetched:
    """``method`` ``url`` through ``guard``, following up to ``max_redirects`` redirects.

    Each hop is checked and pinned (:meth:`NetGuard.target`), connected to by address
    with the original ``Host`` and TLS SNI, certificates *not* verified (a probe must
    see a bad certificate's site too; :func:`spoorhound.services.analyze` reports
    validity separately), proxies from the environment ignored (a proxy would connect
    to the name itself). The body of the last hop is read up to ``max_bytes``;
    ``timeout`` bounds the whole chain. A refused hop, a network failure or too many
    redirects end the chain with ``error`` set; earlier hops are kept.
    """
    hops: list[Hop] = []
    deadline = time.monotonic() + timeout
    with httpx.Client(verify=False, trust_env=False, follow_redirects=False) as client:
        for _ in range(max_redirects + 1):
            try:
                target = guard.target(url)
            except Refused as e:
                return Fetched(hops, error=str(e) if not hops else f"redirect {e}")
            pinned, headers, ext = _pinned(target)
            left = deadline - time.monotonic()
            if left <= 0:
                return Fetched(hops, error=f"timed out after {timeout:g} s")
            req = client.build_request(
                method,
                pinned,
                headers={**headers, "User-Agent": user_agent, "Accept": "*/*"},
                extensions=ext,
                timeout=httpx.Timeout(left),
            )
            body = bytearray()
            truncated = False
            try:
                resp = client.send(req, stream=True)
                try:
                    if method != "HEAD" and resp.status_code not in _REDIRECTS:
                        for chunk in resp.iter_bytes():
                            body.extend(chunk)
                            if len(body) > max_bytes or time.monotonic() > deadline:
                                truncated = True
                                break
                finally:
                    resp.close()
            except httpx.TimeoutException:
                return Fetched(hops, error=f"{url}: timed out after {timeout:g} s")
            except httpx.HTTPError as e:
                return Fetched(hops, error=f"{url}: {type(e).__name__}: {e}")
            location = resp.headers.get("location")
            hop = Hop(url, str(target.ip), resp.status_code, _headers(resp), location)
            hops.append(hop)
            if resp.status_code not in _REDIRECTS or not location:
                return Fetched(hops, bytes(body[:max_bytes]), truncated)
            url = urljoin(url, location)
    return Fetched(hops, error=f"more than {max_redirects} redirects")
