"""risk scoring: per-enclave scores, features, overrides, verdicts, safelists

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:32:03.699420
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safelist",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safelist")),
        sa.UniqueConstraint("name", name=op.f("uq_safelist_name")),
    )
    op.create_table(
        "analyst_verdict",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "indicator_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("enclave_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_analyst_verdict_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_analyst_verdict_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analyst_verdict")),
    )
    with op.batch_alter_table("analyst_verdict", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analyst_verdict_indicator_pk", ["indicator_pk", "enclave_id", "at"], unique=False
        )

    op.create_table(
        "indicator_feature",
        sa.Column(
            "indicator_pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_indicator_feature_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("indicator_pk", name=op.f("pk_indicator_feature")),
    )
    op.create_table(
        "indicator_score",
        sa.Column(
            "indicator_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("enclave_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("score_recommended", sa.SmallInteger(), nullable=False),
        sa.Column("risk_recommended", sa.String(length=16), nullable=False),
        sa.Column("high_priority", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("base", sa.Float(), nullable=False),
        sa.Column(
            "evidence", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "factors", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("model_p", sa.Float(), nullable=True),
        sa.Column("anchor", sa.BigInteger(), nullable=False),
        sa.Column("scored_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_indicator_score_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_indicator_score_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("indicator_pk", "enclave_id", name=op.f("pk_indicator_score")),
    )
    with op.batch_alter_table("indicator_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_indicator_score_enclave_id", ["enclave_id", "score"], unique=False
        )

    op.create_table(
        "risk_override",
        sa.Column(
            "indicator_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("enclave_id", sa.Integer(), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_risk_override_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_risk_override_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("indicator_pk", "enclave_id", name=op.f("pk_risk_override")),
    )
    op.create_table(
        "safelist_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("safelist_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["safelist_id"],
            ["safelist.id"],
            name=op.f("fk_safelist_entry_safelist_id_safelist"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safelist_entry")),
        sa.UniqueConstraint(
            "safelist_id",
            "kind",
            "pattern",
            name=op.f("uq_safelist_entry_safelist_id_kind_pattern"),
        ),
    )


def downgrade() -> None:
    op.drop_table("safelist_entry")
    op.drop_table("risk_override")
    with op.batch_alter_table("indicator_score", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_score_enclave_id")

    op.drop_table("indicator_score")
    op.drop_table("indicator_feature")
    with op.batch_alter_table("analyst_verdict", schema=None) as batch_op:
        batch_op.drop_index("ix_analyst_verdict_indicator_pk")

    op.drop_table("analyst_verdict")
    op.drop_table("safelist")
