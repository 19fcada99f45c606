"""The probe over TLS (a self-signed certificate on 127.0.0.1) and DNS pinning."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from spoorhound.api.pulsedive_compat import _MASK
from spoorhound.core.indicators import parse
from spoorhound.services.analyze import probe
from spoorhound.services.netguard import NetGuard, Refused, fetch
from tests.analysis.conftest import target_app
from tests.emulators.dnsserver import DnsServer


def _self_signed(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = tmp / "cert.pem", tmp / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


@pytest.fixture
def https_port(tmp_path: Path) -> Iterator[int]:
    certfile, keyfile = _self_signed(tmp_path, "local.example.net")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(
        target_app(), host="127.0.0.1", port=port, log_level="warning",
        ssl_certfile=str(certfile), ssl_keyfile=str(keyfile),
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_probe_reads_the_certificate_and_the_page_over_tls(dns: DnsServer, https_port: int) -> None:
    g = NetGuard.build(["127.0.0.1/32"], nameservers=["127.0.0.1"], port=dns.port)
    got = probe(parse(f"https://local.example.net:{https_port}/r1"), g, timeout=5.0)
    assert got["http"]["status"] == 200 and got["http"]["title"] == "Probe & Target"
    tls = got["tls"]
    assert tls["valid"] is False and "self" in tls["verify_error"].lower()
    assert tls["subject"] == "CN=local.example.net" and tls["issuer"] == "CN=local.example.net"
    assert tls["names"] == ["local.example.net"] and tls["not_after"] > tls["not_before"]


def test_a_name_is_resolved_once_per_hop_and_the_checked_address_used(
    dns: DnsServer, https_port: int
) -> None:
    g = NetGuard.build(["127.0.0.1/32"], nameservers=["127.0.0.1"], port=dns.port)
    before = len(dns.queries)
    got = fetch(g, "GET", f"https://local.example.net:{https_port}/")
    asked = [q for q in dns.queries[before:] if q[1].rstrip(".") == "local.example.net"]
    assert got.error is None and got.hops[0].ip == "127.0.0.1"
    assert sorted(t for _, _, t in asked) == ["A", "AAAA"]  # no second look-up to connect
    # The name now rebinds to a private address: the next check refuses it.
    dns.zone["local.example.net"]["A"] = ["10.1.2.3"]
    try:
        with pytest.raises(Refused, match="private"):
            g.target(f"https://local.example.net:{https_port}/")
    finally:
        dns.zone["local.example.net"]["A"] = ["127.0.0.1"]


def test_keys_in_pulsedive_urls_are_masked_in_access_logs() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/info.php?indicator=x&key=sk_abc_SECRET", "1.1", 200),
        None,
    )  # fmt: skip
    assert _MASK.filter(record)
    assert "SECRET" not in record.getMessage() and "key=***" in record.getMessage()
