"""``lexical``: how a host name reads — features for scoring, and clear typosquats.

Works on the host of a domain, URL or e-mail address (URLs with an IP host are
``not_found``). The *name* below is the label the registrant chose: ``paypal`` in
``www.paypal.co.uk``.

Attributes: ``length`` (host), ``name``, ``name_length``, ``entropy`` (bits per
character of the name), ``digit_ratio`` and ``hyphen_count`` (host, dots excluded),
``max_consonant_run`` and ``vowel_ratio`` (name), ``longest_label`` (host),
``bigram_loglik`` (mean log-probability of the name's character bigrams under a model
of the Tranco top million; popular names score about -2.5 to -3, random strings below
-4), ``punycode`` (an ``xn--`` label), ``non_ascii`` and ``mixed_script`` (for IDNs:
more than one script among the letters, the classic homograph trick), and
``lookalike`` (``{"target", "kind", "distance"}``, see
:class:`spoorhound.enrich.lexical.Lookalike`) against ``protected_domains``.

Verdict: ``suspicious`` (score 70 for a homoglyph, 60 for a one-edit typo, 50 for two
edits) only when the name is a clear look-alike of a protected domain and not that
domain; everything else is ``unknown``. Entropy or an odd bigram score alone never
makes a name suspicious.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field, field_validator

from spoorhound.core.indicators import Indicator, IndicatorType, InvalidIndicator, normalize
from spoorhound.enrich.lexical import (
    BigramModel,
    Lookalike,
    LookalikeIndex,
    bigram_model,
    shannon_entropy,
)
from spoorhound.enrich.provider import EnrichmentResult, OfflineProvider, Status, Verdict
from spoorhound.enrich.providers.offline_data import OfflineDataConfig, host_of, split_host
from spoorhound.enrich.providers.offline_domain import to_unicode

__all__ = ["LexicalConfig", "LexicalProvider"]

_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]+")
_DIGITS = "0123456789"
_SQUAT_SCORE = {"homoglyph": 70, 1: 60, 2: 50}


class LexicalConfig(OfflineDataConfig):
    """Settings of ``lexical``: the domains to protect against look-alikes."""

    protected_domains: list[str] = Field(default_factory=list)
    typosquat_max_distance: int = Field(default=2, ge=0, le=2)

    @field_validator("protected_domains")
    @classmethod
    def _canonical(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for raw in value:
            try:
                out.append(normalize(IndicatorType.DOMAIN, raw))
            except InvalidIndicator as e:
                raise ValueError(f"protected_domains: {e}") from None
        return out


def _split(host: str) -> tuple[str, str, str, str]:
    """(registered, name, suffix, subdomain); a bare suffix is its own name."""
    parts = split_host(host)
    if parts.registered is None:
        return host, host.partition(".")[0], parts.suffix, ""
    name = parts.registered[: -len(parts.suffix) - 1]
    return parts.registered, name, parts.suffix, parts.subdomain


@functools.lru_cache(maxsize=4096)
def _scripts(text: str) -> frozenset[str]:
    """Scripts of the letters in ``text`` (first word of each Unicode name)."""
    found = set()
    for ch in text:
        if ch.isalpha():
            found.add(unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0])
    return frozenset(found)


class LexicalProvider(OfflineProvider):
    """Entropy, Tranco bigram likelihood, look-alikes of protected domains."""

    name: ClassVar[str] = "lexical"
    title: ClassVar[str] = "Lexical features of host names"
    types: ClassVar[frozenset[IndicatorType]] = frozenset(
        {IndicatorType.DOMAIN, IndicatorType.URL, IndicatorType.EMAIL}
    )
    cache_ttl: ClassVar[int] = 30 * 86_400
    config_model: ClassVar[type[LexicalConfig]] = LexicalConfig

    @functools.cached_property
    def _settings(self) -> LexicalConfig:
        cfg = self.config
        return cfg if isinstance(cfg, LexicalConfig) else LexicalConfig()

    @functools.cached_property
    def _lookalikes(self) -> LookalikeIndex:
        entries = []
        for domain in self._settings.protected_domains:
            registered, name, suffix, _ = _split(domain)
            entries.append((registered, name, suffix))
        return LookalikeIndex(entries, self._settings.typosquat_max_distance)

    def enrich_many(self, indicators: Sequence[Indicator]) -> list[EnrichmentResult]:
        """Compute the lexical features of every accepted indicator's host."""
        model = bigram_model(self._settings.cache_dir)
        lookalikes = self._lookalikes
        now = int(time.time())
        out: list[EnrichmentResult] = []
        types = self.types
        for ind in indicators:
            if ind.type not in types:
                continue
            host, is_ip = host_of(ind)
            if not host or is_ip:
                out.append(
                    EnrichmentResult(
                        provider=self.name,
                        indicator=ind,
                        status=Status.NOT_FOUND,
                        attributes={"reason": "no domain name (IP literal or no host)"},
                        fetched_at=now,
                    )
                )
                continue
            attrs, look = _features(host, model, lookalikes)
            verdict, score = Verdict.UNKNOWN, None
            tags: tuple[str, ...] = ()
            if look is not None:
                attrs["lookalike"] = {
                    "target": look.target,
                    "kind": look.kind,
                    "distance": look.distance,
                }
                if look.squat:
                    verdict = Verdict.SUSPICIOUS
                    score = _SQUAT_SCORE.get(
                        "homoglyph" if look.kind == "homoglyph" else look.distance or 1, 50
                    )
                    tags = (f"lookalike:{look.target}", f"lookalike:{look.kind}")
            out.append(
                EnrichmentResult(
                    provider=self.name,
                    indicator=ind,
                    status=Status.OK,
                    verdict=verdict,
                    score=score,
                    tags=tags,
                    attributes=attrs,
                    fetched_at=now,
                )
            )
        return out


def _features(
    host: str, model: BigramModel, lookalikes: LookalikeIndex
) -> tuple[dict[str, Any], Lookalike | None]:
    registered, name, suffix, subdomain = _split(host)
    n = len(name)
    chars = len(host) - host.count(".")
    name_digits = sum(map(name.count, _DIGITS))
    # A-labels hold only letters, digits, '-' and '_' (xn-- labels included).
    letters = n - name_digits - name.count("-") - name.count("_")
    vowels = sum(map(name.count, "aeiou"))
    runs = _CONSONANT_RUN.findall(name)
    attrs: dict[str, Any] = {
        "length": len(host),
        "name": name,
        "name_length": n,
        "entropy": round(shannon_entropy(name), 4),
        "digit_ratio": round(sum(map(host.count, _DIGITS)) / chars, 4) if chars else 0.0,
        "hyphen_count": host.count("-"),
        "max_consonant_run": max(map(len, runs)) if runs else 0,
        "vowel_ratio": round(vowels / letters, 4) if letters else 0.0,
        "longest_label": max(map(len, host.split("."))),
        "bigram_loglik": round(model.score(name), 4),
        "punycode": "xn--" in host,
    }
    unicode_name: str | None = None
    if attrs["punycode"]:
        decoded = to_unicode(host)
        if decoded is not None:
            scripts = _scripts(decoded)
            attrs["non_ascii"] = not decoded.isascii()
            attrs["mixed_script"] = len(scripts) > 1
            if name.startswith("xn--"):
                unicode_name = to_unicode(name)
    look = (
        lookalikes.check(registered, name, suffix, subdomain, unicode_name) if lookalikes else None
    )
    return attrs, look
