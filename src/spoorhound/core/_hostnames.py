"""Host-name canonicalisation: IDNA to A-labels, label syntax, and the real-TLD check.

The set of top-level domains comes from the Public Suffix List snapshot shipped inside
the ``publicsuffixlist`` package. It is read once, lazily, on the first call that needs
it (never at import time), and kept as a frozenset of A-label TLDs.
"""

from __future__ import annotations

import functools
import re

import idna
import publicsuffixlist

from spoorhound.core._itypes import Fail

__all__ = ["FILE_EXTENSIONS", "FILE_EXTENSION_TLDS", "canon_hostname", "is_tld", "tlds"]

# A DNS label in LDH syntax; underscores are tolerated because real zones carry them
# (`_dmarc`, `_domainkey`, service records, some CDN names), but never in the TLD.
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_TLD_SYNTAX_RE = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
# Whole ASCII host: fast path that avoids a per-label loop for the common case.
_ASCII_HOST_RE = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)

# Non-PSL pseudo-TLDs that show up in threat intelligence: Namecoin (.bit, used by
# several malware families for C2) and I2P. `.onion` is already in the PSL.
_EXTRA_TLDS = frozenset({"bit", "i2p"})

# File extensions that are *also* real TLDs and, as a bare `name.ext`, are far more
# often file names than domains in indicator feeds. `detect` prefers FILENAME for these
# when exactly one label precedes the extension; `normalize(DOMAIN, ...)` still accepts
# them. Deliberately short: `.cc`, `.ai`, `.app`, `.pl`, `.so`, `.ml` are left out
# because domains under them are common in feeds (see docs/indicators.md).
FILE_EXTENSION_TLDS = frozenset({"py", "sh", "zip", "mov", "md", "one"})

# File extensions recognised by `detect` for bare file names (lower case).
FILE_EXTENSIONS = frozenset(
    """
    exe dll sys scr com pif cpl ocx drv efi msi msp msix appx appxbundle lnk url hta chm
    bat cmd ps1 psm1 psd1 vbs vbe js jse wsf wsh wsc sct jar class py pyc pyw sh bash
    ksh zsh elf bin so dylib ko o a out apk dex ipa dmg pkg deb rpm app iso img vhd vhdx
    zip rar 7z gz tgz bz2 xz tar cab arj ace lzh z zst doc docx docm dot dotx dotm xls
    xlsx xlsm xlsb xlt xltm xla xlam ppt pptx pptm pps ppsm pot potm rtf odt ods odp pdf
    one onepkg txt csv log ini inf cfg conf reg xml json yaml yml htm html mht mhtml svg
    eml msg ics vcf md jpg jpeg png gif bmp ico tif tiff webp mp3 mp4 mov avi wmv mkv
    wav php asp aspx jsp jspx cgi pl rb lua go rs c cpp h cs java swift kt db sqlite dat
    tmp bak key pem crt cer der pfx p12 ovpn kdbx iqy slk settingcontent-ms library-ms
    search-ms xll wll
    """.split()  # noqa: SIM905 - a word list reads better than 180 quoted items
)


@functools.cache
def tlds() -> frozenset[str]:
    """Every real top-level domain as an A-label, read once from the bundled PSL snapshot."""
    found: set[str] = set(_EXTRA_TLDS)
    with open(publicsuffixlist.PSLFILE, encoding="utf-8") as fh:
        for line in fh:
            rule = line.strip()
            if not rule or rule.startswith("//"):
                continue
            label = rule.rsplit(".", 1)[-1].lstrip("!*").lower()
            if not label:
                continue
            if not label.isascii():
                try:
                    label = idna.alabel(label).decode("ascii")
                except idna.IDNAError:
                    continue
            found.add(label)
    return frozenset(found)


def is_tld(label: str) -> bool:
    """True if ``label`` (lower-case A-label) is a real top-level domain."""
    return label in tlds()


@functools.lru_cache(maxsize=65536)
def canon_hostname(host: str) -> str | Fail:
    """Return the canonical (lower-case A-label, no trailing dot) form of a DNS name.

    Returns a :class:`Fail` with a user-facing reason instead of raising. Results
    (including failures, and the many repeat hosts in feeds) are cached, which also
    amortises IDNA work.
    """
    h = host[:-1] if host.endswith(".") else host
    if h.isascii():
        h = h.lower()
        if _ASCII_HOST_RE.fullmatch(h) and len(h) <= 253:
            tld = h[h.rfind(".") + 1 :]
            if tld not in tlds():
                return Fail(f"'{tld}' is not a known top-level domain")
            if "xn--" in h:
                return _check_alabels(h)
            return h
        return _explain_ascii(h)
    return _canon_idn(h)


def _check_alabels(h: str) -> str | Fail:
    for label in h.split("."):
        if label.startswith("xn--"):
            try:
                idna.ulabel(label)
            except (idna.IDNAError, UnicodeError):
                return Fail(f"invalid punycode label '{label}'")
    return h


def _explain_ascii(h: str) -> Fail:
    """Slow path for ASCII names that failed the fast regex: find the precise reason."""
    if not h:
        return Fail("empty host name")
    if len(h) > 253:
        return Fail(f"name is {len(h)} characters long (max 253)")
    labels = h.split(".")
    if len(labels) < 2:
        return Fail("a domain needs at least two labels")
    for i, label in enumerate(labels):
        if not label:
            return Fail("empty label")
        if len(label) > 63:
            return Fail(f"label '{label[:20]}...' is {len(label)} characters long (max 63)")
        last = i == len(labels) - 1
        if last and not _TLD_SYNTAX_RE.fullmatch(label):
            return Fail(f"'{label}' is not a valid top-level domain")
        if not last and not _LABEL_RE.fullmatch(label):
            bad = next((c for c in label if not (c.isalnum() or c in "-_")), None)
            if bad is not None:
                return Fail(f"invalid character {bad!r} in label '{label}'")
            return Fail(f"label '{label}' must not start or end with '-'")
    return Fail("invalid host name")


def _canon_idn(h: str) -> str | Fail:
    try:
        # UTS #46 mapping folds case, full-width forms and ideographic full stops.
        mapped = idna.uts46_remap(h, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError) as exc:
        return Fail(f"invalid internationalised name: {exc}")
    if mapped.endswith("."):
        mapped = mapped[:-1]
    out = []
    for label in mapped.split("."):
        if label.isascii():
            out.append(label)
            continue
        try:
            out.append(idna.alabel(label).decode("ascii"))
        except (idna.IDNAError, UnicodeError) as exc:
            return Fail(f"invalid internationalised label '{label}': {exc}")
    return canon_hostname(".".join(out))
