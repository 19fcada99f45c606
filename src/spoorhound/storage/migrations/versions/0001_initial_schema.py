"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 03:58:46.749110
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_table(
        "enclave",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enclave")),
        sa.UniqueConstraint("name", name=op.f("uq_enclave_name")),
    )
    op.create_table(
        "indicator",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("risk", sa.String(length=16), nullable=True),
        sa.Column("safelisted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("retired", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_indicator")),
        sa.UniqueConstraint("id", name=op.f("uq_indicator_id")),
    )
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.create_index("ix_indicator_value", ["value"], unique=False)

    op.create_table(
        "job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reliability", sa.SmallInteger(), server_default="3", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("name", name=op.f("uq_source_name")),
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
        sa.UniqueConstraint("name", name=op.f("uq_tag_name")),
    )
    op.create_table(
        "enrichment",
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
        sa.Column("fetched_at", sa.BigInteger(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_enrichment_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrichment")),
    )
    with op.batch_alter_table("enrichment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrichment_indicator_pk", ["indicator_pk", "provider", "fetched_at"], unique=False
        )

    op.create_table(
        "indicator_tag",
        sa.Column(
            "indicator_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("enclave_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_indicator_tag_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_indicator_tag_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name=op.f("fk_indicator_tag_tag_id_tag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "indicator_pk", "enclave_id", "tag_id", name=op.f("pk_indicator_tag")
        ),
    )
    with op.batch_alter_table("indicator_tag", schema=None) as batch_op:
        batch_op.create_index("ix_indicator_tag_tag_id", ["tag_id", "enclave_id"], unique=False)

    op.create_table(
        "job_error",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_error_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_job_error")),
    )
    op.create_table(
        "observation",
        sa.Column(
            "indicator_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("enclave_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.SmallInteger(), nullable=True),
        sa.Column("tlp", sa.String(length=16), nullable=True),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("times_reported", sa.Integer(), server_default="1", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_observation_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_observation_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_observation_source_id_source")
        ),
        sa.PrimaryKeyConstraint(
            "indicator_pk", "enclave_id", "source_id", name=op.f("pk_observation")
        ),
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index("ix_observation_enclave_id", ["enclave_id"], unique=False)

    op.create_table(
        "relationship",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("src_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dst_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("enclave_id", sa.Integer(), nullable=False),
        sa.Column("provenance", sa.String(length=200), nullable=True),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dst_pk"],
            ["indicator.pk"],
            name=op.f("fk_relationship_dst_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_relationship_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["src_pk"],
            ["indicator.pk"],
            name=op.f("fk_relationship_src_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship")),
        sa.UniqueConstraint(
            "src_pk",
            "dst_pk",
            "type",
            "enclave_id",
            name=op.f("uq_relationship_src_pk_dst_pk_type_enclave_id"),
        ),
    )
    with op.batch_alter_table("relationship", schema=None) as batch_op:
        batch_op.create_index("ix_relationship_dst_pk", ["dst_pk"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("enclave_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("tlp", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_report_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_report_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
    )
    op.create_table(
        "sighting",
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
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("count", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["enclave_id"],
            ["enclave.id"],
            name=op.f("fk_sighting_enclave_id_enclave"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_sighting_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sighting")),
    )
    with op.batch_alter_table("sighting", schema=None) as batch_op:
        batch_op.create_index("ix_sighting_indicator_pk", ["indicator_pk", "seen_at"], unique=False)

    op.create_table(
        "report_indicator",
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column(
            "indicator_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False),
        sa.Column("context", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_pk"],
            ["indicator.pk"],
            name=op.f("fk_report_indicator_indicator_pk_indicator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_report_indicator_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "indicator_pk", name=op.f("pk_report_indicator")),
    )
    with op.batch_alter_table("report_indicator", schema=None) as batch_op:
        batch_op.create_index("ix_report_indicator_indicator_pk", ["indicator_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_indicator", schema=None) as batch_op:
        batch_op.drop_index("ix_report_indicator_indicator_pk")

    op.drop_table("report_indicator")
    with op.batch_alter_table("sighting", schema=None) as batch_op:
        batch_op.drop_index("ix_sighting_indicator_pk")

    op.drop_table("sighting")
    op.drop_table("report")
    with op.batch_alter_table("relationship", schema=None) as batch_op:
        batch_op.drop_index("ix_relationship_dst_pk")

    op.drop_table("relationship")
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_enclave_id")

    op.drop_table("observation")
    op.drop_table("job_error")
    with op.batch_alter_table("indicator_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_tag_tag_id")

    op.drop_table("indicator_tag")
    with op.batch_alter_table("enrichment", schema=None) as batch_op:
        batch_op.drop_index("ix_enrichment_indicator_pk")

    op.drop_table("enrichment")
    op.drop_table("tag")
    op.drop_table("source")
    op.drop_table("job")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_value")

    op.drop_table("indicator")
    op.drop_table("enclave")
    op.drop_table("audit")
