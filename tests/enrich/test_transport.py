"""The runner's HTTP transport (``enrich._transport``) on the wire, and the provider
fault battery over both clients: the runner's ``FastClient`` and a stock httpx client.

A scripted raw server on 127.0.0.1 sends exactly the bytes each test wants (chunked
bodies, gzip, a body delimited by closing the connection, a keep-alive connection
the server drops while idle), which a framework server would not.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Callable, Iterator
from typing import ClassVar

import httpx
import pytest

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich._transport import FastClient, KeepAliveTransport
from spoorhound.enrich.provider import (
    EnrichmentResult,
    HttpConfig,
    HttpProvider,
    ProviderError,
    QuotaHint,
    Status,
    quota_from_headers,
)
from tests.enrich import harness
from tests.enrich.harness import Emulators
from tests.enrich.reputation_harness import CASES, start
from tests.enrich.test_reputation import FAULTS

#: Answers the scripted server sends: the request's path → raw bytes, plus whether to
#: close the connection afterwards.
Script = Callable[[str], tuple[bytes, bool]]


class RawServer:
    """An asyncio server in a thread that answers each request with ``script(path)``."""

    def __init__(self, script: Script, greeting: bytes = b"") -> None:
        self.script = script
        self.greeting = greeting
        self.connections = 0
        self.requests: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.greeting:
            writer.write(self.greeting)  # e.g. plain HTTP to a client expecting TLS
            await writer.drain()
            return
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    (int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length")),
                    0,
                )
                if length:
                    await reader.readexactly(length)
                path = lines[0].split(" ")[1]
                self.requests.append(path)
                answer, close = self.script(path)
                writer.write(answer)
                await writer.drain()
                if close:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def ok(body: bytes, *extra: str) -> bytes:
    """A 200 answer with a Content-Length."""
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join([*head, *extra]) + "\r\n\r\n").encode() + body


class Probe(HttpProvider):
    name: ClassVar[str] = "probe"
    title: ClassVar[str] = "Probe"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.IPV4})

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        data = await self.request(client, "GET", "/q", params={"v": indicator.value, "x": True})
        return self.result(indicator, score=data["score"], raw=data)


IND = Indicator(IndicatorType.IPV4, "192.0.2.1")


def probe(base_url: str, **cfg: object) -> Probe:
    return Probe(HttpConfig(enabled=True, base_url=base_url, timeout=2, **cfg))  # type: ignore[arg-type]


def calls(p: HttpProvider, n: int) -> list[EnrichmentResult | ProviderError]:
    """``n`` sequential lookups through one FastClient; failures returned, not raised."""

    async def go() -> list[EnrichmentResult | ProviderError]:
        out: list[EnrichmentResult | ProviderError] = []
        async with FastClient(KeepAliveTransport(max_connections=4)) as client:
            for _ in range(n):
                try:
                    out.append(await p.enrich(client, IND))
                except ProviderError as e:
                    out.append(e)
        return out

    return asyncio.run(go())


def test_connections_are_kept_alive_and_the_query_is_encoded_like_httpx() -> None:
    with RawServer(lambda _: (ok(b'{"score": 7}'), False)) as srv:
        got = calls(probe(srv.base_url), 3)
    assert [r.score for r in got if isinstance(r, EnrichmentResult)] == [7, 7, 7]
    assert srv.connections == 1
    assert srv.requests == ["/q?v=192.0.2.1&x=true"] * 3


def test_a_connection_closed_while_idle_is_replaced_transparently() -> None:
    # The server closes after every answer without saying so (no Connection: close).
    with RawServer(lambda _: (ok(b'{"score": 1}'), True)) as srv:
        got = calls(probe(srv.base_url), 3)
    assert all(isinstance(r, EnrichmentResult) for r in got), got
    assert srv.connections == 3


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"sco\r\n8\r\nre": 3}\n\r\n0\r\n\r\n',
        ok(gzip.compress(b'{"score": 3}'), "Content-Encoding: gzip"),
    ],
    ids=["chunked", "gzip"],
)
def test_chunked_and_compressed_bodies(answer: bytes) -> None:
    with RawServer(lambda _: (answer, False)) as srv:
        (got,) = calls(probe(srv.base_url), 1)
    assert isinstance(got, EnrichmentResult) and got.score == 3


def test_a_body_delimited_by_closing_the_connection() -> None:
    answer = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"score": 4}'
    with RawServer(lambda _: (answer, True)) as srv:
        got = calls(probe(srv.base_url), 2)
    assert [r.score for r in got if isinstance(r, EnrichmentResult)] == [4, 4]
    assert srv.connections == 2  # never reused


def test_a_compressed_body_is_capped_after_decoding() -> None:
    bomb = gzip.compress(b'{"score": 1, "pad": "' + b"x" * (1 << 20) + b'"}')
    answer = ok(bomb, "Content-Encoding: gzip")
    with RawServer(lambda _: (answer, False)) as srv:
        (got,) = calls(probe(srv.base_url, max_response_bytes=64 << 10), 1)
    assert isinstance(got, ProviderError) and "larger than" in got.reason


def test_a_malformed_answer_and_a_tls_mismatch_are_errors() -> None:
    with RawServer(lambda _: (b"SPDY/9 nonsense\r\n\r\n", True)) as srv:
        (bad,) = calls(probe(srv.base_url), 1)
    with RawServer(lambda _: (b"", True), greeting=b"HTTP/1.1 400 Bad Request\r\n\r\n") as srv:
        (tls,) = calls(probe(srv.base_url.replace("http:", "https:")), 1)
    assert isinstance(bad, ProviderError) and bad.status is Status.ERROR
    assert isinstance(tls, ProviderError) and "TLS error" in tls.reason


@pytest.fixture(params=["httpx", "fast"])
def client_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    saved = harness.CLIENT["kind"]
    harness.CLIENT["kind"] = request.param
    yield request.param
    harness.CLIENT["kind"] = saved


@pytest.mark.parametrize("fault", sorted([*FAULTS, "401", "429"]))
def test_both_clients_map_every_fault_the_same_way(
    emulators: Emulators, client_kind: str, fault: str
) -> None:
    emu = start(emulators, CASES[0])
    emu.srv.fault = fault
    emu.srv.hang_seconds = 1.0
    provider = emu.provider(timeout=0.5, max_response_bytes=16 << 10)
    e = harness.fails(provider, emu.case.known)
    expected = {"401": Status.AUTH_FAILED}.get(fault)
    if fault == "429":
        assert e.status in (Status.RATE_LIMITED, Status.QUOTA_EXCEEDED)
    else:
        assert e.status is (expected or Status.ERROR), (client_kind, e.reason)
        assert FAULTS.get(fault, "") in e.reason


# -- quota headers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-ratelimit-remaining": "7", "x-ratelimit-reset": "1700000100"}, (7, 1700000100.0)),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "30"}, (0, 1700000030.0)),
        ({"ratelimit-remaining": "5", "ratelimit-reset": "60"}, (5, 1700000060.0)),
        (
            {"x-ratelimit-remaining": "2", "x-ratelimit-reset": "Tue, 14 Nov 2023 22:15:00 GMT"},
            (2, 1700000100.0),
        ),
        ({"x-ratelimit-remaining": "3"}, None),  # no reset: unusable
        ({"x-ratelimit-remaining": "many", "x-ratelimit-reset": "5"}, None),
        ({}, None),
    ],
)
def test_quota_headers_are_read(
    headers: dict[str, str], expected: tuple[int, float] | None
) -> None:
    got = quota_from_headers(headers, 1_700_000_000.0)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert (got.remaining, pytest.approx(got.reset_at, abs=1)) == expected


def test_a_spent_quota_makes_calls_wait_and_counts_down_calls_in_flight() -> None:
    p = probe("http://127.0.0.1:9")
    assert p.quota_wait(100.0) == 0.0 and not p.quota_known(100.0)
    p.quota = QuotaHint(remaining=2, reset_at=110.0)
    assert [p.quota_wait(101.0) for _ in range(3)] == [0.0, 0.0, 9.0]
    p._learn_quota(QuotaHint(remaining=1, reset_at=110.2))  # an earlier call's answer
    assert p.quota is not None and p.quota.remaining == 0
    assert p.quota_wait(111.0) == 0.0 and p.quota is None  # the window reset


def test_abuseipdb_quota_headers_are_learnt(emulators: Emulators) -> None:
    emu = start(emulators, next(c for c in CASES if c.name == "abuseipdb"))
    emu.app.state.quota.reset(5)
    provider = emu.provider()
    harness.run(provider, emu.case.known)
    assert provider.quota is not None and provider.quota.remaining == 4
