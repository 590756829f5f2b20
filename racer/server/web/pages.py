"""The race server's web pages: races, leaderboards, submissions and racers' profiles.

:func:`mount` adds every page (this module's, the sign-in pages, the upload form and the
organiser's pages), the static files and HTML error pages for paths outside ``/api``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response

from racer.server.api.views import file_urls
from racer.server.cache import RenderCache, board_stamp
from racer.server.models import Job, Race
from racer.server.races import get_race, race_out, race_status, visible_races
from racer.server.submissions import get_racer, get_submission, racer_submissions
from racer.server.web import board as boards
from racer.server.web.render import STATIC_DIR, HtmlRoute, Viewer, WebSession, error_page, page
from racer.server.web.tracksvg import track_facts, track_outline

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)
NOT_HTML = ("/api", "/docs", "/redoc", "/openapi.json", "/static")
NOTICES = {
    "closed": "The race is closed: no more submissions, the leaderboard is final.",
    "removed": "The submission was removed from the leaderboard.",
    "saved": "The race was saved.",
    "signed-out": "You are signed out.",
}
"""Messages a redirect can ask a page to show (``?notice=KEY``)."""


def notice(request: Request) -> str | None:
    """The message a redirect asked for, if any."""
    return NOTICES.get(request.query_params.get("notice", ""))


@router.get("/")
def race_list(request: Request, session: WebSession, who: Viewer) -> Response:
    """Every race the visitor may see, as cards."""
    cards = [
        {
            "race": race_out(session, race),
            "svg": track_outline(race.track, race.reverse),
            "track_name": track_facts(race.track)[0],
        }
        for race in visible_races(session, who)
    ]
    return page(request, "races.html", {"cards": cards, "notice": notice(request)})


def _board_context(session: WebSession, race: Race) -> dict[str, object]:
    return {
        "race": race,
        "out": race_out(session, race),
        "rows": boards.board(session, race),
        "columns": boards.columns(race),
    }


@router.get("/races/{slug}")
def race_page(slug: str, request: Request, session: WebSession, who: Viewer) -> Response:
    """A race's leaderboard, rules and (for the organiser) its controls."""
    race = get_race(session, slug, who)
    context = _board_context(session, race)
    context.update(
        rules=boards.rules(race),
        svg=track_outline(race.track, race.reverse),
        status=race_status(race),
        notice=notice(request),
    )
    return page(request, "race.html", context)


@router.get("/races/{slug}/board")
def board_fragment(slug: str, request: Request, session: WebSession, who: Viewer) -> Response:
    """The leaderboard table alone: the race page fetches it every few seconds."""
    race = get_race(session, slug, who)
    cache: RenderCache = request.app.state.render_cache
    key = ("board.html", board_stamp(session, race), race_status(race))
    body = cache.get(key)
    if body is None or getattr(request.state, "stale_cookie", False):
        response = page(request, "_board.html", _board_context(session, race))
        cache.put(key, bytes(response.body))
    else:  # the fragment does not depend on who asks: one rendering serves every viewer
        response = HTMLResponse(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/submissions/{submission_id}")
def submission_page(
    submission_id: int, request: Request, session: WebSession, who: Viewer
) -> Response:
    """A submission: its state, lap times, video, trajectory and licence."""
    submission = get_submission(session, submission_id, who)
    laps = [float(t) for t in submission.lap_times or []]
    files = file_urls(submission)
    job = session.scalar(select(Job).where(Job.submission_id == submission.id))
    recording = (
        submission.state == "done"
        and "video" not in files
        and job is not None
        and job.phase == "video"
        and job.state in boards.PENDING
    )
    context = {
        "sub": submission,
        "race": submission.race,
        "files": files,
        "recording": recording,
        "laps": laps,
        "fastest": min(laps) if laps else None,
        "pending": submission.state in boards.PENDING,
        "columns": boards.columns(submission.race),
    }
    return page(request, "submission.html", context)


@router.get("/racers/{racer_id}")
def racer_page(racer_id: int, request: Request, session: WebSession, who: Viewer) -> Response:
    """A racer's profile and their submissions in the races the visitor may see."""
    racer = get_racer(session, racer_id)
    subs = racer_submissions(session, racer, who)
    return page(request, "racer.html", {"racer": racer, "subs": subs})


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(NOT_HTML)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not _wants_html(request):
        return await http_exception_handler(request, exc)
    reason = "There is no such page here." if exc.status_code == 404 else str(exc.detail)
    return error_page(request, exc.status_code, reason)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not _wants_html(request):
        return await request_validation_exception_handler(request, exc)
    return error_page(request, 404, "There is no such page here.")


def mount(app: FastAPI) -> None:
    """Add the web pages, ``/static`` and HTML error pages to the app."""
    from racer.server.web import organiser, signin, upload

    for module_router in (router, signin.router, upload.router, organiser.router):
        app.include_router(module_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
