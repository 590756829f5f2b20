"""Alembic migrations of the race server's schema (applied by :func:`racer.server.db.migrate`)."""
