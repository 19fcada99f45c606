"""Opening inputs safely: decompression with bomb limits, text decoding, line splitting.

Everything a reader gets has passed through here, so this is where hostile or broken
input is stopped: archives that expand without bound, binary files, undecodable
bytes, lines of unbounded length. The rule is that nothing is ever read whole into
memory: inputs are streamed in chunks of :data:`CHUNK` bytes.

Errors come in two kinds:

* :class:`InputError`, raised: the file as a whole cannot be ingested (empty, binary,
  a zip bomb, a truncated gzip stream, a zip with several members). The message names
  the file and the reason. It can be raised *mid-stream* (a gzip stream that turns
  out truncated, or that crosses the size limit after gigabytes): items yielded
  before it were yielded, and it is the caller's job (the ingest service) to mark the
  job failed and to say how many items were read before the error.
* :class:`~spoorhound.ingest.records.Rejection`, yielded: one line is bad (invalid
  UTF-8, too long), the rest of the file goes on.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import sys
import zipfile
import zlib
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO

from spoorhound.ingest.records import Rejection, excerpt

__all__ = [
    "CHUNK",
    "GiB",
    "InputError",
    "InputStream",
    "MiB",
    "byte_blocks",
    "check_text_head",
    "iter_lines",
    "open_input",
    "peek_head",
    "utf8_stream",
]

MiB = 1 << 20
GiB = 1 << 30
#: Read size for line splitting: large enough that per-chunk work is negligible.
CHUNK = MiB
#: How much of the start of a file is inspected to tell text from binary.
HEAD = 8192
#: Decompressed bytes allowed before the ratio check starts, so that tiny, highly
#: compressible files (a gzip of 10 KB of zeros) are not called bombs.
RATIO_GRACE = MiB

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member, or an empty archive
# Formats we recognise only to name them in the error message.
_BINARY_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "Windows executable"),
    (b"BZh", "bzip2 archive (only gzip and zip are supported)"),
    (b"\xfd7zXZ\x00", "xz archive (only gzip and zip are supported)"),
    (b"\x28\xb5\x2f\xfd", "zstd archive (only gzip and zip are supported)"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive (only gzip and zip are supported)"),
    (b"Rar!", "RAR archive (only gzip and zip are supported)"),
    (b"SQLite format 3\x00", "SQLite database"),
)
# Control bytes that do occur in text files: tab, LF, VT, FF, CR, ESC (ANSI colours).
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1b")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in _TEXT_CONTROLS) + b"\x7f"
# Share of control bytes in the head above which a file is binary: text has ~none,
# random bytes have ~12%.
_MAX_CONTROL_SHARE = 0.05


class InputError(Exception):
    """A whole input cannot be ingested; the message names the file and the reason."""


class _Prefixed(io.RawIOBase):
    """Serves ``head`` then the rest of ``inner``: lets us look at the first bytes of a
    stream that cannot seek (stdin) and still hand the whole stream on."""

    def __init__(self, head: bytes, inner: BinaryIO) -> None:
        self._head = memoryview(head)
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._inner.read(len(b))
        n = len(data)
        b[:n] = data
        return n


class _Counting(io.RawIOBase):
    """Counts the compressed bytes a decompressor pulls from the file."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        return n


class _Guard(io.RawIOBase):
    """Counts decompressed bytes and stops at the size and ratio limits.

    Also turns the decompressors' own errors (truncated stream, corrupt data) into
    :class:`InputError`, so that readers and callers have one exception to handle.
    """

    def __init__(
        self,
        inner: BinaryIO,
        *,
        name: str,
        kind: str | None,
        max_bytes: int,
        max_ratio: int,
        compressed_size: _Counting | int | None,
    ) -> None:
        self._inner = inner
        self._name = name
        self._kind = kind
        self._max_bytes = max_bytes
        self._max_ratio = max_ratio
        self._compressed = compressed_size
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(b))
        except EOFError as e:
            raise InputError(
                f"{self._name}: {self._kind} stream is truncated after {self.count} "
                f"decompressed bytes ({e})"
            ) from e
        except (OSError, zlib.error, zipfile.BadZipFile) as e:
            raise InputError(f"{self._name}: corrupt {self._kind or 'input'} data: {e}") from e
        n = len(data)
        b[:n] = data
        self.count += n
        if self.count > self._max_bytes:
            raise InputError(
                f"{self._name}: input is larger than the limit of {self._max_bytes} bytes"
                + (" after decompression (possible zip bomb)" if self._kind else "")
                + "; not ingested"
            )
        if self._compressed is not None and self.count > RATIO_GRACE:
            packed = (
                self._compressed.count
                if isinstance(self._compressed, _Counting)
                else self._compressed
            )
            if self.count > self._max_ratio * max(packed, 1):
                raise InputError(
                    f"{self._name}: {self._kind} data expands more than {self._max_ratio}× "
                    f"({self.count} bytes from {packed}); possible zip bomb, not ingested"
                )
        return n


class InputStream:
    """An opened input: ``raw`` is a buffered binary stream of the decompressed bytes.

    Use as a context manager; closing it closes what :func:`open_input` opened (not a
    stream the caller passed in, such as stdin).
    """

    def __init__(
        self, name: str, compression: str | None, raw: io.BufferedReader, owned: list[BinaryIO]
    ) -> None:
        self.name = name
        self.compression = compression
        self.raw = raw
        self._owned = owned

    def close(self) -> None:
        """Close the decompressor and any file :func:`open_input` opened."""
        for f in reversed(self._owned):
            f.close()
        self._owned = []

    def __enter__(self) -> InputStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_input(
    src: str | os.PathLike[str] | BinaryIO,
    *,
    max_bytes: int = 8 * GiB,
    max_ratio: int = 100,
    name: str | None = None,
) -> InputStream:
    """Open a path, ``-`` (stdin) or a binary stream, decompressing gzip and zip.

    Compression is detected from the magic bytes, never from the extension. A zip
    must hold exactly one file (directories are ignored); with more, the error lists
    them. Zip needs a seekable input, so a zip on stdin is refused (gzip works).

    Decompressed bytes are counted while streaming: more than ``max_bytes`` in all,
    or more than ``max_ratio`` × the compressed bytes read so far (checked once 1 MiB
    is out), raises :class:`InputError` from the stream's ``read``.
    """
    owned: list[BinaryIO] = []
    if isinstance(src, str | os.PathLike):
        path = os.fspath(src)
        if path == "-":
            f: BinaryIO = sys.stdin.buffer
            label = name or "<stdin>"
        else:
            label = name or path
            try:
                f = open(path, "rb")  # noqa: SIM115 - closed by InputStream.close
            except OSError as e:
                raise InputError(f"{label}: cannot open: {e.strerror or e}") from e
            owned.append(f)
    else:
        f = src
        label = name or str(getattr(src, "name", None) or "<input>")
    try:
        return _open_decompressed(f, label, owned, max_bytes, max_ratio)
    except BaseException:
        for o in reversed(owned):
            o.close()
        raise


def _open_decompressed(
    f: BinaryIO, label: str, owned: list[BinaryIO], max_bytes: int, max_ratio: int
) -> InputStream:
    magic = f.read(4)
    if magic.startswith(_ZIP_MAGICS):
        return _open_zip(f, magic, label, owned, max_bytes, max_ratio)
    src: BinaryIO = io.BufferedReader(_Prefixed(magic, f))
    if magic.startswith(_GZIP_MAGIC):
        counting = _Counting(src)
        gz = gzip.GzipFile(fileobj=counting, mode="rb")
        owned.append(gz)  # type: ignore[arg-type]
        guard = _Guard(
            gz,  # type: ignore[arg-type]
            name=label,
            kind="gzip",
            max_bytes=max_bytes,
            max_ratio=max_ratio,
            compressed_size=counting,
        )
        return InputStream(label, "gzip", io.BufferedReader(guard, CHUNK), owned)
    guard = _Guard(
        src, name=label, kind=None, max_bytes=max_bytes, max_ratio=max_ratio, compressed_size=None
    )
    return InputStream(label, None, io.BufferedReader(guard, CHUNK), owned)


def _open_zip(
    f: BinaryIO, magic: bytes, label: str, owned: list[BinaryIO], max_bytes: int, max_ratio: int
) -> InputStream:
    try:
        f.seek(0)
    except (OSError, ValueError, AttributeError) as e:
        raise InputError(
            f"{label}: a zip archive must be a seekable file, not a pipe; "
            "unzip it first or send it gzip-compressed"
        ) from e
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(f"{label}: corrupt zip archive: {e}") from e
    owned.append(zf)  # type: ignore[arg-type]
    members = [i for i in zf.infolist() if not i.is_dir()]
    if len(members) != 1:
        names = ", ".join(i.filename for i in members[:10])
        more = f" and {len(members) - 10} more" if len(members) > 10 else ""
        raise InputError(
            f"{label}: a zip archive must hold exactly one file, this one holds "
            f"{len(members)}" + (f": {names}{more}" if members else "")
        )
    info = members[0]
    try:
        member = zf.open(info)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as e:
        raise InputError(f"{label}: cannot read zip member {info.filename!r}: {e}") from e
    owned.append(member)  # type: ignore[arg-type]
    # ZipExtFile never reads more than compress_size, so that is the true denominator.
    guard = _Guard(
        member,  # type: ignore[arg-type]
        name=f"{label}:{info.filename}",
        kind="zip",
        max_bytes=max_bytes,
        max_ratio=max_ratio,
        compressed_size=info.compress_size,
    )
    return InputStream(label, "zip", io.BufferedReader(guard, CHUNK), owned)


def peek_head(stream: BinaryIO, size: int = HEAD) -> tuple[bytes, BinaryIO]:
    """Return the first ``size`` bytes of ``stream`` and a stream that still starts at 0.

    Works on pipes: the head is replayed rather than sought back to.
    """
    head = b""
    while len(head) < size:
        data = stream.read(size - len(head))
        if not data:
            break
        head += data
    return head, io.BufferedReader(_Prefixed(head, stream), CHUNK)


def _bom_encoding(head: bytes) -> str | None:
    # UTF-32 LE starts with the UTF-16 LE BOM, so it is tested first.
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return None


def _is_wide(encoding: str) -> bool:
    """Whether ``encoding`` is one where a newline is not the single byte 0x0A."""
    canonical = codecs.lookup(encoding).name
    return canonical.startswith(("utf-16", "utf-32"))


def check_text_head(head: bytes, name: str, encoding: str | None = None) -> str | None:
    """Raise :class:`InputError` if ``head`` is empty or looks binary.

    Returns the encoding announced by a byte-order mark (``utf-8-sig``, ``utf-16``,
    ``utf-32``) or None. A declared wide ``encoding`` (UTF-16/32) skips the NUL test.
    """
    if not head:
        raise InputError(f"{name}: file is empty")
    bom = _bom_encoding(head)
    if bom in ("utf-16", "utf-32") or (encoding is not None and _is_wide(encoding)):
        return bom
    for magic, what in _BINARY_MAGICS:
        if head.startswith(magic) and (what != "Windows executable" or b"\x00" in head):
            raise InputError(f"{name}: looks like a binary file ({what}); not ingested")
    if b"\x00" in head:
        raise InputError(f"{name}: looks like a binary file (it contains NUL bytes); not ingested")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > _MAX_CONTROL_SHARE * len(head):
        share = round(100 * controls / len(head))
        raise InputError(
            f"{name}: looks like a binary file ({share}% control characters in the first "
            f"{len(head)} bytes); not ingested"
        )
    return bom


class _Utf8Encoder(io.RawIOBase):
    """Re-encodes a text stream as UTF-8 bytes, for parsers that only read UTF-8."""

    def __init__(self, text: io.TextIOWrapper, name: str) -> None:
        self._text = text
        self._name = name
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                chunk = self._text.read(CHUNK // 4)
            except UnicodeDecodeError as e:
                raise InputError(f"{self._name}: cannot decode as {e.encoding}: {e.reason}") from e
            if not chunk:
                return 0
            self._pending = chunk.encode("utf-8", "surrogatepass")
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def utf8_stream(stream: BinaryIO, name: str, encoding: str | None = None) -> BinaryIO:
    """Return ``stream`` as UTF-8 bytes without a BOM, after the text checks.

    For readers whose parser takes bytes (ijson): a UTF-16 file, or one read with an
    explicit ``encoding``, is transcoded on the fly; a UTF-8 file is passed through
    with its BOM removed. Raises :class:`InputError` for empty and binary files.
    """
    head, stream = peek_head(stream)
    bom = check_text_head(head, name, encoding)
    enc = encoding or bom
    if enc is None:
        return stream
    if codecs.lookup(enc).name == "utf-8" and bom == "utf-8-sig":
        enc = "utf-8-sig"
    if enc == "utf-8-sig":
        stream.read(len(codecs.BOM_UTF8))
        return stream
    if codecs.lookup(enc).name == "utf-8":
        return stream
    text = io.TextIOWrapper(stream, encoding=enc, errors="strict", newline="")
    return io.BufferedReader(_Utf8Encoder(text, name), CHUNK)


def _decode_error(enc: str, line_no: int, line: bytes, e: UnicodeDecodeError) -> Rejection:
    raw = excerpt(line.decode(enc, "replace"))
    if codecs.lookup(enc).name == "utf-8":
        reason = (
            f"invalid UTF-8 at byte {e.start} of the line; pass --encoding if the file is not UTF-8"
        )
    else:
        reason = f"cannot decode byte {e.start} of the line as {enc}"
    return Rejection(line_no, reason, raw)


def iter_lines(
    stream: BinaryIO,
    *,
    encoding: str | None = None,
    max_line_bytes: int = MiB,
    name: str | None = None,
) -> Iterator[tuple[int, str] | Rejection]:
    """Yield ``(line_no, text)`` for each line of ``stream``, 1-based, ends stripped.

    Lines end at LF, CRLF or a lone CR. A UTF-8 BOM is dropped; UTF-16/32 with a BOM is
    decoded. Without ``encoding`` the text is UTF-8; a line that does not decode
    becomes a :class:`Rejection` with the byte offset and a hint, and the file goes on.
    A line longer than ``max_line_bytes`` becomes a Rejection and is skipped without
    being buffered.

    Raises :class:`InputError` for an empty or binary file.
    """
    label = name or str(getattr(stream, "name", None) or "<input>")
    head, stream = peek_head(stream)
    bom = check_text_head(head, label, encoding)
    if bom in ("utf-16", "utf-32") or (encoding is not None and _is_wide(encoding)):
        yield from _iter_wide_lines(stream, encoding or bom or "utf-16", max_line_bytes, label)
        return
    enc = encoding or "utf-8"
    if bom == "utf-8-sig":
        stream.read(len(codecs.BOM_UTF8))
    yield from _iter_byte_lines(stream, enc, max_line_bytes)


def byte_blocks(
    stream: BinaryIO, enc: str, max_line_bytes: int, chunk: int | None = None
) -> Iterator[tuple[int, bytes] | Rejection]:
    """Split ``stream`` into blocks of whole lines, a chunk at a time.

    Yields ``(lines before the block, body)`` where ``body`` is whole lines, each ending
    in LF (CRLF and lone CR already turned into LF), or a :class:`Rejection` for a line
    longer than ``max_line_bytes``, which is skipped without being buffered. The one
    splitting loop behind :func:`iter_lines` and the CSV/plain/JSONL readers.
    """
    size = chunk or CHUNK  # read at call time: tests shrink CHUNK
    line_no = 0
    carry = b""
    pending_cr = False  # the last chunk ended with CR: a leading LF is its CRLF's half
    skipping = False  # inside an over-long line: drop bytes up to its end
    read = stream.read
    while True:
        data = read(size)
        if not data:
            break
        if pending_cr:
            pending_cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if skipping:
            i = _first_eol(data)
            if i < 0:
                continue
            skipping = False
            if data[i] == 13:  # CR: swallow the LF of a CRLF
                if i + 1 == len(data):
                    pending_cr = True
                elif data[i + 1] == 10:
                    i += 1
            data = data[i + 1 :]
        buf = carry + data if carry else data
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
        if cut < 0:
            carry = buf
        else:
            body = buf[: cut + 1]
            carry = buf[cut + 1 :]
            if body[-1] == 13:
                pending_cr = True
            if b"\r" in body:
                body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            yield line_no, body
            line_no += body.count(b"\n")
        if len(carry) > max_line_bytes:
            line_no += 1
            yield Rejection(
                line_no,
                f"line is longer than {max_line_bytes} bytes; skipped",
                excerpt(carry[:400].decode(enc, "replace")),
            )
            carry = b""
            skipping = True
    if carry and not skipping:
        # No terminator after the last line; it cannot contain CR (CR is a cut point).
        yield line_no, carry + b"\n"


def _iter_byte_lines(
    stream: BinaryIO, enc: str, max_line_bytes: int
) -> Iterator[tuple[int, str] | Rejection]:
    # Hot path: split whole chunks in C, decode a chunk at once, and hand out lines
    # with enumerate() so that there is no Python work per line in the common case.
    for block in byte_blocks(stream, enc, max_line_bytes):
        if type(block) is Rejection:
            yield block
        else:
            line_no, body = block  # type: ignore[misc]
            yield from _split_body(body, line_no, enc, max_line_bytes)


def _first_eol(data: bytes) -> int:
    lf, cr = data.find(b"\n"), data.find(b"\r")
    if lf < 0:
        return cr
    if cr < 0:
        return lf
    return min(lf, cr)


def _split_body(
    body: bytes, line_no: int, enc: str, max_line_bytes: int
) -> Iterator[tuple[int, str] | Rejection]:
    """Split ``body`` (LF-terminated lines, CRs already turned into LF) into lines."""
    try:
        lines = body.decode(enc).split("\n")
    except UnicodeDecodeError:
        yield from _split_slowly(body, line_no, enc, max_line_bytes)
        return
    lines.pop()  # the empty string after the final terminator
    if len(body) > max_line_bytes:
        # Only a body longer than the limit can hold an over-long line.
        for i, line in enumerate(lines, line_no + 1):
            if len(line) * 4 > max_line_bytes and len(line.encode(enc)) > max_line_bytes:
                yield Rejection(
                    i, f"line is longer than {max_line_bytes} bytes; skipped", excerpt(line)
                )
            else:
                yield i, line
        return
    yield from enumerate(lines, line_no + 1)


def _split_slowly(
    body: bytes, line_no: int, enc: str, max_line_bytes: int
) -> Iterator[tuple[int, str] | Rejection]:
    # The chunk has a bad byte somewhere: decode line by line to find which lines.
    raw_lines = body.split(b"\n")
    raw_lines.pop()
    for i, raw in enumerate(raw_lines, line_no + 1):
        if len(raw) > max_line_bytes:
            yield Rejection(
                i,
                f"line is longer than {max_line_bytes} bytes; skipped",
                excerpt(raw[:400].decode(enc, "replace")),
            )
            continue
        try:
            yield i, raw.decode(enc)
        except UnicodeDecodeError as e:
            yield _decode_error(enc, i, raw, e)


def _iter_wide_lines(
    stream: BinaryIO, enc: str, max_line_bytes: int, label: str
) -> Iterator[tuple[int, str] | Rejection]:
    # UTF-16/32 are rare in IOC feeds (Windows exports); TextIOWrapper handles the BOM
    # and universal newlines, and readline(limit) bounds memory per line.
    text = io.TextIOWrapper(stream, encoding=enc, errors="strict", newline=None)
    max_chars = max(max_line_bytes // 2, 1)
    line_no = 0
    try:
        while True:
            try:
                line = text.readline(max_chars + 1)
            except UnicodeDecodeError as e:
                raise InputError(
                    f"{label}: cannot decode as {enc} after line {line_no}: {e.reason}"
                ) from e
            if not line:
                return
            line_no += 1
            if len(line) > max_chars and not line.endswith("\n"):
                yield Rejection(
                    line_no, f"line is longer than {max_line_bytes} bytes; skipped", excerpt(line)
                )
                while line and not line.endswith("\n"):
                    line = text.readline(max_chars + 1)
                continue
            yield line_no, line.rstrip("\n")
    finally:
        # Detach so that the wrapper does not close the caller's stream when collected.
        text.detach()
