"""The organiser's pages: the dashboard, the race form, closing races, removals, invites."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from racer.server import jobs
from racer.server.accounts import create_invites
from racer.server.errors import Invalid, ServiceError
from racer.server.models import Invite, Race
from racer.server.races import close_race, create_race, get_race, race_out, update_race
from racer.server.submissions import get_submission, remove_submission
from racer.server.web import forms
from racer.server.web.render import Form, HtmlRoute, Organiser, WebSession, page, redirect

router = APIRouter(prefix="/admin", route_class=HtmlRoute, include_in_schema=False)
QUEUE_STATES = ("queued", "running", "done", "failed")


def _dashboard(
    request: Request,
    session: Session,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    races = session.scalars(select(Race).order_by(Race.created_at.desc(), Race.id.desc())).all()
    slugs = {race.id: race.slug for race in races}
    invites = session.scalars(select(Invite).order_by(Invite.id.desc())).all()
    counts = jobs.counts(session)
    made = request.query_params.get("made", "")
    context = {
        "races": [race_out(session, race) for race in races],
        "invites": [(invite, slugs.get(invite.race_id or -1)) for invite in invites],
        "queue": [(state, counts.get(state, 0)) for state in QUEUE_STATES],
        "made": int(made) if made.isdigit() else 0,
        "error": error,
        "values": values
        or {"count": "1", "max_uses": "1", "race": request.query_params.get("race", "")},
    }
    return page(request, "admin.html", context, status_code=status_code)


@router.get("")
def dashboard(request: Request, session: WebSession, who: Organiser) -> Response:
    """Races, invite codes and the evaluation queue."""
    return _dashboard(request, session)


@router.post("/invites")
def make_invites(request: Request, session: WebSession, who: Organiser, form: Form) -> Response:
    """New invite codes, optionally each entering one race."""
    values = {key: str(form.get(key) or "").strip() for key in ("count", "max_uses", "race")}
    try:
        if not (values["count"].isdigit() and values["max_uses"].isdigit()):
            raise Invalid("the number of codes and the uses of each are whole numbers")
        race = get_race(session, values["race"], who) if values["race"] else None
        made = create_invites(
            session, count=int(values["count"]), max_uses=int(values["max_uses"]), race=race
        )
    except ServiceError as exc:
        session.rollback()
        return _dashboard(
            request, session, error=exc.reason, values=values, status_code=exc.status_code
        )
    session.commit()
    return redirect(f"/admin?made={len(made)}#invites")


def _race_form(
    request: Request,
    race: Race | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "race": race,
        "values": values,
        "errors": errors or {},
        "error": error,
        "tracks": forms.track_names(),
    }
    return page(request, "race_form.html", context, status_code=status_code)


INVALID_FORM = "Some settings are not accepted; see the messages below."


@router.get("/races/new")
def new_race_form(request: Request, who: Organiser) -> Response:
    """The race form, with racer's defaults."""
    return _race_form(request, None, forms.race_values(None))


@router.post("/races/new")
def new_race(request: Request, session: WebSession, who: Organiser, form: Form) -> Response:
    """Create the race; the form again with messages when a setting is refused."""
    values = forms.form_values(form)
    fields, errors = forms.new_race_fields(values)
    if fields is None:
        return _race_form(request, None, values, errors, INVALID_FORM, 422)
    try:
        race = create_race(session, fields)
    except ServiceError as exc:
        session.rollback()
        return _race_form(request, None, values, {}, exc.reason, exc.status_code)
    session.commit()
    return redirect(f"/races/{race.slug}?notice=saved")


@router.get("/races/{slug}/edit")
def edit_race_form(slug: str, request: Request, session: WebSession, who: Organiser) -> Response:
    """The race form, filled in with the race's settings."""
    race = get_race(session, slug, who)
    return _race_form(request, race, forms.race_values(race))


@router.post("/races/{slug}/edit")
def edit_race(
    slug: str, request: Request, session: WebSession, who: Organiser, form: Form
) -> Response:
    """Save the changed settings (a change of rules races every submission again)."""
    race = get_race(session, slug, who)
    values = forms.form_values(form)
    fields, errors = forms.edit_race_fields(race, values)
    if fields is None:
        return _race_form(request, race, values, errors, INVALID_FORM, 422)
    try:
        update_race(session, race, fields)
    except ServiceError as exc:
        session.rollback()
        return _race_form(request, race, values, {}, exc.reason, exc.status_code)
    session.commit()
    return redirect(f"/races/{race.slug}?notice=saved")


@router.post("/races/{slug}/close")
def close(slug: str, session: WebSession, who: Organiser) -> Response:
    """Close the race now."""
    close_race(session, get_race(session, slug, who))
    session.commit()
    return redirect(f"/races/{slug}?notice=closed")


@router.post("/submissions/{submission_id}/remove")
def remove(submission_id: int, session: WebSession, who: Organiser) -> Response:
    """Take a submission off its race's leaderboard."""
    submission = get_submission(session, submission_id, who)
    remove_submission(session, submission)
    session.commit()
    return redirect(f"/races/{submission.race.slug}?notice=removed")
