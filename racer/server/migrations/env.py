"""Alembic's environment: runs the migrations on the engine racer hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from racer.server.models import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):  # the alembic command line: the URL from its config
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
