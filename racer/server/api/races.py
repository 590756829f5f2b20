"""``/api/races``: list, create, edit and close races; leaderboards; results as CSV."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from racer.server import races
from racer.server.api.deps import MaybeRacer, OrganiserDep, SessionDep
from racer.server.api.views import leaderboard_out
from racer.server.cache import RenderCache, board_stamp
from racer.server.schemas import LeaderboardOut, RaceFields, RaceIn, RaceOut
from racer.server.submissions import results_csv

router = APIRouter(prefix="/api/races", tags=["races"])


@router.get("", response_model=list[RaceOut])
def list_races(session: SessionDep, racer: MaybeRacer) -> list[RaceOut]:
    """Races the caller may see (public ones, plus invite-only ones they entered)."""
    return [races.race_out(session, r) for r in races.visible_races(session, racer)]


@router.post("", response_model=RaceOut, status_code=201)
def create_race(body: RaceIn, session: SessionDep, _: OrganiserDep) -> RaceOut:
    """Create a race (organiser)."""
    return races.race_out(session, races.create_race(session, body))


@router.get("/{slug}", response_model=RaceOut)
def get_race(slug: str, session: SessionDep, racer: MaybeRacer) -> RaceOut:
    """One race."""
    return races.race_out(session, races.get_race(session, slug, racer))


@router.patch("/{slug}", response_model=RaceOut)
def edit_race(slug: str, body: RaceFields, session: SessionDep, who: OrganiserDep) -> RaceOut:
    """Change a race's settings (organiser).

    A change of track, laps, penalties, race type or seed races every submission again; a
    change of ranking re-ranks the stored lap times.
    """
    race = races.get_race(session, slug, who)
    races.update_race(session, race, body)
    return races.race_out(session, race)


@router.post("/{slug}/close", response_model=RaceOut)
def close_race(slug: str, session: SessionDep, who: OrganiserDep) -> RaceOut:
    """Close a race now (organiser): no more submissions."""
    race = races.get_race(session, slug, who)
    races.close_race(session, race)
    return races.race_out(session, race)


@router.get("/{slug}/leaderboard", response_model=LeaderboardOut)
def leaderboard(slug: str, request: Request, session: SessionDep, racer: MaybeRacer) -> Response:
    """The standings: each racer's best evaluated submission, ranked by the race's method."""
    race = races.get_race(session, slug, racer)
    cache: RenderCache = request.app.state.render_cache
    key = ("leaderboard.json", board_stamp(session, race))
    body = cache.get(key)
    if body is None:
        body = leaderboard_out(session, race).model_dump_json().encode()
        cache.put(key, body)
    return Response(body, media_type="application/json")


@router.get("/{slug}/results.csv", response_class=Response)
def results(slug: str, session: SessionDep, who: OrganiserDep) -> Response:
    """The leaderboard as a CSV file (organiser)."""
    race = races.get_race(session, slug, who)
    return Response(
        results_csv(session, race),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{race.slug}-results.csv"'},
    )
