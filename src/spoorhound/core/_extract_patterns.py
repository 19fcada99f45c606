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

# --- URLs -------------------------------------------------------------------------
SCHEMES = "https?|ftps?|sftp|tftp|wss?|smb|file|tcp|udp|rtsp|ssh|telnet|ldaps?|irc|rmi|s3|rtmp"
URL = re.compile(
    rf"(?<![\w+.-])(?:{SCHEMES})://[^\s<>\"'`{{}}|\\^\x00-\x1f\x7f]++",
    re.I,
)
# Characters that end a sentence, not a URL, when they are the URL's last character.
URL_TRAILING = ".,;:!?'\"*-_"
BRACKETS = {")": "(", "]": "[", "}": "{", ">": "<"}

# --- dotted tokens: domains, IPv4, CIDR, host:port, file names ----------------------
DOTTED = re.compile(
    r"(?<![\w-])[\w-]++(?:\.[\w-]++)++(?:/[0-9]{1,2}+(?![\w/.]))?(?::[0-9]{1,5}+(?![\w:]))?"
)
IPV4_SHAPE = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
NUMERIC = re.compile(r"[0-9.]+")

# --- e-mail ---------------------------------------------------------------------
EMAIL = re.compile(r"(?<![\w.+%'-])[\w.+%'-]{1,64}+@[\w-]++(?:\.[\w-]++)++")

# --- hex runs: md5/sha1/sha256/sha512/tlsh/imphash/ja3 ------------------------------
HEX = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]{32,130}+(?![0-9A-Za-z_])")
HEX_TYPES = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512", 70: "tlsh"}

# --- IPv6 (validated by the canonicaliser; this only finds candidates) --------------
IPV6 = re.compile(
    r"(?<![\w:.])[0-9A-Fa-f]{0,4}+:[0-9A-Fa-f:.]{2,45}+(?:%[\w.]{1,16}+)?(?:/[0-9]{1,3}+)?(?![\w:])"
)

# --- the rarer types, each with a literal-ish prefix --------------------------------
CVE = re.compile(r"(?<![\w-])CVE[-_‐–][0-9]{4}[-_‐–][0-9]{4,7}+(?![\w-])", re.I)
ATTACK = re.compile(r"(?<![\w-])T1[0-9]{3}(?:\.[0-9]{3})?(?![\w-]|\.[0-9])")
ASN = re.compile(r"(?<![\w-])(?:AS[0-9]{1,10}+|ASN[ :]?[0-9]{1,10}+)(?![\w-])")
MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:.-])"
)
SSDEEP = re.compile(r"(?<![\w:])[0-9]{1,10}+:[A-Za-z0-9/+]{3,64}+:[A-Za-z0-9/+]{1,64}+(?![\w:/+])")
TLSH = re.compile(r"(?<![\w])T1[0-9A-Fa-f]{70}(?![\w])")
JA4 = re.compile(
    r"(?<![\w])[tqd][0-9s][0-9][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}(?![\w])"
)
WALLET = re.compile(
    r"(?<![\w])(?:"
    r"(?P<btc>[13][1-9A-HJ-NP-Za-km-z]{25,34}+|bc1[02-9ac-hj-np-z]{11,71}+)"
    r"|(?P<eth>0x[0-9a-fA-F]{40})"
    r"|(?P<xmr>[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93})"
    r")(?![\w])"
)
# Windows registry keys; a space is allowed inside a component only when a later
# backslash shows the key goes on (``...\Windows NT\CurrentVersion``).
_REG_ROOT = (
    r"(?:HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|"
    r"HKEY_CURRENT_CONFIG|HKLM|HKCU|HKCR|HKU|HKCC)"
)
_PART = r"[^\\\s\"'<>|*?]++"
_PATH_BODY = rf"(?:\\{_PART}(?:[ ](?={_PART}\\)[^\\\s\"'<>|*?]++)*+)++\\?"
REGKEY = re.compile(rf"(?<![\w\\]){_REG_ROOT}{_PATH_BODY}", re.I)
# Windows paths: drive letter, UNC, or %ENV%; quoted paths may hold spaces anywhere.
FILEPATH = re.compile(
    rf"(?<![\w\\%])(?:[A-Za-z]:|\\\\[\w.$-]{{1,64}}+|%[A-Za-z_]{{2,32}}+%){_PATH_BODY}"
)
QUOTED_PATH = re.compile(
    r"\"((?:[A-Za-z]:|\\\\[\w.$-]{1,64}+|%[A-Za-z_]{2,32}+%)\\[^\"\n\r<>|*?]{1,259}+)\""
)
QUOTED_REGKEY = re.compile(rf"\"({_REG_ROOT}\\[^\"\n\r]{{1,300}}+)\"", re.I)
UNIX_PATH = re.compile(
    r"(?<![\w/.:~-])/(?:tmp|etc|var|usr|bin|sbin|opt|home|root|dev/shm|Library|Users|private)"
    r"(?:/[\w.@%+~-]++)++/?"
)
MUTEX = re.compile(
    r"(?:\bmutex(?:es)?(?:[ ]name)?[ ]*(?:[:=]|is|named|called)?[ ]*[\"'“]?"
    r"(?P<label>[\w{][^\s\"'”,;)]{2,127}+))"
    r"|(?<![\w\\])(?P<ns>(?:Global|Local|Session\\[0-9]{1,3})\\[^\s\"'”,;)\\]{3,128}+)",
    re.I,
)
USER_AGENT = re.compile(
    r"(?<![\w/])(?:Mozilla|Opera)/[0-9]\.[0-9]{1,2}[ ]\([^()\n\r]{1,200}+\)[^\n\r\"'<>`]{0,300}+"
)
YARA_START = re.compile(
    r"(?m)^[ \t]*(?:(?:private|global)[ \t]+){0,2}rule[ \t]+[A-Za-z_]\w{0,127}+[^{\n]{0,300}+\{"
)
YARA_MAX = 256 * 1024

# --- context heuristics ----------------------------------------------------------
# Words in front of an indicator that say the text itself calls it benign or an example.
BENIGN_BEFORE = re.compile(
    r"\b(?:benign|legitimate|legit|false[ -]positives?|not[ ]malicious|whitelist(?:ed)?|"
    r"allow-?list(?:ed)?|safe-?list(?:ed)?|known[ ]good|clean)\b",
    re.I,
)
EXAMPLE_BEFORE = re.compile(
    r"(?:\be\.g\.|\bi\.e\.|\bfor[ ]example\b|\bfor[ ]instance\b|\bexample:|\bplaceholder\b|"
    r"\bsuch[ ]as[ ]the[ ]placeholder\b|\bsample[ ]value\b)",
    re.I,
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
