"""The IOC-centric schema (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

Design choices (see docs/architecture.md):

* ``indicator.id`` is the deterministic uuid5 of (type, canonical value), so the
  same indicator has the same id in every installation and export. Inside the
  database, tables refer to indicators by the integer ``indicator.pk``: 8-byte
  keys instead of 36-character ones, and new indicators get increasing keys, so a
  bulk ingest appends to the child tables instead of inserting at random.
* Times are UTC epoch seconds in BIGINT columns: identical semantics on both
  dialects, cheap to compare and index, and trivial for relative queries
  (``last_seen > -7d``).
* ``observation`` holds one row per (indicator, enclave, source): that source's
  context for the indicator inside that enclave. Tags are attached per enclave.
* Correlation is a lookup by value, never a stored pair table.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "analyst_verdict",
    "api_key",
    "audit",
    "enclave",
    "enclave_member",
    "enrichment",
    "enrichment_batch",
    "enrichment_change",
    "indicator",
    "indicator_feature",
    "indicator_score",
    "indicator_tag",
    "job",
    "job_error",
    "metadata",
    "observation",
    "provider_usage",
    "relationship",
    "report",
    "report_indicator",
    "risk_override",
    "safelist",
    "safelist_entry",
    "saved_search",
    "sighting",
    "source",
    "tag",
    "user",
    "watchlist",
]

# Naming convention so Alembic migrations get stable constraint names on both dialects.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

#: JSON documents: TEXT on SQLite, JSONB on PostgreSQL (indexable, mergeable with ``||``).
JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Epoch = sa.BigInteger
UUIDText = sa.String(36)
#: 64-bit surrogate key; INTEGER on SQLite so it is the rowid.
BigKey = sa.BigInteger().with_variant(sa.Integer, "sqlite")

enclave = sa.Table(
    "enclave",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", Epoch, nullable=False),
)

source = sa.Table(
    "source",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    # TruSTAR-style 1 (unreliable) .. 5 (fully trusted); used by scoring.
    sa.Column("reliability", sa.SmallInteger, nullable=False, server_default="3"),
    sa.Column("created_at", Epoch, nullable=False),
)

tag = sa.Table(
    "tag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", Epoch, nullable=False),
)

indicator = sa.Table(
    "indicator",
    metadata,
    sa.Column("pk", BigKey, primary_key=True, autoincrement=True),
    sa.Column("id", UUIDText, nullable=False, unique=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("first_seen", Epoch, nullable=False),
    sa.Column("last_seen", Epoch, nullable=False),
    sa.Column("created_at", Epoch, nullable=False),
    sa.Column("updated_at", Epoch, nullable=False),
    sa.Column("score", sa.SmallInteger, nullable=True),
    sa.Column("risk", sa.String(16), nullable=True),
    sa.Column("safelisted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
    # Lookup by value (any type) and prefix search; exact lookup by (type, value) uses the id.
    sa.Index("ix_indicator_value", "value"),
    # Explore's order and keyset pagination: (last_seen desc, pk desc), newest first.
    sa.Index("ix_indicator_last_seen", "last_seen", "pk"),
)

observation = sa.Table(
    "observation",
    metadata,
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("source.id"), nullable=False),
    sa.Column("confidence", sa.SmallInteger, nullable=True),
    sa.Column("tlp", sa.String(16), nullable=True),
    sa.Column("first_seen", Epoch, nullable=False),
    sa.Column("last_seen", Epoch, nullable=False),
    sa.Column("times_reported", sa.Integer, nullable=False, server_default="1"),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("attributes", JSONDoc, nullable=True),
    sa.Column("created_at", Epoch, nullable=False),
    sa.Column("updated_at", Epoch, nullable=False),
    sa.PrimaryKeyConstraint("indicator_pk", "enclave_id", "source_id"),
    sa.Index("ix_observation_enclave_id", "enclave_id"),
)

indicator_tag = sa.Table(
    "indicator_tag",
    metadata,
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("tag_id", sa.Integer, sa.ForeignKey("tag.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", Epoch, nullable=False),
    sa.PrimaryKeyConstraint("indicator_pk", "enclave_id", "tag_id"),
    # Mass export by tag walks this index.
    sa.Index("ix_indicator_tag_tag_id", "tag_id", "enclave_id"),
)

report = sa.Table(
    "report",
    metadata,
    sa.Column("id", UUIDText, primary_key=True),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("source.id"), nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("tlp", sa.String(16), nullable=True),
    sa.Column("created_at", Epoch, nullable=False),
)

report_indicator = sa.Table(
    "report_indicator",
    metadata,
    sa.Column(
        "report_id", UUIDText, sa.ForeignKey("report.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.Column("context", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("report_id", "indicator_pk"),
    sa.Index("ix_report_indicator_indicator_pk", "indicator_pk"),
)

enrichment = sa.Table(
    "enrichment",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("fetched_at", Epoch, nullable=False),
    sa.Column("verdict", sa.String(16), nullable=True),
    sa.Column("score", sa.SmallInteger, nullable=True),
    sa.Column("payload", JSONDoc, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    # The normalised answer; two rows with equal (status, verdict, score, tags,
    # attributes, related) are the same answer, so only changes add rows.
    sa.Column("status", sa.String(16), nullable=False, server_default="ok"),
    sa.Column("tags", JSONDoc, nullable=True),
    sa.Column("attributes", JSONDoc, nullable=True),
    sa.Column("related", JSONDoc, nullable=True),
    # Last time the provider gave this same answer (drives the cache).
    sa.Column("checked_at", Epoch, nullable=False, server_default="0"),
    # "<job>:<provider>:<indicator pk>": a re-executed step cannot add a second row.
    sa.Column("attempt_key", sa.String(200), nullable=True, unique=True),
    sa.Index("ix_enrichment_indicator_pk", "indicator_pk", "provider", "fetched_at"),
)

enrichment_change = sa.Table(
    "enrichment_change",
    metadata,
    sa.Column("id", BigKey, primary_key=True, autoincrement=True),
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("at", Epoch, nullable=False),
    sa.Column("enrichment_id", BigKey, nullable=True),
    sa.Column("summary", JSONDoc, nullable=False),
    sa.Index("ix_enrichment_change_indicator_pk", "indicator_pk"),
    # Consumers (flows, notifications) read the changes since their last position.
    sa.Index("ix_enrichment_change_at", "at"),
)

#: Progress of an enrichment job: one row per processed batch (idempotent on its key,
#: so a re-executed step does not count twice), plus one ``disabled`` row per provider
#: whose key was refused.
enrichment_batch = sa.Table(
    "enrichment_batch",
    metadata,
    sa.Column("job_id", UUIDText, sa.ForeignKey("job.id", ondelete="CASCADE"), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("batch_key", sa.String(100), nullable=False),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stored", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cached", sa.Integer, nullable=False, server_default="0"),
    sa.Column("withheld", sa.Integer, nullable=False, server_default="0"),
    sa.Column("skipped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("at", Epoch, nullable=False),
    sa.PrimaryKeyConstraint("job_id", "provider", "batch_key"),
)

#: Units used per provider and quota period (``day`` / ``month``), reserved atomically;
#: period ``pace`` holds the start time (epoch ms) of the provider's last call.
provider_usage = sa.Table(
    "provider_usage",
    metadata,
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("period", sa.String(8), nullable=False),
    sa.Column("period_start", Epoch, nullable=False),
    sa.Column("used", sa.BigInteger, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("provider", "period", "period_start"),
)

watchlist = sa.Table(
    "watchlist",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("filter", JSONDoc, nullable=False),
    sa.Column("providers", JSONDoc, nullable=True),
    sa.Column("interval_seconds", sa.Integer, nullable=False),
    sa.Column("last_run", Epoch, nullable=True),
    sa.Column("created_at", Epoch, nullable=False),
)

relationship = sa.Table(
    "relationship",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("src_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("dst_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("provenance", sa.String(200), nullable=True),
    sa.Column("first_seen", Epoch, nullable=False),
    sa.Column("last_seen", Epoch, nullable=False),
    sa.UniqueConstraint("src_pk", "dst_pk", "type", "enclave_id"),
    sa.Index("ix_relationship_dst_pk", "dst_pk"),
)

sighting = sa.Table(
    "sighting",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("seen_at", Epoch, nullable=False),
    sa.Column("location", sa.Text, nullable=True),
    sa.Column("count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("details", JSONDoc, nullable=True),
    sa.Index("ix_sighting_indicator_pk", "indicator_pk", "seen_at"),
)

job = sa.Table(
    "job",
    metadata,
    sa.Column("id", UUIDText, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Epoch, nullable=False),
    sa.Column("started_at", Epoch, nullable=True),
    sa.Column("finished_at", Epoch, nullable=True),
    sa.Column("params", JSONDoc, nullable=True),
    sa.Column("result", JSONDoc, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)

job_error = sa.Table(
    "job_error",
    metadata,
    sa.Column("job_id", UUIDText, sa.ForeignKey("job.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "rejected" | "skipped"
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("job_id", "seq"),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", Epoch, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.Text, nullable=True),
    sa.Column("details", JSONDoc, nullable=True),
)

# --- Access control: users, enclave membership, API keys (issue 5, item 1) ---------
#
# The table is ``app_user``, not ``user``: USER is a reserved word in PostgreSQL and
# raw statements (maintenance, the test suite's TRUNCATE) would have to quote it.

#: A person or integration: ``role`` caps what memberships may grant
#: (``admin`` | ``analyst`` | ``read-only``).
user = sa.Table(
    "app_user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Epoch, nullable=False),
)

#: A user's permission in one enclave (``read`` | ``write`` | ``admin``).
enclave_member = sa.Table(
    "enclave_member",
    metadata,
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("permission", sa.String(8), nullable=False),
    sa.Column("created_at", Epoch, nullable=False),
    sa.PrimaryKeyConstraint("enclave_id", "user_id"),
    # Every authenticated request loads the caller's memberships by user.
    sa.Index("ix_enclave_member_user_id", "user_id"),
)

#: An API key: only the SHA-256 of its secret is stored; ``prefix`` (public, unique)
#: finds the row. ``enclaves`` is NULL (all of the user's) or a JSON list of enclave
#: ids the key is restricted to.
api_key = sa.Table(
    "api_key",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("scope", sa.String(8), nullable=False),
    sa.Column("enclaves", JSONDoc, nullable=True),
    sa.Column("created_at", Epoch, nullable=False),
    sa.Column("last_used_at", Epoch, nullable=True),
    sa.Column("expires_at", Epoch, nullable=True),
    sa.Column("revoked_at", Epoch, nullable=True),
    sa.Index("ix_api_key_user_id", "user_id"),
)

#: A named query-language query per owner (a user name, or ``cli`` for the local CLI).
saved_search = sa.Table(
    "saved_search",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("created_at", Epoch, nullable=False),
    sa.UniqueConstraint("owner", "name"),
)


# --- Risk scoring (issue 6) ----------------------------------------------------------
#
# Scores are stored per (indicator, enclave): the evidence behind a score (observations,
# sightings, analyst verdicts, pins) lives in enclaves, and a caller must never see a
# score moved by evidence in an enclave it cannot read (TLP and enclave isolation). The
# caller's view picks among the stored rows of its visible enclaves; nothing is computed
# on read. Value-derived evidence (enrichment, the model, safelists) is the same in
# every enclave.

#: The current score of an indicator as seen from one enclave. ``base`` is the score
#: before age decay, ``anchor`` the time decay counts from (the latest observation,
#: sighting or verdict in the enclave); ``score``/``risk`` are what callers see (a pin
#: wins) and ``score_recommended``/``risk_recommended`` what the formula says.
#: ``factors`` is the explained list of contributions; ``model_p`` the model's
#: probability when it was last run; ``q``/``bq``/``flags``/``sighted_at`` the
#: pre-combined non-model evidence (see :mod:`spoorhound.core.scoring`), so the decay
#: sweep can rescore without re-reading observations; ``evidence`` names the veto,
#: verdict and pin behind them.
indicator_score = sa.Table(
    "indicator_score",
    metadata,
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("score", sa.SmallInteger, nullable=False),
    sa.Column("risk", sa.String(16), nullable=False),
    sa.Column("score_recommended", sa.SmallInteger, nullable=False),
    sa.Column("risk_recommended", sa.String(16), nullable=False),
    sa.Column("high_priority", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("base", sa.Float, nullable=False),
    sa.Column("evidence", JSONDoc, nullable=False),
    sa.Column("factors", JSONDoc, nullable=False),
    # The sweep's inputs as plain columns (reading them is ~10× cheaper than the JSON):
    # q = Π(1 − pᵢ) of non-model malicious evidence, bq = Π(1 − bⱼ) of benign evidence,
    # flags = 1 confirmed malicious | 2 vetoed | 4 has evidence, and the last sighting.
    sa.Column("q", sa.Float, nullable=False, server_default="1"),
    sa.Column("bq", sa.Float, nullable=False, server_default="1"),
    sa.Column("flags", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("sighted_at", Epoch, nullable=True),
    sa.Column("model_p", sa.Float, nullable=True),
    sa.Column("anchor", Epoch, nullable=False),
    sa.Column("scored_at", Epoch, nullable=False),
    sa.PrimaryKeyConstraint("indicator_pk", "enclave_id"),
    sa.Index("ix_indicator_score_enclave_id", "enclave_id", "score"),
)

#: Model input features of an indicator (value-derived; computed once per features
#: version): a packed little-endian float32 vector.
indicator_feature = sa.Table(
    "indicator_feature",
    metadata,
    sa.Column(
        "indicator_pk",
        BigKey,
        sa.ForeignKey("indicator.pk", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)

#: An analyst's manual level for an indicator in an enclave, pinned until removed or
#: until ``expires_at``. Re-ingest and enrichment never touch it.
risk_override = sa.Table(
    "risk_override",
    metadata,
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("risk", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", Epoch, nullable=False),
    sa.Column("expires_at", Epoch, nullable=True),
    sa.PrimaryKeyConstraint("indicator_pk", "enclave_id"),
)

#: Analyst verdicts, append-only: the latest per (indicator, enclave) counts.
#: ``verdict`` is ``malicious`` (confirmed), ``false_positive`` or ``benign``.
analyst_verdict = sa.Table(
    "analyst_verdict",
    metadata,
    sa.Column("id", BigKey, primary_key=True, autoincrement=True),
    sa.Column(
        "indicator_pk", BigKey, sa.ForeignKey("indicator.pk", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "enclave_id", sa.Integer, sa.ForeignKey("enclave.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", Epoch, nullable=False),
    sa.Index("ix_analyst_verdict_indicator_pk", "indicator_pk", "enclave_id", "at"),
)

#: A named safelist (global; admins manage it). Entries: exact values, wildcard
#: domains (``*.example.com``), CIDRs and regular expressions, each with a reason and
#: an optional expiry.
safelist = sa.Table(
    "safelist",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", Epoch, nullable=False),
)

safelist_entry = sa.Table(
    "safelist_entry",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "safelist_id",
        sa.Integer,
        sa.ForeignKey("safelist.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.String(8), nullable=False),  # value | domain | cidr | regex
    sa.Column("pattern", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", Epoch, nullable=False),
    sa.Column("expires_at", Epoch, nullable=True),
    sa.UniqueConstraint("safelist_id", "kind", "pattern"),
)
