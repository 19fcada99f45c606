"""Parsers for the context a source attaches to an indicator: TLP, times, confidence, tags.

Pure functions, no I/O. Every format reader calls these so that ``TLP:WHITE`` in a CSV,
``tlp:white`` in a MISP tag and the STIX TLP 1.0 marking id all end up as the same
``clear``, and a date means the same instant whatever shape the source wrote it in.

Each parser raises :class:`ValueError` with a short reason that readers copy into
their rejections, so the reason must make sense on its own ("unknown TLP 'x'").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = [
    "CONFIDENCE_WORDS",
    "TLP_LEVELS",
    "TLP_MARKING_IDS",
    "normalize_tag",
    "parse_confidence",
    "parse_time",
    "parse_tlp",
]

#: The normalised TLP levels, least to most restrictive (TLP 2.0 names).
TLP_LEVELS: tuple[str, ...] = ("clear", "green", "amber", "amber+strict", "red")

#: STIX marking-definition ids of the standard TLP markings.
#: TLP 1.0 ids are the ones STIX 2.0/2.1 predefine (``stix2.v21.common.TLP_*``);
#: TLP 2.0 ids are from the OASIS ``tlp-2.0`` extension
#: (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d), which ``stix2``
#: does not ship. Written out so that this module stays import-light and pure.
TLP_MARKING_IDS: dict[str, str] = {
    # TLP 1.0, predefined by STIX 2.x
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
    # TLP 2.0 extension
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}

_TLP_NAMES: dict[str, str] = {
    "clear": "clear",
    "white": "clear",  # TLP 1.0 name of the same level
    "green": "green",
    "amber": "amber",
    "amber+strict": "amber+strict",
    "amber-strict": "amber+strict",
    "red": "red",
}


def parse_tlp(s: str) -> str:
    """Return the normalised TLP level of ``s``: one of :data:`TLP_LEVELS`.

    Accepts level names with or without the ``TLP:`` prefix in any case
    (``TLP:WHITE`` and ``white`` give ``clear``; ``tlp:amber+strict``, ``AMBER``)
    and the STIX marking-definition ids of TLP 1.0 and TLP 2.0.

    Raises :class:`ValueError` (``unknown TLP 'x'``) for anything else.
    """
    key = s.strip().lower()
    level = _TLP_NAMES.get(key)
    if level is not None:
        return level
    if key.startswith("tlp:") or key.startswith("tlp "):
        level = _TLP_NAMES.get(key[4:].strip())
        if level is not None:
            return level
    level = TLP_MARKING_IDS.get(key)
    if level is not None:
        return level
    raise ValueError(f"unknown TLP {s!r}")


# Epoch values above this are milliseconds: 10**11 s is the year 5138, while 10**11 ms
# is 1973, so the two ranges that matter do not overlap.
_MS_THRESHOLD = 10**11
# Far enough to catch garbage (a phone number read as seconds) yet allow any real date.
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
_DIGITS = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _from_number(x: float) -> int:
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"time {x!r} is not a number")
    seconds = x / 1000 if abs(x) > _MS_THRESHOLD else x
    if not -_MAX_EPOCH <= seconds <= _MAX_EPOCH:
        raise ValueError(f"epoch time {x!r} is out of range")
    return int(seconds)


def parse_time(v: str | int | float) -> int:
    """Return ``v`` as UTC epoch seconds.

    Accepts ISO 8601 with or without a zone (a naive time is UTC): ``2020-10-06``,
    ``2020-10-06 12:00:00``, ``2020-10-06T12:00:00.123Z``, ``…+02:00``; and epoch
    seconds or milliseconds as numbers or digit strings (milliseconds when the value
    is above 10^11). Fractions of a second are truncated.

    Raises :class:`ValueError` naming the reason.
    """
    if type(v) is str:
        # Fast path for the common case, a string fromisoformat reads: the same
        # steps as below in the same order, without the type tests. Anything else
        # falls through to the general path.
        s = v.strip()
        if s and not s.isdigit():
            try:
                dt = datetime.fromisoformat(s)
            except ValueError:
                pass
            else:
                if dt.tzinfo is None:
                    dt = dt.replace(tzinfo=UTC)
                return int(dt.timestamp())
    if isinstance(v, bool):
        # bool is an int subclass; True as "1970-01-01T00:00:01" is never meant.
        raise ValueError(f"time {v!r} is a boolean")
    if isinstance(v, int | float):
        return _from_number(v)
    if not isinstance(v, str):
        # JSON sources can put anything here (a list, an object): a clear error, no crash.
        raise ValueError(f"time must be a string or a number, not {type(v).__name__}")
    s = v.strip()
    if not s:
        raise ValueError("time is empty")
    if s.isdigit():
        # Before fromisoformat, which reads 8 digits as a basic-format date: digit
        # strings from feeds are epoch values.
        return _from_number(int(s))
    # Fast path: Python 3.11's fromisoformat takes nearly all ISO 8601 shapes in C,
    # including a trailing Z and a space separator. Ingest calls this per row.
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        pass
    else:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return int(dt.timestamp())
    if _DIGITS.fullmatch(s):
        return _from_number(float(s) if "." in s else int(s))
    # Shapes fromisoformat refuses but feeds write: "2020-10-06 12:00:00 UTC",
    # "2020/10/06 12:00:00".
    t = s.replace("/", "-")
    if t.upper().endswith(" UTC") or t.upper().endswith(" GMT"):
        t = t[:-4]
    if t != s:
        try:
            dt = datetime.fromisoformat(t)
        except ValueError:
            pass
        else:
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            return int(dt.timestamp())
    raise ValueError(f"not a date or time: {s[:40]!r}")


#: Words accepted as confidence, with the number they stand for. The three levels
#: are the middles of the STIX 2.1 "High/Medium/Low" scale (Appendix A: 70-100,
#: 30-69, 1-29), rounded: high 85, medium 50, low 15. ``none`` is STIX's 0.
CONFIDENCE_WORDS: dict[str, int] = {
    "high": 85,
    "medium": 50,
    "med": 50,
    "low": 15,
    "none": 0,
    # MISP's "confidence-level" taxonomy values (CIRCL taxonomy).
    "completely-confident": 100,
    "usually-confident": 75,
    "fairly-confident": 50,
    "rarely-confident": 25,
    "unconfident": 0,
    "confidence-cannot-be-evaluated": 50,
}


def parse_confidence(v: str | int | float) -> int:
    """Return ``v`` as an integer confidence from 0 to 100.

    Accepts integers and numeric strings in 0–100 (floats are rounded), the words
    in :data:`CONFIDENCE_WORDS` (``high``/``medium``/``low`` → 85/50/15, following the
    STIX 2.1 confidence scale), and MISP ``confidence-level:…`` tags or values.

    Raises :class:`ValueError` for anything else, including numbers out of range.
    """
    if isinstance(v, bool):
        raise ValueError(f"confidence {v!r} is a boolean")
    if isinstance(v, int | float):
        n = v
    elif not isinstance(v, str):
        raise ValueError(f"confidence must be a string or a number, not {type(v).__name__}")
    else:
        s = v.strip().lower()
        if s.startswith("confidence-level:"):
            s = s[len("confidence-level:") :].strip('" ')
        word = CONFIDENCE_WORDS.get(s)
        if word is not None:
            return word
        if s.endswith("%"):
            s = s[:-1].strip()
        try:
            n = float(s)
        except ValueError:
            raise ValueError(f"confidence {v!r} is not a number from 0 to 100") from None
    if n != n or not 0 <= n <= 100:
        raise ValueError(f"confidence {v!r} is not a number from 0 to 100")
    return round(n)


_MAX_TAG = 200
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A namespace is a simple token: what MISP taxonomies and our tags use (`actor`,
# `misp-galaxy`, `tlp`). Anything else before a colon (a URL, `C:\path`) is kept as is.
_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def normalize_tag(s: str) -> str:
    """Return the tag ``s`` in canonical form.

    Strips the ends, collapses inner whitespace to single spaces, and lower-cases
    the namespace before the first ``:`` when it is a simple token
    (``Actor:APT28`` → ``actor:APT28``). The part after the colon keeps its case, so
    MISP machine tags such as ``misp-galaxy:threat-actor="Lazarus Group"`` survive.

    Raises :class:`ValueError` for an empty tag, a tag with control characters, or
    one longer than 200 characters.
    """
    # Whitespace first: a tab or newline inside a tag is whitespace to collapse, not
    # a control character to reject.
    t = _SPACES.sub(" ", s).strip()
    if _CONTROL.search(t):
        raise ValueError("tag contains control characters")
    if not t:
        raise ValueError("tag is empty")
    if len(t) > _MAX_TAG:
        raise ValueError(f"tag is longer than {_MAX_TAG} characters")
    ns, sep, rest = t.partition(":")
    if sep and rest and _NAMESPACE.fullmatch(ns):
        t = ns.lower() + ":" + rest.lstrip()
    return t
