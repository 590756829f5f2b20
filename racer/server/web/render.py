"""Rendering for the web pages: templates, their filters, who is signed in, error pages.

Every HTML route uses :class:`HtmlRoute`, which turns a service's refusal
(:class:`~racer.server.errors.ServiceError`, :class:`~racer.server.uploads.UploadError`) into
an error page with the right status, and :class:`LoginRequired` into a redirect to
``/login``. Times are stored as naive UTC and shown in the server's local time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from racer.server.accounts import authenticate
from racer.server.api.deps import COOKIE, get_session
from racer.server.errors import Forbidden, ServiceError, Unauthorized
from racer.server.models import Racer
from racer.server.uploads import UploadError

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
INPUT_FORMAT = "%Y-%m-%dT%H:%M"
"""The value format of an ``<input type="datetime-local">``."""
TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Not possible now",
    413: "File too large",
    415: "Not a model",
    422: "Not accepted",
    429: "Limit reached",
}


class LoginRequired(Exception):
    """The page needs a signed-in user: redirect to ``/login`` and come back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def seconds(value: float | None) -> str:
    """A time in seconds with milliseconds (``12.345 s``), or a dash."""
    return "—" if value is None else f"{value:.3f} s"


def to_local(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as an aware time in the server's local zone."""
    return None if value is None else value.replace(tzinfo=UTC).astimezone()


def local_time(value: datetime | None) -> str:
    """A stored time shown in the server's local time zone, or a dash."""
    local = to_local(value)
    return "—" if local is None else local.strftime("%Y-%m-%d %H:%M")


def input_time(value: datetime | None) -> str:
    """A stored time as the value of a ``datetime-local`` input (local time)."""
    local = to_local(value)
    return "" if local is None else local.strftime(INPUT_FORMAT)


def parse_input_time(text: str) -> datetime | None:
    """A ``datetime-local`` value (server local time) as naive UTC; blank is None.

    Raises:
        ValueError: Not a date and time.
    """
    text = text.strip()
    if not text:
        return None
    fmt = INPUT_FORMAT + (":%S" if text.count(":") == 2 else "")
    local = datetime.strptime(text, fmt)
    return local.astimezone(UTC).replace(tzinfo=None)


def plural(count: int, word: str) -> str:
    """``1 lap``, ``3 laps``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def ranking_label(ranking: str, laps: int) -> str:
    """How a race ranks, in words."""
    if ranking == "average_lap":
        return f"average of {laps} consecutive {'lap' if laps == 1 else 'laps'}"
    if ranking == "total_time":
        return f"total time over {plural(laps, 'lap')}"
    return "best lap"


def race_type_label(race_type: str) -> str:
    """``time_trial`` → ``Time trial``."""
    return race_type.replace("_", " ").capitalize()


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(
    secs=seconds,
    local=local_time,
    plural=plural,
    race_type=race_type_label,
)
templates.env.globals.update(ranking_label=ranking_label)


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a template with the signed-in user (``viewer``) in its context."""
    values = {"viewer": getattr(request.state, "viewer", None), **(context or {})}
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    if getattr(request.state, "stale_cookie", False):
        response.delete_cookie(COOKIE, path="/")
    return response


def error_page(request: Request, status_code: int, reason: str) -> Response:
    """The error page for HTML routes."""
    title = TITLES.get(status_code, "Something went wrong")
    context = {"status": status_code, "title": title, "reason": reason}
    return page(request, "error.html", context, status_code=status_code)


def web_session(request: Request, session: Annotated[Session, Depends(get_session)]) -> Session:
    """The request's database session, remembered so that an error page can roll it back."""
    request.state.db_session = session
    return session


WebSession = Annotated[Session, Depends(web_session)]


def viewer(request: Request, session: WebSession) -> Racer | None:
    """Who the ``racer_token`` cookie signs in, or None (a stale cookie counts as none)."""
    token = request.cookies.get(COOKIE)
    found: Racer | None = None
    if token:
        try:
            found = authenticate(session, token)
        except Unauthorized:
            request.state.stale_cookie = True
    request.state.viewer = found
    return found


def signed_in(request: Request, who: Annotated[Racer | None, Depends(viewer)]) -> Racer:
    """The signed-in racer or organiser; others go to ``/login`` first."""
    if who is None:
        path = request.url.path
        if request.method != "GET":  # after signing in, go to a page, not to a form's POST
            path = "/admin" if path.startswith("/admin") else "/"
        raise LoginRequired(path)
    return who


def organiser_only(who: Annotated[Racer, Depends(signed_in)]) -> Racer:
    """The organiser; a racer gets a 403 page."""
    if not who.is_organiser:
        raise Forbidden("only the organiser can open this page; sign in with the organiser token")
    return who


async def read_form(request: Request) -> FormData:
    """The request's form fields and files (read in the event loop)."""
    return await request.form(max_files=4, max_fields=100)


Viewer = Annotated[Racer | None, Depends(viewer)]
SignedIn = Annotated[Racer, Depends(signed_in)]
Organiser = Annotated[Racer, Depends(organiser_only)]
Form = Annotated[FormData, Depends(read_form)]


def safe_next(path: str | None, default: str = "/") -> str:
    """A redirect target that stays on this site."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


def redirect(path: str) -> RedirectResponse:
    """See other (303): where a form's POST sends the browser."""
    return RedirectResponse(path, status_code=303)


def _rollback(request: Request) -> None:
    session = getattr(request.state, "db_session", None)
    if session is not None:
        session.rollback()


class HtmlRoute(APIRoute):
    """A route whose refusals are rendered as pages instead of JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped to render errors."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                _rollback(request)
                return redirect(f"/login?next={quote(safe_next(exc.next_path))}")
            except (ServiceError, UploadError) as exc:
                _rollback(request)
                return error_page(request, exc.status_code, exc.reason)

        return route
