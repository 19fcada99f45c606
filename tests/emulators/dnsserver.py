"""A tiny authoritative DNS server on 127.0.0.1 (UDP and TCP, one random port), in threads.

Built on dnspython's message parsing. It answers A/AAAA/MX/NS/TXT/CNAME from a dict
zone (PTR too), follows a CNAME inside the zone, answers NODATA (with SOA) for a known name
without that type and NXDOMAIN for unknown names. Over UDP an answer larger than 512
bytes (or the query's EDNS payload) is sent truncated (TC) so the client retries over
TCP. Names listed in ``hang`` are never answered; names in ``servfail`` get SERVFAIL.

    with DnsServer(ZONE) as srv:
        srv.port, srv.queries   # [(transport, name, type)]
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

ORIGIN = "example.net"
SOA = "ns1.example.net. hostmaster.example.net. 2024060101 3600 600 86400 300"

#: name → type → rdata texts
ZONE: dict[str, dict[str, list[str]]] = {
    "www.example.net": {
        "A": ["192.0.2.1", "192.0.2.2"],
        "AAAA": ["2001:db8::1"],
        "MX": ["10 mail.example.net.", "20 mx2.example.org."],
        "NS": ["ns1.example.net.", "ns2.example.net."],
        "TXT": ['"v=spf1 -all"'],
    },
    "alias.example.net": {"CNAME": ["www.example.net."]},
    "mail.example.net": {"A": ["192.0.2.25"]},
    "textonly.example.net": {"TXT": ['"hello" " world"']},
    # Reverse (PTR) records: 192.0.2.1 and 2001:db8::1 → www.example.net; 192.0.2.2
    # has two names; 192.0.2.99 has a reverse zone entry without PTR (NODATA).
    "1.2.0.192.in-addr.arpa": {"PTR": ["www.example.net."]},
    "2.2.0.192.in-addr.arpa": {"PTR": ["www.example.net.", "web.example.org."]},
    "99.2.0.192.in-addr.arpa": {"TXT": ['"no ptr here"']},
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa": {
        "PTR": ["www.example.net."]
    },
    # More than 512 bytes of TXT: truncated over UDP, complete over TCP.
    "big.example.net": {
        "A": ["192.0.2.9"],
        "TXT": [f'"{"k" * 200}-{n}"' for n in range(6)],
    },
}


class DnsServer:
    """Serve ``zone`` on a free loopback port until the context exits."""

    def __init__(
        self,
        zone: dict[str, dict[str, list[str]]] | None = None,
        hang: frozenset[str] = frozenset({"hang.example.net"}),
        servfail: frozenset[str] = frozenset({"servfail.example.net"}),
    ) -> None:
        self.zone = {k.lower(): v for k, v in (zone if zone is not None else ZONE).items()}
        self.hang, self.servfail = hang, servfail
        self.queries: list[tuple[str, str, str]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.udp, self.tcp, self.port = _bind_pair()

    def __enter__(self) -> DnsServer:
        for target in (self._serve_udp, self._serve_tcp):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()  # the loops poll it: closing a socket does not wake a blocked call
        for t in self._threads:
            t.join(timeout=5)
        self.udp.close()
        self.tcp.close()

    # --- answering ---------------------------------------------------------------------

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The response to one query in wire format, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not query.question:
            return None
        q = query.question[0]
        name = q.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(q.rdtype)
        self.queries.append((transport, name, rdtype))
        if name in self.hang:
            return None
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.AA
        if name in self.servfail:
            resp.set_rcode(dns.rcode.SERVFAIL)
            return resp.to_wire()
        records = self.zone.get(name)
        if records is None:
            resp.set_rcode(dns.rcode.NXDOMAIN)
            resp.authority.append(self._soa())
        else:
            self._fill(resp, name, rdtype, records)
        if transport == "tcp":
            return resp.to_wire()
        limit = max(512, query.payload) if query.edns >= 0 else 512
        try:
            return resp.to_wire(max_size=limit)
        except dns.exception.TooBig:
            short = dns.message.make_response(query)
            short.flags |= dns.flags.AA | dns.flags.TC
            return short.to_wire()

    def _fill(self, resp: dns.message.Message, name: str, rdtype: str, records: dict[str, list[str]]) -> None:  # fmt: skip
        if rdtype in records:
            resp.answer.append(_rrset(name, rdtype, records[rdtype]))
            return
        if "CNAME" in records:
            resp.answer.append(_rrset(name, "CNAME", records["CNAME"]))
            target = records["CNAME"][0].rstrip(".").lower()
            if rdtype in self.zone.get(target, {}):
                resp.answer.append(_rrset(target, rdtype, self.zone[target][rdtype]))
            return
        resp.authority.append(self._soa())

    def _soa(self) -> dns.rrset.RRset:
        return _rrset(ORIGIN, "SOA", [SOA])

    # --- transports ----------------------------------------------------------------------

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.udp.recvfrom(65_535)
            except TimeoutError:
                continue
            except OSError:
                return
            out = self.answer(data, "udp")
            if out is not None:
                try:
                    self.udp.sendto(out, addr)
                except OSError:
                    return

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True).start()

    def _tcp_conn(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                while True:
                    head = _recv_exact(conn, 2)
                    if head is None:
                        return
                    body = _recv_exact(conn, struct.unpack("!H", head)[0])
                    if body is None:
                        return
                    out = self.answer(body, "tcp")
                    if out is None:
                        return
                    conn.sendall(struct.pack("!H", len(out)) + out)
            except OSError:
                return


def _rrset(name: str, rdtype: str, texts: list[str]) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(name + ".", 300, dns.rdataclass.IN, rdtype, texts)


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _bind_pair() -> tuple[socket.socket, socket.socket, int]:
    """A UDP and a TCP socket on the same free loopback port."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        udp.settimeout(0.1)
        tcp.settimeout(0.1)
        return udp, tcp, int(port)
    raise RuntimeError("no free port for both UDP and TCP")
