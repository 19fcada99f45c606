"""enrichment runner: normalised results, change events, job progress, quotas, watchlists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:26:27.891488
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_usage",
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint(
            "provider", "period", "period_start", name=op.f("pk_provider_usage")
        ),
    )
    op.create_table(
        "watchlist",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "filter",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "providers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("last_run", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist")),
        sa.UniqueConstraint("name", name=op.f("uq_watchlist_name")),
    )
    op.create_table(
        "enrichment_batch",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("batch_key", sa.String(length=100), nullable=False),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("stored", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cached", sa.Integer(), server_default="0", nullable=False),
        sa.Column("withheld", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_enrichment_batch_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "job_id", "provider", "batch_key", name=op.f("pk_enrichment_batch")
        ),
    )
    op.create_table(
        "enrichment_change",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "indicator_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column(
            "enrichment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_enrichment_change_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrichment_change")),
    )
    with op.batch_alter_table("enrichment_change", schema=None) as batch_op:
        batch_op.create_index("ix_enrichment_change_at", ["at"], unique=False)
        batch_op.create_index("ix_enrichment_change_indicator_pk", ["indicator_pk"], unique=False)

    with op.batch_alter_table("enrichment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="ok", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "tags",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "attributes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "related",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("checked_at", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("attempt_key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_enrichment_attempt_key"), ["attempt_key"])
    # Rows written before this revision were last confirmed when fetched.
    op.execute("UPDATE enrichment SET checked_at = fetched_at")


def downgrade() -> None:
    with op.batch_alter_table("enrichment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_enrichment_attempt_key"), type_="unique")
        batch_op.drop_column("attempt_key")
        batch_op.drop_column("checked_at")
        batch_op.drop_column("related")
        batch_op.drop_column("attributes")
        batch_op.drop_column("tags")
        batch_op.drop_column("status")

    with op.batch_alter_table("enrichment_change", schema=None) as batch_op:
        batch_op.drop_index("ix_enrichment_change_indicator_pk")
        batch_op.drop_index("ix_enrichment_change_at")

    op.drop_table("enrichment_change")
    op.drop_table("enrichment_batch")
    op.drop_table("watchlist")
    op.drop_table("provider_usage")
