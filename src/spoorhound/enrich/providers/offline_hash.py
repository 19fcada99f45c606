"""``hash``: what kind of file hash an indicator is, and whether it is a known-benign one.

Attributes: ``algorithm``, ``bits`` (digest size; absent for fuzzy hashes),
``fuzzy`` (ssdeep/TLSH), ``empty_file`` (the digest of zero bytes, which shows up in
IOC lists more often than one would think), for ssdeep the ``block_size``, and
``known_benign`` / ``benign_lists`` from the known-benign hash warninglists (the same
index the ``warninglists`` provider uses, so it costs one lookup). Context only: the
verdict is always ``unknown``; the ``warninglists`` provider owns the benign verdict.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

from spoorhound.core.indicators import Indicator, IndicatorType
from spoorhound.enrich.provider import EnrichmentResult, OfflineProvider, Status, Verdict
from spoorhound.enrich.providers.offline_data import OfflineDataConfig, safelist_index
from spoorhound.enrich.providers.offline_warninglists import STRONG_HASH_LISTS

__all__ = ["EMPTY_FILE_HASHES", "HashProvider"]

_T = IndicatorType

#: Digests of the empty input.
EMPTY_FILE_HASHES = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    }
)
_BITS = {_T.MD5: 128, _T.SHA1: 160, _T.SHA256: 256, _T.SHA512: 512, _T.IMPHASH: 128}
_LISTED = frozenset({_T.MD5, _T.SHA1, _T.SHA256, _T.SHA512})


class HashProvider(OfflineProvider):
    """Hash algorithm and size, empty-file digests, known-benign hash lists."""

    name: ClassVar[str] = "hash"
    title: ClassVar[str] = "File hash type"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {_T.MD5, _T.SHA1, _T.SHA256, _T.SHA512, _T.SSDEEP, _T.TLSH, _T.IMPHASH}
    )
    cache_ttl: ClassVar[int] = 86_400
    config_model: ClassVar[type[OfflineDataConfig]] = OfflineDataConfig

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """Describe every accepted hash."""
        cfg = self.config
        matches = safelist_index(
            cfg.cache_dir if isinstance(cfg, OfflineDataConfig) else None
        ).matches
        now = int(time.time())
        out: list[EnrichmentResult] = []
        types = self.types
        for ind in indicators:
            t = ind.type
            if t not in types:
                continue
            v = ind.value
            attrs: dict[str, Any] = {"algorithm": t.value, "length": len(v)}
            bits = _BITS.get(t)
            if bits is not None:
                attrs["bits"] = bits
            attrs["fuzzy"] = t is _T.SSDEEP or t is _T.TLSH
            if t is _T.SSDEEP:
                head = v.partition(":")[0]
                if head.isdigit():
                    attrs["block_size"] = int(head)
            tags: tuple[str, ...] = (f"hash:{t.value}",)
            if t in _LISTED:
                attrs["empty_file"] = v in EMPTY_FILE_HASHES
                benign = [n for n in matches(t.value, v) if n in STRONG_HASH_LISTS]
                attrs["known_benign"] = bool(benign)
                if benign:
                    attrs["benign_lists"] = benign
                    tags = (*tags, "hash:known-benign")
            out.append(
                EnrichmentResult(
                    provider=self.name,
                    indicator=ind,
                    status=Status.OK,
                    verdict=Verdict.UNKNOWN,
                    score=None,
                    tags=tags,
                    attributes=attrs,
                    fetched_at=now,
                )
            )
        return out
