"""How fast the loopback emulator and the HTTP clients are, without the enrichment runner.

Usage::

    .venv/bin/python bench/http_ceiling.py [--requests 4000] [--repeat 3]

Starts a bare ASGI app returning a small JSON body (uvicorn with httptools and
uvloop) in a separate process on 127.0.0.1 and sends ``--requests`` GETs at 1 and
8 requests in flight with:

* ``raw``: hand-written HTTP/1.1 over asyncio streams, one keep-alive connection
  per request in flight — the least a client can do, so this is the *emulator's*
  ceiling on this machine (and the reference the other figures are divided by);
* ``httpx``: one ``httpx.AsyncClient`` with its default transport (httpcore/h11);
* ``httpx+keepalive``: the same client on Spoorhound's ``KeepAliveTransport``;
* ``provider``: ``HttpProvider.request`` through the runner's ``FastClient`` (what
  the runner does per lookup, JSON decoding included).

Each figure is the best of ``--repeat`` runs, shown with its ratio to ``raw`` at the
same concurrency measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, ClassVar

import httpx
import uvloop  # the runner's HTTP loop is uvloop too

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich._transport import FastClient, KeepAliveTransport
from spoorhound.enrich.provider import EnrichmentResult, HttpConfig, HttpProvider

SERVER = r"""
import sys, uvicorn
BODY = b'{"data": {"score": 1}}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str) -> None:
    """Poll ``base`` until the server answers."""
    for _ in range(200):
        try:
            httpx.get(base + "/ready", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"no server at {base}")


async def raw_client(base: str, n: int, in_flight: int, path: str = "/x?value=") -> float:
    """Requests/s of a minimal HTTP/1.1 client (keep-alive, Content-Length answers only)."""
    host, port = base.removeprefix("http://").split(":")

    async def worker(ids: range) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for i in ids:
            writer.write(f"GET {path}{i} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
        writer.close()

    t = time.perf_counter()
    await asyncio.gather(*(worker(range(j, n, in_flight)) for j in range(in_flight)))
    return n / (time.perf_counter() - t)


async def _httpx(base: str, n: int, in_flight: int, keepalive: bool) -> float:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    transport = KeepAliveTransport(max_connections=in_flight) if keepalive else None
    async with httpx.AsyncClient(limits=limits, transport=transport) as client:
        gate = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with gate:
                (await client.get(f"{base}/x", params={"value": i})).json()

        t = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - t)


class _Probe(HttpProvider):
    name: ClassVar[str] = "probe"
    title: ClassVar[str] = "Probe"
    types: ClassVar[frozenset[IndicatorType]] = frozenset({IndicatorType.IPV4})

    async def enrich(self, client: httpx.AsyncClient, indicator: Indicator) -> EnrichmentResult:
        data = await self.request(client, "GET", "/x", params={"value": indicator.value})
        return self.result(indicator, score=data["data"]["score"])


async def _provider(base: str, n: int, in_flight: int) -> float:
    p = _Probe(HttpConfig(enabled=True, base_url=base, timeout=30))
    client = FastClient(KeepAliveTransport(max_connections=in_flight))
    gate = asyncio.Semaphore(in_flight)
    inds = [Indicator(IndicatorType.IPV4, f"10.0.{i >> 8 & 255}.{i & 255}") for i in range(n)]

    async def one(ind: Indicator) -> None:
        async with gate:
            await p.enrich(client, ind)

    t = time.perf_counter()
    await asyncio.gather(*(one(i) for i in inds))
    rate = n / (time.perf_counter() - t)
    await client.aclose()
    return rate


def best(run: Callable[[], Coroutine[Any, Any, float]], repeat: int) -> float:
    """The best of ``repeat`` runs of ``run`` (each on a fresh uvloop loop)."""
    return max(uvloop.run(run()) for _ in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, r = args.requests, args.repeat
    port = _port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("| client | in flight | requests/s | ratio to raw |\n|---|---:|---:|---:|")
        for k in (1, 8):
            ref = best(partial(raw_client, base, n, k), r)
            rows = [
                ("raw (emulator ceiling)", ref),
                ("httpx", best(partial(_httpx, base, n, k, False), r)),
                ("httpx+keepalive", best(partial(_httpx, base, n, k, True), r)),
                ("provider", best(partial(_provider, base, n, k), r)),
            ]
            for name, rate in rows:
                print(f"| {name} | {k} | {rate:,.0f} | {rate / ref:.2f} |")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
