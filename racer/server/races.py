"""Races: create, edit, close, list, and who may see and enter each one."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from racer.server.errors import Conflict, Invalid, NotFound
from racer.server.models import Race, RaceEntry, Racer, Submission, utcnow
from racer.server.ranking import RaceRules, RaceRulesError
from racer.server.schemas import RaceFields, RaceIn, RaceOut

RULE_FIELDS = (
    "track",
    "reverse",
    "race_type",
    "settings",
    "laps",
    "off_track_penalty",
    "collision_penalty",
    "time_cap",
    "seed",
)
"""Fields whose change makes earlier evaluations stale: the submissions are raced again."""
REQUIRED = ("name", "track", "reverse", "race_type", "ranking", "laps", "ranking_laps", "public")
RANKING_FIELDS = ("ranking", "ranking_laps", "qualifying_time")
"""Fields whose change re-ranks the stored lap times without racing again."""


def to_utc(value: datetime | None) -> datetime | None:
    """A datetime as naive UTC (naive input is taken as UTC already)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def race_status(race: Race, now: datetime | None = None) -> str:
    """``upcoming``, ``open`` or ``closed`` at ``now`` (default: now)."""
    now = now or utcnow()
    if race.closed or (race.closes_at is not None and now >= race.closes_at):
        return "closed"
    if race.opens_at is not None and now < race.opens_at:
        return "upcoming"
    return "open"


def slugify(name: str) -> str:
    """A URL name for a race: lower case letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56].strip("-")
    return slug or "race"


def _unique_slug(session: Session, base: str) -> str:
    slug = base
    while session.scalar(select(Race.id).where(Race.slug == slug)) is not None:
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def check_rules(race: Race) -> None:
    """Check that the simulator accepts the race's track and race-type settings.

    Raises:
        Invalid: An unknown track (with suggestions), a track path, bad box or bot settings,
            ``ranking_laps`` above ``laps``, or closing before opening.
    """
    from racer.server.evaluation import EvaluationError, eval_config

    if "/" in race.track or "\\" in race.track:
        raise Invalid(
            "a race's track is a track name (racer tracks list) or generated:SEED, not a path; "
            "import a track file with 'racer tracks import' on the server first"
        )
    if race.ranking_laps > race.laps:
        raise Invalid(
            f"ranking_laps ({race.ranking_laps}) cannot be more than the laps driven ({race.laps})"
        )
    if race.opens_at and race.closes_at and race.closes_at <= race.opens_at:
        raise Invalid("closes_at must be after opens_at")
    try:
        eval_config(rules_of(race))  # the track, boxes and bots
    except (EvaluationError, RaceRulesError) as exc:
        raise Invalid(str(exc).removeprefix("race settings: ")) from None


def rules_of(race: Race) -> RaceRules:
    """The race's rules as the evaluator and the ranking take them.

    Raises:
        RaceRulesError: Settings outside what a race allows (caught by :func:`check_rules`).
    """
    return RaceRules.from_mapping(
        {
            "track": race.track,
            "reverse": race.reverse,
            "race_type": race.race_type,
            "settings": dict(race.settings or {}),
            "ranking": race.ranking,
            "laps": race.laps,
            "ranking_laps": race.ranking_laps,
            "off_track_penalty": race.off_track_penalty,
            "collision_penalty": race.collision_penalty,
            "time_cap": race.time_cap,
            "seed": race.seed,
            "qualifying_time": race.qualifying_time,
        }
    )


def _apply(race: Race, fields: RaceFields) -> set[str]:
    """Copy the fields that were sent onto ``race``; returns the names that changed."""
    data = fields.model_dump(exclude_unset=True, exclude={"slug"})
    settings = dict(race.settings or {})
    for key in ("obstacles", "bots"):
        if key in data:
            value = data.pop(key)
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
    if settings != (race.settings or {}):
        data["settings"] = settings
    for key in ("opens_at", "closes_at"):
        if key in data:
            data[key] = to_utc(data[key])
    changed = set()
    for key, value in data.items():
        if value is None and key in REQUIRED:
            raise Invalid(f"{key} cannot be empty")
        if getattr(race, key) != value:
            setattr(race, key, value)
            changed.add(key)
    return changed


def create_race(session: Session, fields: RaceIn) -> Race:
    """A new race from the organiser's settings (DeepRacer's defaults for the rest).

    Raises:
        Invalid: Settings the simulator does not accept.
        Conflict: The slug is taken.
    """
    if fields.slug and session.scalar(select(Race.id).where(Race.slug == fields.slug)):
        raise Conflict(f"a race called {fields.slug!r} exists already; choose another slug")
    race = Race(
        slug=fields.slug or _unique_slug(session, slugify(fields.name)),
        name=fields.name,
        description="",
        track=fields.track,
        reverse=False,
        race_type="time_trial",
        settings={},
        ranking="best_lap",
        laps=3,
        ranking_laps=1,
        off_track_penalty=5.0,
        collision_penalty=5.0,
        time_cap=180.0,
        closed=False,
        public=True,
        seed=secrets.randbelow(2**31),
    )
    _apply(race, fields)
    check_rules(race)
    session.add(race)
    session.flush()
    return race


def update_race(session: Session, race: Race, fields: RaceFields) -> set[str]:
    """Change a race's settings; submissions are raced again when its rules change.

    Returns:
        The names of the fields that changed.
    """
    changed = _apply(race, fields)
    check_rules(race)
    from racer.server import submissions

    if changed & set(RULE_FIELDS):
        submissions.rerun_all(session, race)
    elif changed & set(RANKING_FIELDS):
        submissions.rescore_all(session, race)
    session.flush()
    return changed


def close_race(session: Session, race: Race) -> None:
    """Close a race now: no more submissions; the leaderboard is final."""
    race.closed = True
    session.flush()


def may_see(session: Session, race: Race, racer: Racer | None) -> bool:
    """Whether ``racer`` (None: anonymous) may see the race and its leaderboard."""
    if race.public or (racer is not None and racer.is_organiser):
        return True
    return racer is not None and session.get(RaceEntry, (race.id, racer.id)) is not None


def get_race(session: Session, slug: str, racer: Racer | None) -> Race:
    """The race called ``slug`` if ``racer`` may see it.

    Raises:
        NotFound: No such race, or an invite-only race the racer has not entered (the same
            answer, so invite-only races stay unlisted).
    """
    race = session.scalar(select(Race).where(Race.slug == slug))
    if race is None or not may_see(session, race, racer):
        raise NotFound(f"no race {slug!r}")
    return race


def visible_races(session: Session, racer: Racer | None) -> list[Race]:
    """Races ``racer`` may see, newest first."""
    races = session.scalars(select(Race).order_by(Race.created_at.desc(), Race.id.desc())).all()
    return [r for r in races if may_see(session, r, racer)]


def race_out(session: Session, race: Race) -> RaceOut:
    """The API's view of a race, with its counts."""
    live = (Submission.race_id == race.id) & (Submission.state != "removed")
    count = session.scalar(select(func.count(Submission.id)).where(live)) or 0
    racers = session.scalar(select(func.count(func.distinct(Submission.racer_id))).where(live))
    return RaceOut(
        slug=race.slug,
        name=race.name,
        description=race.description,
        track=race.track,
        reverse=race.reverse,
        race_type=race.race_type,
        settings=dict(race.settings or {}),
        ranking=race.ranking,
        laps=race.laps,
        ranking_laps=race.ranking_laps,
        off_track_penalty=race.off_track_penalty,
        collision_penalty=race.collision_penalty,
        time_cap=race.time_cap,
        opens_at=race.opens_at,
        closes_at=race.closes_at,
        status=race_status(race),  # type: ignore[arg-type]
        submission_limit=race.submission_limit,
        public=race.public,
        qualifying_time=race.qualifying_time,
        seed=race.seed,
        submissions=count,
        racers=racers or 0,
    )
