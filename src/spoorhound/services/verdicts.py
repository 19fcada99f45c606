"""Analyst input on scores: verdicts, pinned levels and sightings (each rescored at once).

* :func:`record_verdict` — ``malicious`` (confirmed), ``false_positive`` (optionally
  adding the value to a named safelist) or ``benign``, with a comment; append-only,
  the latest per (indicator, enclave) counts.
* :func:`pin` / :func:`unpin` — an analyst's manual level, kept until removed or
  until it expires; re-ingest and enrichment never change it, and the formula's
  ``risk_recommended`` stays visible next to it.
* :func:`record_sighting` — the indicator was seen in our network; it restarts the
  age decay.
* :func:`labelled_examples` — the verdicts as training labels for ``model train``.

Authorization (write permission on the enclave) is the caller's job; every change is
written to the audit log here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa

from spoorhound.core.scoring import LEVELS, VERDICTS
from spoorhound.services import audit
from spoorhound.services.indicator_edits import resolve
from spoorhound.services.jobs import now as _now
from spoorhound.services.scoring import Scorer, rescore
from spoorhound.storage import schema
from spoorhound.storage.engine import Store

__all__ = [
    "IndicatorNotFound",
    "labelled_examples",
    "pin",
    "record_sighting",
    "record_verdict",
    "unpin",
    "verdicts",
]

I = schema.indicator  # noqa: E741
E = schema.enclave
V = schema.analyst_verdict
P = schema.risk_override
SG = schema.sighting

Scope = Collection[str] | None

#: Longest comment kept with a verdict or pin.
MAX_COMMENT = 4_000


class IndicatorNotFound(LookupError):
    """No indicator with that reference is visible to the caller."""


def _one(store: Store, ref: str, scope: Scope, itype: str | None) -> dict[str, Any]:
    found = resolve(store, ref, scope=scope, type=itype)
    if not found:
        raise IndicatorNotFound(f"indicator {ref!r} not found")
    if len(found) > 1:
        types = ", ".join(r["type"] for r in found)
        raise ValueError(f"{ref!r} names several indicators ({types}); give the type")
    return found[0]


def _enclave_id(store: Store, name: str) -> int:
    with store.read() as conn:
        eid = conn.execute(sa.select(E.c.id).where(E.c.name == name)).scalar()
    if eid is None:
        raise LookupError(f"enclave {name!r} not found")
    return int(eid)


def _comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValueError(f"comment longer than {MAX_COMMENT} characters")
    return comment or None


def _audit_and_rescore(
    store: Store,
    ind: Mapping[str, Any],
    action: str,
    actor: str,
    scorer: Scorer,
    details: dict[str, Any],
    *,
    enclave: str | None,
) -> None:
    """Audit an analyst's change to ``ind`` and rescore it (in ``enclave`` only, if given)."""
    audit.record(
        store, actor=actor, action=action, target=f"{ind['type']}:{ind['value']}", details=details
    )
    rescore(store, [ind["pk"]], scorer=scorer, enclave=enclave)


def record_verdict(
    store: Store,
    ref: str,
    verdict: str,
    *,
    enclave: str,
    actor: str,
    scorer: Scorer,
    comment: str | None = None,
    safelist: str | None = None,
    scope: Scope = None,
    itype: str | None = None,
    at: int | None = None,
) -> dict[str, Any]:
    """Record an analyst verdict on an indicator in ``enclave`` and rescore it."""
    verdict = verdict.strip().lower().replace("-", "_")
    if verdict == "false_positive_safelist":
        verdict = "false_positive"
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    if safelist and verdict != "false_positive":
        raise ValueError("only a false positive can be added to a safelist")
    ind = _one(store, ref, scope, itype)
    eid = _enclave_id(store, enclave)
    at = _now() if at is None else at
    text = _comment(comment)
    if safelist:
        # First, so an unknown list fails before anything is written.
        from spoorhound.services import safelists

        # Already on the list: the verdict still counts.
        with contextlib.suppress(safelists.EntryExists):
            safelists.add_entry(
                store,
                safelist,
                ind["value"],
                kind="value",
                itype=ind["type"],
                reason=text or f"false positive ({actor})",
                actor=actor,
            )
    with store.write() as conn:
        conn.execute(
            V.insert().values(
                indicator_pk=ind["pk"],
                enclave_id=eid,
                verdict=verdict,
                comment=text,
                actor=actor,
                at=at,
            )
        )
    if safelist:
        # A safelist is value-wide: every enclave's score of the value changes.
        scorer.reload_safelists(store)
    _audit_and_rescore(
        store, ind, "indicator.verdict", actor, scorer,
        {"enclave": enclave, "verdict": verdict, "comment": text, "safelist": safelist},
        enclave=None if safelist else enclave,
    )  # fmt: skip
    return {
        "indicator": ind["value"],
        "type": ind["type"],
        "verdict": verdict,
        "enclave": enclave,
        "at": at,
    }


def verdicts(
    store: Store, ref: str, *, scope: Scope = None, itype: str | None = None
) -> list[dict[str, Any]]:
    """Every verdict on the indicator in the enclaves ``scope`` may read, newest first."""
    ind = _one(store, ref, scope, itype)
    q = (
        sa.select(V.c.verdict, V.c.comment, V.c.actor, V.c.at, E.c.name.label("enclave"))
        .join(E, E.c.id == V.c.enclave_id)
        .where(V.c.indicator_pk == ind["pk"])
        .order_by(V.c.at.desc(), V.c.id.desc())
    )
    if scope is not None:
        q = q.where(E.c.name.in_(list(scope)))
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def pin(
    store: Store,
    ref: str,
    level: str,
    *,
    enclave: str,
    actor: str,
    scorer: Scorer,
    comment: str | None = None,
    expires_at: int | None = None,
    scope: Scope = None,
    itype: str | None = None,
) -> dict[str, Any]:
    """Pin the indicator's level in ``enclave`` (replacing an earlier pin there)."""
    level = level.strip().lower()
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    at = _now()
    if expires_at is not None and expires_at <= at:
        raise ValueError("the pin's expiry is in the past")
    ind = _one(store, ref, scope, itype)
    eid = _enclave_id(store, enclave)
    text = _comment(comment)
    with store.write() as conn:
        conn.execute(P.delete().where(P.c.indicator_pk == ind["pk"], P.c.enclave_id == eid))
        conn.execute(
            P.insert().values(
                indicator_pk=ind["pk"],
                enclave_id=eid,
                risk=level,
                comment=text,
                actor=actor,
                created_at=at,
                expires_at=expires_at,
            )
        )
    _audit_and_rescore(
        store, ind, "indicator.pin", actor, scorer,
        {"enclave": enclave, "risk": level, "comment": text, "expires_at": expires_at},
        enclave=enclave,
    )  # fmt: skip
    return {
        "indicator": ind["value"],
        "type": ind["type"],
        "risk": level,
        "enclave": enclave,
        "expires_at": expires_at,
    }


def unpin(
    store: Store,
    ref: str,
    *,
    enclave: str,
    actor: str,
    scorer: Scorer,
    scope: Scope = None,
    itype: str | None = None,
) -> bool:
    """Remove the pin in ``enclave``; True when there was one."""
    ind = _one(store, ref, scope, itype)
    eid = _enclave_id(store, enclave)
    with store.write() as conn:
        n = conn.execute(
            P.delete().where(P.c.indicator_pk == ind["pk"], P.c.enclave_id == eid)
        ).rowcount
    if n:
        _audit_and_rescore(
            store, ind, "indicator.unpin", actor, scorer, {"enclave": enclave}, enclave=enclave
        )
    return bool(n)


def record_sighting(
    store: Store,
    ref: str,
    *,
    enclave: str,
    actor: str,
    scorer: Scorer,
    seen_at: int | None = None,
    location: str | None = None,
    count: int = 1,
    details: Mapping[str, Any] | None = None,
    scope: Scope = None,
    itype: str | None = None,
) -> dict[str, Any]:
    """Record that the indicator was seen (in our network) and rescore it."""
    if count < 1 or count > 1_000_000_000:
        raise ValueError("count must be between 1 and 1,000,000,000")
    if location is not None and len(location) > 1_000:
        raise ValueError("location longer than 1000 characters")
    at = _now()
    seen_at = at if seen_at is None else seen_at
    if seen_at > at + 300:
        raise ValueError("a sighting cannot be in the future")
    ind = _one(store, ref, scope, itype)
    eid = _enclave_id(store, enclave)
    with store.write() as conn:
        conn.execute(
            SG.insert().values(
                indicator_pk=ind["pk"],
                enclave_id=eid,
                seen_at=seen_at,
                location=location,
                count=count,
                details=dict(details) if details else None,
            )
        )
    _audit_and_rescore(
        store, ind, "indicator.sighting", actor, scorer,
        {"enclave": enclave, "seen_at": seen_at, "count": count, "location": location},
        enclave=enclave,
    )  # fmt: skip
    return {
        "indicator": ind["value"],
        "type": ind["type"],
        "enclave": enclave,
        "seen_at": seen_at,
        "count": count,
    }


def labelled_examples(store: Store) -> list[tuple[str, str, bool]]:
    """Analyst verdicts as training labels: (value, type, malicious), latest per indicator."""
    latest: dict[int, tuple[int, int, str, str, str]] = {}
    with store.read() as conn:
        for r in conn.execute(
            sa.select(V.c.id, V.c.at, V.c.verdict, I.c.pk, I.c.value, I.c.type).join(
                I, I.c.pk == V.c.indicator_pk
            )
        ):
            cur = latest.get(r.pk)
            if cur is None or (r.at, r.id) > (cur[0], cur[1]):
                latest[r.pk] = (r.at, r.id, r.verdict, r.value, r.type)
    return [(v, t, verdict == "malicious") for (_, _, verdict, v, t) in latest.values()]
