"""Alembic environment: runs against the engine the Store hands over."""

from __future__ import annotations

from alembic import context

from spoorhound.storage.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: build one from the configured URL
    from spoorhound.storage.engine import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
