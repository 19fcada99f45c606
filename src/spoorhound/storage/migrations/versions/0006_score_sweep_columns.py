"""risk scoring: the decay sweep's inputs as plain columns

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:25:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indicator_score", schema=None) as batch_op:
        batch_op.add_column(sa.Column("q", sa.Float(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("bq", sa.Float(), server_default="1", nullable=False))
        batch_op.add_column(
            sa.Column("flags", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("sighted_at", sa.BigInteger(), nullable=True))
    # Rows scored before this revision: the same values, from the evidence document.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE indicator_score SET q = (evidence->>'q')::float, bq = (evidence->>'bq')::float,"
            " sighted_at = (evidence->>'sighted')::bigint,"
            " flags = (CASE WHEN evidence->>'verdict' = 'malicious' THEN 1 ELSE 0 END)"
            " + (CASE WHEN evidence->>'veto' IS NOT NULL OR evidence->>'verdict' IN"
            " ('false_positive', 'benign') THEN 2 ELSE 0 END)"
            " + (CASE WHEN COALESCE((evidence->>'n')::int, 0) > 0 OR evidence->>'verdict' IS NOT NULL"
            " OR evidence->>'veto' IS NOT NULL THEN 4 ELSE 0 END)"
        )
    else:
        op.execute(
            "UPDATE indicator_score SET q = json_extract(evidence, '$.q'),"
            " bq = json_extract(evidence, '$.bq'), sighted_at = json_extract(evidence, '$.sighted'),"
            " flags = (CASE WHEN json_extract(evidence, '$.verdict') = 'malicious' THEN 1 ELSE 0 END)"
            " + (CASE WHEN json_extract(evidence, '$.veto') IS NOT NULL OR"
            " json_extract(evidence, '$.verdict') IN ('false_positive', 'benign') THEN 2 ELSE 0 END)"
            " + (CASE WHEN COALESCE(json_extract(evidence, '$.n'), 0) > 0 OR"
            " json_extract(evidence, '$.verdict') IS NOT NULL OR"
            " json_extract(evidence, '$.veto') IS NOT NULL THEN 4 ELSE 0 END)"
        )


def downgrade() -> None:
    with op.batch_alter_table("indicator_score", schema=None) as batch_op:
        batch_op.drop_column("sighted_at")
        batch_op.drop_column("flags")
        batch_op.drop_column("bq")
        batch_op.drop_column("q")
