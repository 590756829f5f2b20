"""The database: engines, sessions and migrations, one code path for SQLite and PostgreSQL.

:func:`connect` opens the database at a URL and brings its schema up to date with the Alembic
migrations shipped in ``racer/server/migrations`` (``alembic upgrade head``), so a new SQLite
file, an empty PostgreSQL database and one made by an older racer all end up the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from racer.server.errors import DatabaseError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
POOL = {"pool_size": 16, "max_overflow": 48}
"""Connections a server process may open (64 at most): more than FastAPI's 40 worker threads.

A request holds its connection until its response is serialised, which takes a worker thread
again; with fewer connections than threads, every thread could be waiting for a connection
held by a request that waits for a thread.
"""


@dataclass
class Database:
    """An engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on an error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # workers and the server share the file
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings racer needs on each backend.

    SQLite files get write-ahead logging (readers never wait for the evaluation workers),
    foreign keys and a 30 s busy timeout; ``sqlite://`` (in memory) keeps one shared
    connection so that every session sees the same database.

    Raises:
        DatabaseError: A URL SQLAlchemy cannot parse or a backend it has no driver for.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"cannot parse the database URL {url!r}; examples: sqlite:///racer-server.db, "
            "postgresql+psycopg://racer:secret@localhost/racer"
        ) from None
    if parsed.drivername == "postgresql":  # psycopg 3 is the driver racer installs
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
            if memory:  # one shared connection, or every session sees its own database
                kwargs["poolclass"] = StaticPool
            else:
                kwargs.update(POOL)
            engine = create_engine(parsed, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            if not memory:
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            return engine
        return create_engine(parsed, pool_pre_ping=True, **POOL)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"no driver for {parsed.drivername} ({exc.name} is not installed); "
            "pip install 'racer[server]' installs psycopg for PostgreSQL"
        ) from None
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database {url!r}: {exc.orig}") from None


def alembic_config(engine: Engine) -> Config:
    """Alembic's configuration for the shipped migrations, bound to ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (``alembic upgrade head``).

    Raises:
        DatabaseError: The database cannot be reached.
    """
    try:
        command.upgrade(alembic_config(engine), "head")
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot reach the database {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}"
        ) from None


def connect(url: str, *, upgrade: bool = True) -> Database:
    """Open the database at ``url`` and, by default, migrate it to the newest schema."""
    engine = make_engine(url)
    if upgrade:
        migrate(engine)
    return Database(engine, sessionmaker(engine, expire_on_commit=False))
