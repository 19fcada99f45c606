"""ingest.source: decompression limits, binary/empty detection, decoding, line splitting."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
import zlib
from pathlib import Path

import pytest

from spoorhound.ingest.records import Rejection
from spoorhound.ingest.source import InputError, MiB, iter_lines, open_input


def lines(data: bytes, **kw: object) -> list[tuple[int, str] | Rejection]:
    return list(iter_lines(io.BytesIO(data), **kw))  # type: ignore[arg-type]


def drain(src: object, **kw: object) -> int:
    with open_input(src, **kw) as inp:  # type: ignore[arg-type]
        n = 0
        while chunk := inp.raw.read(MiB):
            n += len(chunk)
        return n


def test_line_endings_lf_crlf_cr() -> None:
    assert lines(b"a\r\nb\rc\nd") == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]


def test_crlf_split_across_chunks() -> None:
    data = b"x" * (MiB - 1) + b"\r\nnext\r\n"
    out = lines(data, max_line_bytes=2 * MiB)
    assert [n for n, _ in out] == [1, 2]  # type: ignore[misc]
    assert out[1] == (2, "next")


def test_utf8_bom_stripped() -> None:
    assert lines(b"\xef\xbb\xbfevil.com\n") == [(1, "evil.com")]


@pytest.mark.parametrize("enc", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_with_bom(enc: str) -> None:
    # Endian-specific codecs write no BOM themselves; the file has one.
    bom = "\ufeff" if enc.endswith("-be") else ""
    data = (bom + "évil.com\r\nb.org\n").encode(enc)
    assert lines(data) == [(1, "évil.com"), (2, "b.org")]


def test_latin1_rejected_per_line_with_hint() -> None:
    data = "ok.com\ncafé.com\nok2.com\n".encode("latin-1")
    out = lines(data)
    assert out[0] == (1, "ok.com") and out[2] == (3, "ok2.com")
    rej = out[1]
    assert isinstance(rej, Rejection) and rej.line == 2
    assert rej.reason == (
        "invalid UTF-8 at byte 3 of the line; pass --encoding if the file is not UTF-8"
    )


def test_latin1_accepted_with_encoding() -> None:
    data = "ok.com\ncafé.com\n".encode("latin-1")
    assert lines(data, encoding="latin-1") == [(1, "ok.com"), (2, "café.com")]


def test_huge_line_rejected_without_stopping() -> None:
    data = b"a.com\n" + b"x" * (5 * MiB) + b"\nb.com\n"
    out = lines(data)
    assert out[0] == (1, "a.com")
    assert isinstance(out[1], Rejection) and out[1].line == 2 and "longer than" in out[1].reason
    assert out[2] == (3, "b.com")


def test_huge_last_line_without_newline() -> None:
    out = lines(b"a.com\n" + b"y" * (3 * MiB))
    assert out[0] == (1, "a.com") and isinstance(out[1], Rejection) and len(out) == 2


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(100),
        bytes(range(256)) * 32,
        b"abc\x00def\n" * 10,
    ],
)
def test_binary_file_refused(data: bytes) -> None:
    with pytest.raises(InputError, match=r"<input>: looks like a binary file \(.*\); not ingested"):
        lines(data)


def test_empty_file_refused(tmp_path: Path) -> None:
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with open_input(p) as inp, pytest.raises(InputError, match=r"empty\.txt: file is empty"):
        list(iter_lines(inp.raw, name=inp.name))


def test_plain_file_passes_through(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes(b"evil.com\n")
    with open_input(p) as inp:
        assert inp.compression is None and inp.name == str(p)
        assert list(iter_lines(inp.raw)) == [(1, "evil.com")]


def test_gzip_detected_by_magic_not_extension(tmp_path: Path) -> None:
    p = tmp_path / "list.txt"  # no .gz on purpose
    p.write_bytes(gzip.compress(b"a.com\nb.com\n"))
    with open_input(p) as inp:
        assert inp.compression == "gzip"
        assert list(iter_lines(inp.raw)) == [(1, "a.com"), (2, "b.com")]


def test_gzip_from_a_pipe_like_stream() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._b = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            return self._b.readinto(b)

        def seekable(self) -> bool:
            return False

    pipe = io.BufferedReader(Pipe(gzip.compress(b"a.com\n")))
    with open_input(pipe, name="<stdin>") as inp:  # type: ignore[arg-type]
        assert list(iter_lines(inp.raw)) == [(1, "a.com")]


def _gzip_bomb(gib: int) -> bytes:
    # One member of 1 MiB of zeros (~1 KB), repeated: multi-member gzip is valid, and
    # the file (2 MiB for 2 GiB) is built without ever holding the expanded data.
    member = gzip.compress(bytes(MiB), compresslevel=9)
    return member * (gib * 1024)


def test_gzip_bomb_stopped_by_ratio() -> None:
    with pytest.raises(InputError, match="possible zip bomb"):
        drain(io.BytesIO(_gzip_bomb(2)), name="bomb.gz")


def test_gzip_bomb_stopped_by_size_limit() -> None:
    with pytest.raises(InputError, match="larger than the limit of 67108864 bytes"):
        drain(io.BytesIO(_gzip_bomb(2)), max_ratio=10**9, max_bytes=64 * MiB)


def test_small_compressible_gzip_is_fine() -> None:
    assert drain(io.BytesIO(gzip.compress(bytes(512 * 1024)))) == 512 * 1024


def _zip(tmp_path: Path, members: dict[str, bytes | int]) -> Path:
    p = tmp_path / "a.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            with zf.open(name, "w") as f:
                if isinstance(content, int):  # that many zeros, written in chunks
                    for _ in range(content // MiB):
                        f.write(bytes(MiB))
                else:
                    f.write(content)
    return p


def test_zip_single_member(tmp_path: Path) -> None:
    p = _zip(tmp_path, {"feed.csv": b"value\na.com\n"})
    with open_input(p) as inp:
        assert inp.compression == "zip"
        assert list(iter_lines(inp.raw)) == [(1, "value"), (2, "a.com")]


def test_zip_bomb(tmp_path: Path) -> None:
    p = _zip(tmp_path, {"zeros.txt": 64 * MiB})
    with pytest.raises(InputError, match="possible zip bomb"):
        drain(p)


def test_zip_with_two_members(tmp_path: Path) -> None:
    p = _zip(tmp_path, {"a.txt": b"a\n", "b.txt": b"b\n"})
    with pytest.raises(InputError, match=r"exactly one file, this one holds 2: a\.txt, b\.txt"):
        open_input(p)


def test_zip_on_a_pipe_is_refused(tmp_path: Path) -> None:
    data = _zip(tmp_path, {"a.txt": b"a\n"}).read_bytes()

    class NoSeek(io.BytesIO):
        def seek(self, *a: object) -> int:  # type: ignore[override]
            raise OSError("not seekable")

    with pytest.raises(InputError, match="seekable"):
        open_input(NoSeek(data))  # type: ignore[arg-type]


def test_truncated_gzip_raises_after_the_lines_before(tmp_path: Path) -> None:
    # Decision: an InputError mid-stream propagates; what was yielded stays yielded.
    body = b"".join(b"host%d.example\n" % i for i in range(200_000))
    data = gzip.compress(body)[:-4000]
    seen: list[object] = []
    with (
        open_input(io.BytesIO(data), name="t.gz") as inp,
        pytest.raises(InputError, match=r"t\.gz: gzip stream is truncated"),
    ):
        for item in iter_lines(inp.raw):
            seen.append(item)
    assert seen and seen[0] == (1, "host0.example")


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b"a.com\n" * 1000))
    data[20:40] = b"\xff" * 20
    with pytest.raises(InputError, match="corrupt gzip"):
        drain(io.BytesIO(bytes(data)))


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        open_input(tmp_path / "nope.txt")


def test_raw_deflate_is_not_gzip() -> None:
    # zlib data has no gzip magic: it is treated as (binary) content, not decompressed.
    with open_input(io.BytesIO(zlib.compress(b"a" * 100))) as inp:
        assert inp.compression is None
