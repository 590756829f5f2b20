"""Signing in on the web: redeem an invite code (``/join``), paste a token (``/login``), leave.

The token lives in the ``racer_token`` cookie (HttpOnly, SameSite=Strict), which the JSON API
accepts too, so the pages' scripts and file links work for a signed-in browser.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from racer.server import accounts
from racer.server.api.deps import COOKIE
from racer.server.errors import Invalid, ServiceError
from racer.server.models import Invite, Race
from racer.server.security import normalise_code
from racer.server.web.render import (
    Form,
    HtmlRoute,
    SignedIn,
    Viewer,
    WebSession,
    page,
    redirect,
    safe_next,
)

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)
YEAR = 365 * 24 * 3600


def set_token_cookie(request: Request, response: Response, token: str) -> None:
    """Sign the browser in: the token in an HttpOnly, SameSite=Strict cookie."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=YEAR,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def server_url(request: Request) -> str:
    """This server's address as the browser reached it (for the ``racer`` command lines)."""
    return str(request.base_url).rstrip("/")


def _text(form: Form, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


@router.get("/join")
def join_form(request: Request, who: Viewer) -> Response:
    """The form to redeem an invite code for a racer token."""
    values = {"code": request.query_params.get("code", ""), "name": ""}
    return page(request, "join.html", {"values": values})


@router.post("/join")
def join(request: Request, session: WebSession, form: Form) -> Response:
    """Redeem the code: show the new token once and sign the browser in."""
    values = {"code": _text(form, "code"), "name": _text(form, "name")}
    try:
        if not values["code"] or not values["name"]:
            raise Invalid("enter both the invite code and the name to race under")
        racer, token = accounts.redeem(session, values["code"], values["name"])
    except ServiceError as exc:
        session.rollback()
        failed = {"values": values, "error": exc.reason}
        return page(request, "join.html", failed, status_code=exc.status_code)
    invite = session.scalar(select(Invite).where(Invite.code == normalise_code(values["code"])))
    race = session.get(Race, invite.race_id) if invite and invite.race_id else None
    session.commit()
    request.state.viewer = racer
    context: dict[str, object] = {
        "racer": racer,
        "token": token,
        "server": server_url(request),
        "race": race,
    }
    response = page(request, "token.html", context, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    set_token_cookie(request, response, token)
    return response


@router.post("/join/race")
def join_race(request: Request, session: WebSession, who: SignedIn, form: Form) -> Response:
    """A signed-in racer enters an invite-only race with its code."""
    code = _text(form, "race_code")
    try:
        if not code:
            raise Invalid("enter the race's invite code")
        race = accounts.join_race(session, who, code)
    except ServiceError as exc:
        session.rollback()
        context = {"values": {"code": "", "name": ""}, "race_error": exc.reason, "race_code": code}
        return page(request, "join.html", context, status_code=exc.status_code)
    session.commit()
    return redirect(f"/races/{race.slug}")


@router.get("/login")
def login_form(request: Request, who: Viewer) -> Response:
    """The form to sign in with a token (a racer's or the organiser's)."""
    next_path = safe_next(request.query_params.get("next"), "")
    return page(request, "login.html", {"next": next_path})


@router.post("/login")
def login(request: Request, session: WebSession, form: Form) -> Response:
    """Check the token and keep it in the cookie; then back to where the visitor was going."""
    token = _text(form, "token")
    next_path = safe_next(_text(form, "next"), "")
    try:
        who = accounts.authenticate(session, token)
    except ServiceError as exc:
        context = {"next": next_path, "error": "That token is not known here. " + exc.reason}
        return page(request, "login.html", context, status_code=401)
    response = redirect(next_path or ("/admin" if who.is_organiser else "/"))
    set_token_cookie(request, response, token)
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the token cookie."""
    response = redirect("/?notice=signed-out")
    response.delete_cookie(COOKIE, path="/")
    return response
