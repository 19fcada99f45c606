"""The compiled patterns of the extractor, and the word lists its heuristics use.

Every pattern here must run in time linear in the input, whatever the input: each
variable-length run is possessive (``++``/``{m,n}+``) and anchored by a look-behind
that fails inside a run, so a run is consumed once from its start and never
re-scanned from the middle. No quantified group contains another unbounded quantifier
that can give characters back. ``bench/extract.py`` times 1/2/4/8 MB of adversarial
input for each of them.

Patterns are compiled at import (compiling is cheap and pure); no data is read here.
"""

from __future__ import annotations

import re

# Most patterns start with a literal or a narrow character class and have no leading
# look-behind: a leading look-behind (or re.IGNORECASE) stops the engine from skipping
# through the text in C. The left boundary is then checked in Python on each match
# (``boundary_ok`` in extract.py), which is cheap because matches are rare.

# --- URLs: anchored on "://"; the scheme before it is read with SCHEME_END ----------
SCHEMES = "https?|ftps?|sftp|tftp|wss?|smb|file|tcp|udp|rtsp|ssh|telnet|ldaps?|irc|rmi|s3|rtmp"
URL_TAIL = re.compile(r"://[^\s<>\"'`{}|\\^\x00-\x1f\x7f]++")
SCHEME_END = re.compile(rf"(?:{SCHEMES})\Z", re.I)
# The same schemes as a set, longest first, for ASCII text (where lower() == re.I).
SCHEME_NAMES = frozenset(
    n
    for alt in SCHEMES.split("|")
    for n in (alt.rstrip("?"), alt.rstrip("?")[:-1] if alt.endswith("?") else "")
    if n
)
SCHEME_MAX = max(map(len, SCHEME_NAMES))
# Characters that end a sentence, not a URL, when they are the URL's last character.
URL_TRAILING = ".,;:!?'\"*-_"
BRACKETS = {")": "(", "]": "[", "}": "{", ">": "<"}

# --- whitespace-separated tokens holding "." / ":" are searched with these ---------
DOTTED = re.compile(
    r"(?<![\w-])[\w-]++(?:\.[\w-]++)++(?:/[0-9]{1,2}+(?![\w/.]))?(?::[0-9]{1,5}+(?![\w:]))?"
)
# re.ASCII is the same pattern on ASCII text, and its classes test faster.
DOTTED_ASCII = re.compile(DOTTED.pattern, re.ASCII)
IPV4_SHAPE = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
NUMERIC = re.compile(r"[0-9.]+")
IPV6 = re.compile(
    r"(?<![\w:.])[0-9A-Fa-f]{0,4}+:[0-9A-Fa-f:.]{2,45}+(?:%[\w.]{1,16}+)?(?:/[0-9]{1,3}+)?(?![\w:])"
)
MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:.-])"
)
# Literal-first anchors (pattern, characters back to the match start) for patterns that
# start with a character class; see ``_extract_util.anchored_finditer``. Each anchor
# sits at a fixed place in every match of its pattern.
# Look-behinds placed after an anchor's literal keep its fast scan; the MAC ones repeat
# the pattern's own left boundary, so that a run of "00:00:00:…" anchors once, not at
# every ":".
MAC_ANCHORS = tuple(
    (re.compile(rf"{sep}(?<=[0-9A-Fa-f]{{{k}}}{sep})(?<![\w:.-][0-9A-Fa-f]{{{k}}}{sep})"), k)
    for sep, k in ((":", 2), ("-", 2), ("\\.", 4))
)

# --- e-mail: anchored on "@"; the local part is read backwards with LOCAL_END --------
EMAIL_TAIL = re.compile(r"@[\w-]++(?:\.[\w-]++)++")
# Matched on the reversed characters before "@": one anchored match instead of a
# search that would retry at each of the 64 positions.
LOCAL_REVERSED = re.compile(r"[\w.+%'-]{1,64}")

# --- hex runs: md5/sha1/sha256/sha512/tlsh/imphash/ja3 ------------------------------
HEX = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]{32,130}+(?![0-9A-Za-z_])")
HEX_TYPES = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512", 70: "tlsh"}

# --- the rarer types --------------------------------------------------------------
CVE = re.compile(r"[Cc][Vv][Ee][-_‐–][0-9]{4}[-_‐–][0-9]{4,7}+(?![\w-])")
CVE_ANCHORS = tuple((re.compile(rf"{v}(?=[Ee][-_‐–][0-9])"), 1) for v in "vV")
ATTACK = re.compile(r"T1[0-9]{3}(?:\.[0-9]{3})?(?![\w-]|\.[0-9])")
ASN = re.compile(r"AS(?:[0-9]{1,10}+|N[ :]?[0-9]{1,10}+)(?![\w-])")
SSDEEP = re.compile(r"[0-9]{1,10}+:[A-Za-z0-9/+]{3,64}+:[A-Za-z0-9/+]{1,64}+(?![\w:/+])")
TLSH = re.compile(r"T1[0-9A-Fa-f]{70}(?![\w])")
JA4 = re.compile(r"[tqd][0-9s][0-9][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}(?![\w])")
JA4_ANCHORS = ((re.compile(r"_(?=[0-9a-f]{12}_[0-9a-f]{12})"), 10),)
WALLET = re.compile(
    r"(?:"
    r"(?P<btc>[13][1-9A-HJ-NP-Za-km-z]{25,34}+|bc1[02-9ac-hj-np-z]{11,71}+)"
    r"|(?P<eth>0x[0-9a-fA-F]{40})"
    r"|(?P<xmr>[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93})"
    r")(?![\w])"
)
_B58 = "[1-9A-HJ-NP-Za-km-z]"
# Each anchor also checks the left boundary (no word character before the address),
# which every wallet match needs: "1111…" anchors once, not at every "1".
WALLET_ANCHORS = (
    *((re.compile(rf"{c}(?<!\w{c})(?={_B58}{{25}})"), 0) for c in "13"),
    *((re.compile(rf"{c}(?<!\w{c})(?=[0-9AB]{_B58}{{93}})"), 0) for c in "48"),
    (re.compile(r"bc1(?<!\wbc1)"), 0),
    (re.compile(r"0x(?<!\w0x)"), 0),
)
# Windows registry keys; a space is allowed inside a component only when a later
# backslash shows the key goes on (``...\Windows NT\CurrentVersion``).
_REG_ROOT = (
    r"HK(?:EY_LOCAL_MACHINE|EY_CURRENT_USER|EY_CLASSES_ROOT|EY_USERS|"
    r"EY_CURRENT_CONFIG|LM|CU|CR|U|CC)"
)
_PART = r"[^\\\s\"'<>|*?]++"
_PATH_BODY = rf"(?:\\{_PART}(?:[ ](?={_PART}\\)[^\\\s\"'<>|*?]++)*+)++\\?"
REGKEY = re.compile(rf"{_REG_ROOT}{_PATH_BODY}")
# Windows paths. A drive path is found from its ":\" (the letter before it is checked
# in Python); UNC and %ENV% paths start with "\\" and "%".
DRIVE_PATH = re.compile(rf":{_PATH_BODY}")
UNC_PATH = re.compile(rf"\\\\[\w.$-]{{1,64}}+{_PATH_BODY}")
ENV_PATH = re.compile(rf"%[A-Za-z_]{{2,32}}+%{_PATH_BODY}")
# Quoted paths and keys may hold spaces anywhere.
QUOTED_PATH = re.compile(
    r"\"((?:[A-Za-z]:|\\\\[\w.$-]{1,64}+|%[A-Za-z_]{2,32}+%)\\[^\"\n\r<>|*?]{1,259}+)\""
)
QUOTED_REGKEY = re.compile(rf"\"({_REG_ROOT}\\[^\"\n\r]{{1,300}}+)\"")
UNIX_PATH = re.compile(
    r"/(?:tmp|etc|var|usr|bin|sbin|opt|home|root|dev/shm|Library|Users|private)"
    r"(?:/[\w.@%+~-]++)++/?"
)
# "mutex: NAME" is found from its "utex" (the "m"/"M" before it is checked in Python).
MUTEX_LABEL = re.compile(
    r"utex(?:es)?(?:[ ]name)?[ ]*(?:[:=]|is|named|called)?[ ]*[\"'“]?"
    r"(?P<label>[\w{][^\s\"'”,;)]{2,127}+)"
)
MUTEX_NS = re.compile(r"(?:Global|Local|Session\\[0-9]{1,3})\\[^\s\"'”,;)\\]{3,128}+")
# One scan for the three: the "\\" after the name, which a look-behind checks (in C) and
# captures (the match starts at the captured name; see ``anchored_finditer``).
MUTEX_NS_ANCHORS = ((re.compile(r"\\(?:(?<=(Global)\\)|(?<=(Local)\\)|(?<=(Session)\\))"), None),)
USER_AGENT = re.compile(
    r"(?:Mozilla|Opera)/[0-9]\.[0-9]{1,2}[ ]\([^()\n\r]{1,200}+\)[^\n\r\"'<>`]{0,300}+"
)
USER_AGENT_ANCHORS = ((re.compile("Mozilla/"), 0), (re.compile("Opera/"), 0))
# TLSH digests and ATT&CK ids both start with "T1": one scan finds where either may start.
T1 = re.compile("T1")
# Found from the literal "rule"; that it starts its line (after optional private /
# global modifiers) is checked in Python.
YARA_START = re.compile(r"rule[ \t]+[A-Za-z_]\w{0,127}+[^{\n]{0,300}+\{")
YARA_MODIFIERS = frozenset({"", "private", "global", "private global", "global private"})
YARA_MAX = 256 * 1024

# --- context heuristics ----------------------------------------------------------
# Words in front of an indicator that say the text itself calls it benign or an example.
# Searched in the lower-cased line before a candidate, and only after a cheap
# substring test with the *_HINTS words says one may be there.
BENIGN_HINTS = (
    "benign",
    "legit",
    "false",
    "not mal",
    "whitelist",
    "allow",
    "safe",
    "known good",
    "clean",
)
BENIGN_BEFORE = re.compile(
    r"\b(?:benign|legitimate|legit|false[ -]positives?|not[ ]malicious|whitelist(?:ed)?|"
    r"allow-?list(?:ed)?|safe-?list(?:ed)?|known[ ]good|clean)\b"
)
EXAMPLE_HINTS = ("e.g.", "i.e.", "example", "instance", "placeholder", "sample value")
EXAMPLE_BEFORE = re.compile(
    r"(?:\be\.g\.|\bi\.e\.|\bfor[ ]example\b|\bfor[ ]instance\b|\bexample:|\bplaceholder\b|"
    r"\bsample[ ]value\b)"
)
VERSION_BEFORE = re.compile(
    r"(?:\bv|\bver\.?|\bversion|\brelease|\bbuild|\brev\.?|\bupdate|\bpatch)[ :]*$", re.I
)
# Label in front of a 32-hex run that says what kind of digest it is.
HEX_LABEL = re.compile(r"\b(ja3s|ja3|imphash|md5|sha-?1|sha-?256|sha-?512|tlsh)\b", re.I)
HASH_LABEL_TYPES = {"ja3s": "ja3s", "ja3": "ja3", "imphash": "imphash"}

# First labels of dotted code identifiers that are never host names in a report.
CODE_PREFIXES = frozenset(
    [
        "system",
        "microsoft.win32",
        "window",
        "document",
        "self",
        "this",
        "os",
        "sys",
        "console",
        "math",
        "json",
        "java",
        "javax",
        "android",
        "androidx",
        "kotlin",
        "process",
        "navigator",
        "location",
        "response",
        "request",
        "req",
        "res",
        "app",
        "module",
        "exports",
        "object",
        "string",
        "array",
        "reflection",
        "runtime",
        "shell",
        "wscript",
    ]
)
# ``com.google.android.gms`` style package names: reversed domains, never hosts.
REVERSED_ROOTS = frozenset({"com", "org", "net", "io", "de", "uk", "cn", "ru", "jp", "fr"})
# RFC 2606 / 6761 names and documentation ranges: examples, not indicators.
EXAMPLE_DOMAINS = frozenset({"example.com", "example.net", "example.org", "example.edu"})
EXAMPLE_TLDS = frozenset({"example", "test", "invalid", "localhost"})
EXAMPLE_NETS_V4 = ("192.0.2.", "198.51.100.", "203.0.113.")
