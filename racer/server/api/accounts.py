"""Racers and invite codes: redeem a code for a token, profiles, the organiser's invites."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from racer.server import accounts, races
from racer.server.api.deps import MaybeRacer, OrganiserDep, RacerDep, SessionDep
from racer.server.api.views import invite_out, racer_out, submission_out
from racer.server.models import Invite, Race
from racer.server.schemas import (
    InviteIn,
    InviteOut,
    JoinIn,
    RaceOut,
    RacerOut,
    RedeemIn,
    SubmissionOut,
    TokenOut,
)
from racer.server.submissions import get_racer, racer_submissions

router = APIRouter(tags=["racers"])


@router.post("/api/invites/redeem", response_model=TokenOut, status_code=201)
def redeem(body: RedeemIn, session: SessionDep) -> TokenOut:
    """Spend an invite code: a new racer and their personal token (shown only this once)."""
    racer, token = accounts.redeem(session, body.code, body.name)
    return TokenOut(racer_id=racer.id, name=racer.name, token=token)


@router.get("/api/invites", response_model=list[InviteOut])
def list_invites(session: SessionDep, _: OrganiserDep) -> list[InviteOut]:
    """Every invite code and its uses (organiser)."""
    slugs = {race_id: slug for race_id, slug in session.execute(select(Race.id, Race.slug))}
    invites = session.scalars(select(Invite).order_by(Invite.id.desc())).all()
    return [invite_out(i, slugs) for i in invites]


@router.post("/api/invites", response_model=list[InviteOut], status_code=201)
def create_invites(body: InviteIn, session: SessionDep, who: OrganiserDep) -> list[InviteOut]:
    """New invite codes (organiser); with ``race``, each also enters that race."""
    race = races.get_race(session, body.race, who) if body.race else None
    made = accounts.create_invites(session, count=body.count, max_uses=body.max_uses, race=race)
    slugs = {race.id: race.slug} if race else {}
    return [invite_out(i, slugs) for i in made]


@router.get("/api/me", response_model=RacerOut)
def me(racer: RacerDep) -> RacerOut:
    """Who the token belongs to."""
    return racer_out(racer)


@router.post("/api/me/races", response_model=RaceOut)
def join_race(body: JoinIn, session: SessionDep, racer: RacerDep) -> RaceOut:
    """Enter an invite-only race with its invite code."""
    return races.race_out(session, accounts.join_race(session, racer, body.code))


@router.get("/api/racers/{racer_id}", response_model=RacerOut)
def racer_profile(racer_id: int, session: SessionDep) -> RacerOut:
    """A racer's public profile."""
    return racer_out(get_racer(session, racer_id))


@router.get("/api/racers/{racer_id}/submissions", response_model=list[SubmissionOut])
def racer_subs(racer_id: int, session: SessionDep, viewer: MaybeRacer) -> list[SubmissionOut]:
    """A racer's submissions, in the races the caller may see."""
    racer = get_racer(session, racer_id)
    return [submission_out(s) for s in racer_submissions(session, racer, viewer)]
