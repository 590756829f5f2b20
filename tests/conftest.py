"""Test-session settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Parallel test workers share two cores: one PyTorch thread each keeps OpenMP from
# oversubscribing them (which slows every training test many times over).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("RACER_TORCH_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


# --- the race server's databases -------------------------------------------------------------
# Server tests run on SQLite and, where RACER_TEST_POSTGRES_URL names a PostgreSQL server that
# may create databases (CI starts one), on PostgreSQL too: each test gets a new database.
# RACER_TEST_POSTGRES_REQUIRED=1 (set by CI) turns a missing server into a failure.

POSTGRES_URL = os.environ.get("RACER_TEST_POSTGRES_URL", "")


def _postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        if os.environ.get("RACER_TEST_POSTGRES_REQUIRED") == "1":
            pytest.fail("RACER_TEST_POSTGRES_REQUIRED=1 but RACER_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need RACER_TEST_POSTGRES_URL (CI sets it)")
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"racer_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'racer-server.db'}"
    else:
        yield from _postgres_database()
