"""Refang (undo defanging) and defang (safe display) of indicator text. Pure, no I/O.

``refang`` works on a single value or on whole free text. It is a single pass of one
compiled regular expression whose alternatives are all bounded (no nested or unbounded
repetition), so it runs in linear time; text with no defang marker at all is returned
unchanged after one cheap scan. Every supported style is listed in docs/indicators.md.

``defang`` renders a *canonical* value in the common ``hxxps[://]evil[.]com`` style and
is the inverse of ``refang`` for the network types (ipv4, ipv6, cidr, domain, url,
email); other types are displayed as they are.
"""

from __future__ import annotations

import re

from spoorhound.core._hostnames import tlds
from spoorhound.core._itypes import IndicatorType, resolve_type

__all__ = ["defang", "refang"]

_OPEN = r"[\[\(\{<]"
_CLOSE = r"[\]\)\}>]"
_SP = r"[ ]{0,3}"

# One alternative per style; the group name tells the callback what to emit. Order
# matters where two alternatives could start at the same position (first wins).
_FANG_RE = re.compile(
    "|".join(
        (
            # hxxp / hXXp / hxtp / htxp / h**p / fxp (+s), only right before a ':'-ish
            # separator so words like "hxxp" in prose or e-mail local parts are kept.
            rf"\b(?P<scheme>[hH](?:[xX]{{2}}|[tT][xX]|[xX][tT]|\*\*)[pP][sS]?|[fF][xX][pP][sS]?)"
            rf"(?={_SP}{_OPEN}?{_SP}:)",
            # [://] (://) {://}
            rf"(?P<sep>{_OPEN}{_SP}:{_SP}/{_SP}/{_SP}{_CLOSE})",
            # http:\\host (a backslashed scheme separator), only after an http-like scheme
            r"(?P<bsep>(?:(?<=[hH][tTxX]{2}[pP])|(?<=[hH][tTxX]{2}[pP][sS])):\\\\)",
            # "http :// x", "http: //x", "http:// x"
            r"(?P<spsep>(?<=[A-Za-z])(?:[ ]{1,3}:[ ]{0,3}|:[ ]{1,3})//[ ]{0,3}"
            r"|(?<=[A-Za-z])://[ ]{1,3}(?=\S))",
            # [.] (.) {.} <.> [dot] (dot) {DOT} [,] with optional inner/outer spaces
            rf"(?P<dot>{_SP}{_OPEN}{_SP}(?:\.|[dD][oO][tT]|,){_SP}{_CLOSE}{_SP})",
            # [@] (@) {@} [at] (AT)
            rf"(?P<at>{_SP}[\[\(\{{]{_SP}(?:@|[aA][tT]){_SP}[\]\)\}}]{_SP})",
            # [:] (:) {:}
            rf"(?P<colon>{_OPEN}{_SP}:{_SP}{_CLOSE})",
            # [/] [//] (/)
            rf"{_OPEN}{_SP}(?P<slash>//?){_SP}{_CLOSE}",
            # [-]
            r"(?P<dash>\[-\])",
            # half brackets between word characters: evil[.com, evil.]com
            r"(?P<half>(?<=\w)\[\.(?=\w)|(?<=\w)\.\](?=\w))",
            # " dot " between word characters: evil dot com
            r"(?P<wdot>(?<=[A-Za-z0-9])[ ](?:dot|DOT)[ ](?=[A-Za-z0-9]))",
            # " at " only in "user at example dot com" (the domain written with " dot ")
            r"(?P<wat>(?<=[A-Za-z0-9._%+-])[ ](?:at|AT)[ ](?=[A-Za-z0-9-]{1,63}[ ](?:dot|DOT)[ ]))",
            # "user @ example.com"
            r"(?P<spat>(?<=\w)[ ]{1,3}@[ ]{1,3}(?=\w))",
            # backslash-escaped dot, checked by the callback (registry keys use "\.")
            r"(?P<bsdot>(?<=[A-Za-z0-9-])\\\.(?=[A-Za-z0-9]))",
            # JSON-escaped slash
            r"(?P<bsslash>\\/)",
        )
    )
)

# Cheap pre-scan: if none of these occur, no alternative above can match.
_TRIGGER_RE = re.compile(
    r"[\[\]\(\{<\\]|[hH](?:[xX*]|[tT][xX])|[fF][xX][pP]|[ ](?:dot|DOT|at|AT|@)[ ]|:[ ]|[ ]:|//[ ]"
)

_LABEL_RE = re.compile(r"[A-Za-z0-9-]{1,63}")
_FIXED = {
    "sep": "://",
    "bsep": "://",
    "spsep": "://",
    "dot": ".",
    "half": ".",
    "wdot": ".",
    "at": "@",
    "wat": "@",
    "spat": "@",
    "colon": ":",
    "dash": "-",
    "bsslash": "/",
}


def _escaped_dot(m: re.Match[str]) -> str:
    """Decide whether ``\\.`` is a defanged dot or part of a registry key/Windows path.

    ``evil\\.com`` and ``a\\.b\\.c`` are refanged; ``Classes\\.exe`` (an extension key)
    is not: the label after the dot must be followed by another dot or be a real TLD
    at the end of the token.
    """
    text = m.string
    lab = _LABEL_RE.match(text, m.end())
    if lab is None:  # pragma: no cover - the lookahead guarantees one character
        return m.group()
    nxt = text[lab.end() : lab.end() + 2]
    if nxt[:1] in (".", "[", "(") or nxt == "\\.":
        return "."
    if lab.group().lower() in tlds() and (not nxt or not (nxt[0].isalnum() or nxt[0] in "_\\")):
        return "."
    return m.group()


def _repl(m: re.Match[str]) -> str:
    kind = m.lastgroup
    if kind is None:  # pragma: no cover - every alternative is a named group
        return m.group()
    fixed = _FIXED.get(kind)
    if fixed is not None:
        return fixed
    if kind == "scheme":
        word = m.group("scheme").lower()
        secure = "s" if word.endswith("s") else ""
        return ("ftp" if word[0] == "f" else "http") + secure
    if kind == "slash":
        return m.group("slash")
    return _escaped_dot(m)


def refang(text: str) -> str:
    """Undo every common defang style in ``text`` (a single value or free text).

    Examples: ``hxxps[://]evil[.]com`` -> ``https://evil.com``,
    ``user[@]example(.)com`` -> ``user@example.com``, ``2001[:]db8[:][:]1`` ->
    ``2001:db8::1``. Linear time; returns ``text`` itself when nothing is defanged.
    """
    if _TRIGGER_RE.search(text) is None:
        return text
    return _FANG_RE.sub(_repl, text)


_DEFANG_SCHEME = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ftps": "fxps"}


def _defang_url(value: str) -> str:
    i = value.find("://")
    if i < 0:
        return value
    scheme = value[:i]
    rest = value[i + 3 :]
    end = len(rest)
    for ch in "/?#":
        j = rest.find(ch)
        if 0 <= j < end:
            end = j
    authority, tail = rest[:end], rest[end:]
    at = authority.rfind("@")
    userinfo, hostport = authority[: at + 1], authority[at + 1 :]
    if userinfo:
        userinfo = userinfo[:-1] + "[@]"
    if hostport.startswith("["):
        close = hostport.find("]")
        hostport = "[" + hostport[1:close].replace(":", "[:]") + hostport[close:]
    hostport = hostport.replace(".", "[.]")
    return f"{_DEFANG_SCHEME.get(scheme, scheme)}[://]{userinfo}{hostport}{tail}"


def defang(type: IndicatorType | str, value: str) -> str:
    """Safe display form of a canonical ``value``: ``hxxps[://]evil[.]com/x``.

    Dots in host names and IPs become ``[.]``, IPv6 colons ``[:]``, ``@`` becomes
    ``[@]``; URL paths and queries are left as they are. Types that cannot be clicked
    or resolved (hashes, file names, ...) are returned unchanged. For network types,
    ``refang(defang(t, v)) == v``.
    """
    t = type if isinstance(type, IndicatorType) else resolve_type(type)
    if t is IndicatorType.DOMAIN or t is IndicatorType.IPV4:
        return value.replace(".", "[.]")
    if t is IndicatorType.IPV6 or t is IndicatorType.CIDR:
        return value.replace(":", "[:]").replace(".", "[.]")
    if t is IndicatorType.URL:
        return _defang_url(value)
    if t is IndicatorType.EMAIL:
        local, _, domain = value.rpartition("@")
        return f"{local}[@]{domain.replace('.', '[.]')}" if local else value
    return value
