"""A lean HTTP/1.1 keep-alive transport for httpx, used by the runner's shared clients.

httpx's default transport (httpcore + h11, over anyio) costs about a millisecond of
CPU per request on this class of machine, most of it in the connection pool
(which re-checks every connection's socket on every request) and the pure-Python
HTTP parser. Against a fast provider that, not the network, caps lookups per
second. This transport keeps httpx's client (URLs, headers, auth, cookies,
content decoding, the :class:`httpx.Response` every provider reads) and replaces
only the wire: asyncio streams, httptools' C parser (already installed for
uvicorn), one idle-connection list per origin and a semaphore for the pool limit.

Scope, deliberately small: HTTP/1.1 to ``http``/``https`` origins, no HTTP/2, no
proxies (a client with proxy mounts still routes proxied URLs through httpx's
own transport), no ``Expect: 100-continue``. Failures map to httpx's exceptions
(:class:`httpx.ConnectError` — with "SSL" in the message for TLS failures —,
:class:`httpx.ConnectTimeout`, :class:`httpx.ReadTimeout`,
:class:`httpx.WriteTimeout`, :class:`httpx.PoolTimeout`,
:class:`httpx.ReadError`, :class:`httpx.RemoteProtocolError`), so provider code
cannot tell the difference. A request that fails on a reused keep-alive
connection before any byte of the answer arrived (the server closed it while
idle) is sent once more on a new connection.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httptools
import httpx

__all__ = ["FastClient", "Fetched", "KeepAliveTransport", "TooLarge"]

_READ = 65_536
_NO_BODY = (204, 304)
_Origin = tuple[bytes, bytes, int]


class _Conn:
    """One HTTP/1.1 connection and the parser state of the answer being read."""

    __slots__ = (
        "body",
        "complete",
        "headers",
        "keep_alive",
        "parser",
        "reader",
        "reused",
        "status",
        "writer",
    )

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: deque[bytes] = deque()
        self.status = 0
        self.complete = False
        self.keep_alive = False
        self.parser: Any = None

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        # Asked now: once the parser has moved past the message it always says no.
        self.keep_alive = self.parser.should_keep_alive()
        self.complete = True

    def start(self) -> None:
        """Reset the parser state for the next answer on this connection."""
        self.headers = []
        self.body.clear()
        self.status = 0
        self.complete = False
        self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class _Body(httpx.AsyncByteStream):
    """The answer's body, read as the caller iterates; the connection goes back to the
    pool when the answer was read to its end and the server keeps it alive."""

    def __init__(
        self,
        transport: KeepAliveTransport,
        origin: _Origin,
        conn: _Conn,
        read_timeout: float | None,
        until_eof: bool,
    ) -> None:
        self._t = transport
        self._origin = origin
        self._conn: _Conn | None = conn
        self._timeout = read_timeout
        self._until_eof = until_eof

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            return
        while True:
            while conn.body:
                yield conn.body.popleft()
            if conn.complete:
                return
            data = await _read(conn, self._timeout)
            if not data:
                if self._until_eof:
                    conn.complete = True
                    return
                raise httpx.RemoteProtocolError("server closed the connection mid-answer")
            _feed(conn, data)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        keep = conn.complete and conn.keep_alive and not self._until_eof
        if not (keep and conn.usable):
            conn.close()  # unread rest, or the server will close it: never reuse
            conn = None
        self._t._release(self._origin, conn)


async def _read(conn: _Conn, timeout: float | None) -> bytes:
    try:
        # asyncio.timeout, not wait_for: wait_for wraps every read in a new task.
        async with asyncio.timeout(timeout):
            return await conn.reader.read(_READ)
    except TimeoutError:
        raise httpx.ReadTimeout(f"no answer within {timeout:g}s") from None
    except OSError as e:
        raise httpx.ReadError(str(e) or type(e).__name__) from None


def _feed(conn: _Conn, data: bytes) -> None:
    try:
        conn.parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        raise httpx.RemoteProtocolError("unexpected protocol upgrade") from None
    except httptools.HttpParserError as e:
        raise httpx.RemoteProtocolError(f"malformed HTTP answer: {e}") from None


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over kept-alive connections, at most ``max_connections`` at once."""

    def __init__(self, *, verify: bool = True, max_connections: int = 32) -> None:
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self._idle: dict[_Origin, list[_Conn]] = {}
        self._slots = asyncio.Semaphore(max_connections)
        self._closed = False

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(verify=self._verify)
        return self._ssl

    async def _connect(self, origin: _Origin, timeout: float | None) -> _Conn:
        scheme, host, port = origin
        secure = scheme == b"https"
        name = host.decode("ascii")
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    name,
                    port,
                    ssl=self._ssl_context() if secure else None,
                    server_hostname=name if secure else None,
                    limit=_READ,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"cannot connect to {name}:{port} in {timeout:g}s") from None
        except ssl.SSLError as e:
            raise httpx.ConnectError(f"SSL: {e}") from None
        except OSError as e:
            raise httpx.ConnectError(str(e) or type(e).__name__) from None
        return _Conn(reader, writer)

    def _release(self, origin: _Origin, conn: _Conn | None) -> None:
        if conn is not None and not self._closed:
            conn.reused = True
            self._idle.setdefault(origin, []).append(conn)
        self._slots.release()

    async def _acquire(self, origin: _Origin, timeout: float | None) -> _Conn:
        if self._slots.locked():
            try:
                async with asyncio.timeout(timeout):
                    await self._slots.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout("no free connection in time") from None
        else:
            await self._slots.acquire()
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.usable:
                return conn
            conn.close()
        try:
            return await self._connect(origin, timeout)
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(
        self, origin: _Origin, message: bytes, chunked: httpx.Request | None, t: Mapping[str, Any]
    ) -> _Conn:
        """Send ``message`` and read the answer's head; returns the connection, holding
        a pool slot, with the body (or its start) buffered."""
        while True:
            conn = await self._acquire(origin, t.get("pool"))
            conn.start()
            try:
                await self._send(conn, message, chunked, t.get("write"))
                await self._read_head(conn, t.get("read"), retry=chunked is None)
            except _Stale:
                conn.close()
                self._slots.release()
                continue  # the server had closed the idle connection: once more, fresh
            except BaseException:
                conn.close()
                self._slots.release()
                raise
            return conn

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the answer with its body still to be read."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        origin: _Origin = (url.raw_scheme, url.raw_host, port)
        t = request.extensions.get("timeout", {})
        head = [request.method.encode(), b" ", url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += (name, b": ", value, b"\r\n")
        head.append(b"\r\n")
        chunked = request.headers.get("transfer-encoding", "").lower() == "chunked"
        body = b"" if chunked else await request.aread()
        conn = await self._exchange(origin, b"".join(head) + body, request if chunked else None, t)
        until_eof = _finish_head(conn, request.method)
        stream = _Body(self, origin, conn, t.get("read"), until_eof)
        return httpx.Response(
            conn.status,
            headers=conn.headers,
            stream=stream,
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str],
        content: bytes = b"",
        timeout: float,
        max_bytes: int,
    ) -> Fetched:
        """One whole exchange without httpx's request and response objects: the
        runner's hot path (see :class:`FastClient`). The body is read to its end,
        decoded (gzip/deflate) and capped at ``max_bytes`` (:class:`TooLarge`)."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        origin: _Origin = (parts.scheme.encode(), host.encode("idna"), port)
        target = quote(parts.path or "/", safe=_PATH_SAFE)
        query = parts.query
        if params:
            extra = urlencode([(k, _param(v)) for k, v in params.items()], quote_via=quote)
            query = f"{query}&{extra}" if query else extra
        if query:
            target = f"{target}?{query}"
        netloc = parts.netloc.rpartition("@")[2]
        lines = [f"{method} {target} HTTP/1.1", f"Host: {netloc}", _FIXED_HEADERS]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if content or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(content)}")
        message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + content
        t = {"pool": timeout, "read": timeout, "write": timeout}
        conn = await self._exchange(origin, message, None, t)
        keep = False
        try:
            until_eof = _finish_head(conn, method)
            size = 0
            chunks: list[bytes] = []
            while True:
                while conn.body:
                    chunk = conn.body.popleft()
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(max_bytes)
                    chunks.append(chunk)
                if conn.complete:
                    break
                data = await _read(conn, timeout)
                if not data:
                    if until_eof:
                        break
                    raise httpx.RemoteProtocolError("server closed the connection mid-answer")
                _feed(conn, data)
            keep = conn.complete and conn.keep_alive and not until_eof and conn.usable
        finally:
            if not keep:
                conn.close()
            self._release(origin, conn if keep else None)
        hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in conn.headers}
        body = b"".join(chunks)
        coding = hdrs.get("content-encoding", "").strip().lower()
        if coding in ("gzip", "deflate"):
            body = _decode(body, coding, max_bytes)
        return Fetched(conn.status, hdrs, body)

    async def _read_head(self, conn: _Conn, timeout: float | None, *, retry: bool) -> None:
        first = True
        while conn.status == 0:
            try:
                data = await _read(conn, timeout)
            except httpx.ReadError:
                if first and conn.reused and retry:
                    raise _Stale from None
                raise
            if not data:
                if first and conn.reused and retry:
                    raise _Stale
                raise httpx.RemoteProtocolError("server closed the connection without an answer")
            first = False
            _feed(conn, data)

    async def _send(
        self, conn: _Conn, message: bytes, chunked: httpx.Request | None, timeout: float | None
    ) -> None:
        w = conn.writer
        try:
            w.write(message)
            if chunked is not None:
                async for part in chunked.stream:  # type: ignore[union-attr]
                    if part:
                        w.write(b"%x\r\n%s\r\n" % (len(part), part))
                w.write(b"0\r\n\r\n")
            if w.transport.get_write_buffer_size() > _READ:
                async with asyncio.timeout(timeout):
                    await w.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("could not send the request in time") from None
        except OSError as e:
            if conn.reused:
                raise _Stale from None
            raise httpx.WriteError(str(e) or type(e).__name__) from None

    async def aclose(self) -> None:
        """Close every idle connection; answers being read close theirs when done."""
        self._closed = True
        for conns in self._idle.values():
            for c in conns:
                c.close()
        self._idle.clear()


@dataclass(frozen=True, slots=True)
class Fetched:
    """A whole answer: status, headers (lower-case names; the last of repeated ones),
    and the decoded body."""

    status: int
    headers: dict[str, str]
    body: bytes


class TooLarge(Exception):
    """The answer's body is larger than allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response larger than {limit} bytes")
        self.limit = limit


class FastClient(httpx.AsyncClient):
    """An httpx client on a :class:`KeepAliveTransport` that also offers the transport's
    lean :meth:`KeepAliveTransport.fetch` as ``wire``.

    :meth:`spoorhound.enrich.provider.HttpProvider.request` uses ``wire`` when the
    client is one of these (the runner's shared clients, created without proxies,
    cookies or event hooks, which ``fetch`` does not apply); anything else a provider
    does with the client goes through httpx as usual.
    """

    def __init__(self, transport: KeepAliveTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.wire = transport


_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
# What httpx sends by default, minus br/zstd, which fetch does not decode.
_FIXED_HEADERS = f"User-Agent: python-httpx/{httpx.__version__}\r\nAccept-Encoding: gzip, deflate"


def _param(value: Any) -> str:
    # Query values the way httpx writes them.
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _decode(body: bytes, coding: str, limit: int) -> bytes:
    # A small compressed body can inflate to gigabytes: stop past the limit.
    d = zlib.decompressobj(16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise httpx.DecodingError(f"cannot decode {coding} body: {e}") from None
    if len(out) > limit:
        raise TooLarge(limit)
    return out


def _finish_head(conn: _Conn, method: str) -> bool:
    """Settle what the body is once the head is read; True when it runs to the end of
    the connection (no length, not chunked)."""
    if method == "HEAD" or conn.status in _NO_BODY:
        conn.complete = True
        conn.body.clear()
        return False
    if conn.complete:
        return False
    names = {k.lower() for k, _ in conn.headers}
    return b"content-length" not in names and b"transfer-encoding" not in names


class _Stale(Exception):
    """A reused connection turned out closed before the answer started."""
