"""The race server's tables (SQLAlchemy 2 ORM), the same on SQLite and PostgreSQL.

Times are naive UTC datetimes (SQLite keeps no time zone); :func:`utcnow` makes them.
Tokens are never stored: only their SHA-256 (see :mod:`racer.server.security`).
The schema is created and upgraded by the Alembic migrations in ``migrations/``; a test
checks that they match these classes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

RACE_TYPES = ("time_trial", "object_avoidance", "head_to_bot")
RANKINGS = ("best_lap", "average_lap", "total_time")
SUBMISSION_STATES = ("queued", "running", "done", "failed", "removed")
JOB_STATES = ("queued", "running", "done", "failed")
JOB_PHASES = ("evaluate", "video")


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (how every time is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """The declarative base of the server's tables."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Racer(Base):
    """A person with a token: the organiser, or a racer who redeemed an invite code."""

    __tablename__ = "racers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    is_organiser: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    submissions: Mapped[list[Submission]] = relationship(back_populates="racer")


class Race(Base):
    """A race: a track, its rules, its ranking and who may enter.

    ``settings`` holds the race type's own options (``obstacles`` / ``bots`` mappings as in
    :class:`racer.sim.race.ObstacleConfig` and :class:`racer.sim.race.BotConfig`).
    Each submission drives ``laps`` continuous laps in one run capped at ``time_cap`` simulated
    seconds, penalties included, with the race's ``seed``.
    """

    __tablename__ = "races"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    track: Mapped[str] = mapped_column(String(200))
    reverse: Mapped[bool] = mapped_column(Boolean, default=False)
    race_type: Mapped[str] = mapped_column(String(32), default="time_trial")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ranking: Mapped[str] = mapped_column(String(16), default="best_lap")
    laps: Mapped[int] = mapped_column(Integer, default=3)
    ranking_laps: Mapped[int] = mapped_column(Integer, default=1)
    off_track_penalty: Mapped[float] = mapped_column(Float, default=5.0)
    collision_penalty: Mapped[float] = mapped_column(Float, default=5.0)
    time_cap: Mapped[float] = mapped_column(Float, default=180.0)
    opens_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    submission_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    qualifying_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    submissions: Mapped[list[Submission]] = relationship(back_populates="race")


class Invite(Base):
    """An invite code: redeemed for a personal token, optionally with entry to a race."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    race_id: Mapped[int | None] = mapped_column(
        ForeignKey("races.id", ondelete="CASCADE"), nullable=True
    )
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RaceEntry(Base):
    """A racer's entry to an invite-only race."""

    __tablename__ = "race_entries"

    race_id: Mapped[int] = mapped_column(
        ForeignKey("races.id", ondelete="CASCADE"), primary_key=True
    )
    racer_id: Mapped[int] = mapped_column(
        ForeignKey("racers.id", ondelete="CASCADE"), primary_key=True
    )


class Submission(Base):
    """An uploaded model entered in a race, and its evaluation's result.

    The model file lives in the data folder under its SHA-256 (``model_sha256``); it is only
    ever parsed as ONNX and run by ONNX Runtime. ``score`` is the value the race ranks by
    (seconds, lower is better); None while not evaluated or when the run did not finish the
    laps the ranking needs.
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id", ondelete="CASCADE"), index=True)
    racer_id: Mapped[int] = mapped_column(ForeignKey("racers.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(120))
    model_sha256: Mapped[str] = mapped_column(String(64))
    model_size: Mapped[int] = mapped_column(Integer)
    model_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    best_lap: Mapped[float | None] = mapped_column(Float, nullable=True)
    average_lap: Mapped[float | None] = mapped_column(Float, nullable=True)
    total_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    laps_completed: Mapped[int] = mapped_column(Integer, default=0)
    lap_times: Mapped[list[Any]] = mapped_column(JSON, default=list)
    off_tracks: Mapped[int] = mapped_column(Integer, default=0)
    crashes: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    licence: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    race: Mapped[Race] = relationship(back_populates="submissions")
    racer: Mapped[Racer] = relationship(back_populates="submissions")


class Job(Base):
    """An evaluation waiting for, or held by, a worker.

    A worker claims a job by moving it to ``running`` with a compare-and-set on ``version``
    (one winner on SQLite and PostgreSQL alike) and holds it while ``lease_until`` lies in
    the future, renewing it by heartbeat. A job whose lease ran out is claimed again.

    A job has two phases: ``evaluate`` races the model without a video (about a second) and
    stores the result; the job then goes back to the queue in phase ``video``, which races
    the same model again (the same seed gives the same run) to record the video. Workers
    take every ``evaluate`` job before any ``video`` job, so results reach the leaderboard
    first even when a whole class submits at once.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    phase: Mapped[str] = mapped_column(String(16), default="evaluate", server_default="evaluate")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
