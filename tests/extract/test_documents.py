"""Document front-ends: each format, real samples (read from ../shared at test time), bad input."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from spoorhound.core.indicators import IndicatorType as T
from spoorhound.ingest.documents import (
    DocumentError,
    DocumentLimits,
    detect_kind,
    extract_document,
    load_document,
)

REPORTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "samples" / "reports"


def sample(name: str) -> Path:
    path = REPORTS / name
    if not path.exists():
        pytest.skip(f"sample {name} absent")
    return path


def load(data: bytes, name: str, **kw: object) -> object:
    return load_document(io.BytesIO(data), name, **kw)  # type: ignore[arg-type]


def values(data: bytes, name: str, itype: T) -> set[str]:
    return {c.value for c in extract_document(io.BytesIO(data), name) if c.type == itype}


def make_docx(
    body: str, *, link: str | None = None, extra: dict[str, bytes] | None = None
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        xml = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in body.split("\n"))
        zf.writestr(
            "word/document.xml",
            f'<?xml version="1.0"?><w:document><w:body>{xml}</w:body></w:document>',
        )
        if link:
            zf.writestr(
                "word/_rels/document.xml.rels",
                f'<Relationships><Relationship Id="r1" Target="{link}" TargetMode="External"/></Relationships>',
            )
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


# --- formats ----------------------------------------------------------------------------


def test_plain_text_and_markdown() -> None:
    assert values(b"C2 evil[.]com\n", "a.txt", T.DOMAIN) == {"evil.com"}
    doc = load(b"# Title here\nsee [x](https://bad.org/p)\n", "r.md")
    assert doc.kind == "markdown" and doc.title == "Title here"  # type: ignore[attr-defined]
    assert values(b"see [x](https://bad.org/p)\n", "r.md", T.URL) == {"https://bad.org/p"}


def test_html_visible_text_and_link_targets() -> None:
    html = (
        b"<html><head><title>Rep</title><script>var a='hidden.com';</script></head>"
        b"<body><p>C2 at evil[.]com</p><a href='http://link-target.net/x'>here</a></body></html>"
    )
    doc = load(html, "r.html")
    locations = [s.location for s in doc.segments]  # type: ignore[attr-defined]
    assert "link href" in locations
    cands = extract_document(io.BytesIO(html), "r.html")
    got = {c.value for c in cands}
    assert "evil.com" in got and "http://link-target.net/x" in got
    assert "hidden.com" not in got
    assert any(c.context.startswith("link href:") for c in cands)


def test_eml_headers_bodies_attachments() -> None:
    msg = EmailMessage()
    msg["From"] = "Bad Guy <bad.guy@evil-mail.com>"
    msg["To"] = "victim@corp-example.org"
    msg["Reply-To"] = "reply@evil-reply.net"
    msg["Subject"] = "Invoice"
    msg["Received"] = "from mx.evil-mail.com (mx.evil-mail.com [23.95.97.59]) by mx.corp"
    msg.set_content("Pay at hxxp://evil-pay[.]com/inv now")
    msg.add_alternative("<p>Pay <a href='http://evil-pay.com/html'>here</a></p>", subtype="html")
    msg.add_attachment(
        b"MZ\x00payload", maintype="application", subtype="octet-stream", filename="invoice.exe"
    )
    raw = msg.as_bytes()
    assert detect_kind(raw[:4096], "noext") == "eml"
    cands = extract_document(io.BytesIO(raw), "m.eml")
    by_type: dict[str, set[str]] = {}
    for c in cands:
        by_type.setdefault(str(c.type), set()).add(c.value)
    assert "bad.guy@evil-mail.com" in by_type["email"]
    assert "reply@evil-reply.net" in by_type["email"]
    assert "23.95.97.59" in by_type["ipv4"]
    assert "http://evil-pay.com/inv" in by_type["url"]
    assert "http://evil-pay.com/html" in by_type["url"]
    assert "invoice.exe" in by_type["filename"]
    import hashlib

    assert hashlib.sha256(b"MZ\x00payload").hexdigest() in by_type["sha256"]
    assert any(c.context.startswith("attachment invoice.exe") for c in cands)
    assert any(c.context.startswith("header From") for c in cands)


def test_docx_text_and_links() -> None:
    data = make_docx(
        "C2 server evil[.]com\nhash 68b329da9893e34099c7d8ad5cb9c940", link="http://linked.org/a"
    )
    got = (
        values(data, "r.docx", T.DOMAIN)
        | values(data, "r.docx", T.URL)
        | values(data, "r.docx", T.MD5)
    )
    assert {"evil.com", "http://linked.org/a", "68b329da9893e34099c7d8ad5cb9c940"} <= got


def test_pdf_real_sample_pages() -> None:
    path = sample("cisa_aa20-302a_ransomware_healthcare.pdf")
    doc = load(path.read_bytes(), path.name)
    assert doc.kind == "pdf"  # type: ignore[attr-defined]
    assert len(doc.segments) == 22  # type: ignore[attr-defined]
    cands = extract_document(io.BytesIO(path.read_bytes()), path.name)
    assert any(c.context.startswith("page ") for c in cands)
    assert any(c.type == T.DOMAIN for c in cands)


@pytest.mark.parametrize(
    "name",
    [
        "cisa_aa20-302a_ransomware_healthcare.html",
        "unit42_2025-10-16_multi_stage_android_malware.md",
        "unit42_2020-10-06_ta551_icedid.txt",
        "avast_guptiminer_iocs.md",
    ],
)
def test_real_samples(name: str) -> None:
    path = sample(name)
    cands = extract_document(io.BytesIO(path.read_bytes()), name)
    assert cands
    assert all(c.confidence >= 0 for c in cands)


def test_real_sample_known_indicators() -> None:
    path = sample("unit42_2020-10-06_ta551_icedid.txt")
    got = values(path.read_bytes(), path.name, T.DOMAIN)
    assert {"a020dxl.com", "uzhokpidarok.cyou", "ldraccumuu.fit"} <= got
    assert not any(d.endswith(".cab") for d in got)  # zuhag1.cab is a file name


# --- bad input --------------------------------------------------------------------------


def test_binary_data() -> None:
    with pytest.raises(DocumentError, match=r"blob\.bin: binary data"):
        load(b"\x00\x01\x02garbage" * 100, "blob.bin")


def test_invalid_utf8() -> None:
    with pytest.raises(DocumentError, match="not UTF-8"):
        load(bytes(range(128, 256)) * 20, "latin.txt")
    # a stray byte is tolerated
    assert load(b"evil.com caf\xe9 ok" + b" text" * 100, "ok.txt")


def test_oversized() -> None:
    with pytest.raises(DocumentError, match="byte limit"):
        load(b"a" * 2000, "big.txt", limits=DocumentLimits(max_bytes=1000))


def test_broken_pdf() -> None:
    with pytest.raises(DocumentError, match=r"bad\.pdf: broken PDF"):
        load(b"%PDF-1.4\n garbage that is not a pdf", "bad.pdf")


def test_encrypted_pdf() -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=72, height=72)
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match="encrypted PDF"):
        load(buf.getvalue(), "locked.pdf")


def test_pdf_page_limit() -> None:
    path = sample("cisa_aa20-302a_ransomware_healthcare.pdf")
    with pytest.raises(DocumentError, match="page limit"):
        load(path.read_bytes(), path.name, limits=DocumentLimits(max_pages=5))


def test_time_limit() -> None:
    path = sample("cisa_aa20-302a_ransomware_healthcare.pdf")
    with pytest.raises(DocumentError, match="time limit"):
        load(path.read_bytes(), path.name, limits=DocumentLimits(max_seconds=0.0))


def test_docx_zip_bomb() -> None:
    bomb = make_docx("x", extra={"word/media/zeros.bin": b"\x00" * (4 * 1024 * 1024)})
    with pytest.raises(DocumentError, match="zip bomb"):
        load(bomb, "bomb.docx", limits=DocumentLimits(max_unpacked=1024 * 1024))
    with pytest.raises(DocumentError, match="zip bomb"):
        load(bomb, "bomb.docx")  # ratio check with default limits


def test_broken_docx() -> None:
    with pytest.raises(DocumentError, match="broken DOCX"):
        load(b"PK\x03\x04 truncated", "x.docx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(DocumentError, match="not a DOCX"):
        load(buf.getvalue(), "y.docx")


def test_batch_continues_after_bad_file() -> None:
    batch = [(b"evil.com", "a.txt"), (b"\x00\x00\x00", "b.bin"), (b"1.2.3.4 here", "c.txt")]
    ok, errors = [], []
    for data, name in batch:
        try:
            ok.append(extract_document(io.BytesIO(data), name))
        except DocumentError as exc:
            errors.append(exc.name)
    assert errors == ["b.bin"] and len(ok) == 2
