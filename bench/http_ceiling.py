"""The ceiling of the HTTP client on this machine, without the enrichment runner.

Usage::

    .venv/bin/python bench/http_ceiling.py [--requests 4000]

Starts a bare ASGI app returning a small JSON body under uvicorn in a separate
process on 127.0.0.1 and sends ``--requests`` GETs with one ``httpx.AsyncClient`` at
several numbers of requests in flight. The enrichment runner's one-request-per-lookup
throughput cannot exceed this figure.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time

import httpx

SERVER = r"""
import sys, uvicorn
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"data": {"score": 1}}'})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _load(base: str, n: int, in_flight: int) -> float:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(limits=limits) as client:
        gate = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with gate:
                (await client.get(f"{base}/x/{i}")).json()

        t = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=4000)
    args = ap.parse_args()
    port = _port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/ready", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        print("| requests in flight | requests/s |\n|---:|---:|")
        for in_flight in (1, 8, 16, 32):
            print(f"| {in_flight} | {asyncio.run(_load(base, args.requests, in_flight)):,.0f} |")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
