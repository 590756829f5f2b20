"""The organiser and racers: tokens, invite codes, authentication."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from racer.server.errors import Conflict, Invalid, NotFound, Unauthorized
from racer.server.models import Invite, Race, RaceEntry, Racer
from racer.server.security import hash_token, new_invite_code, new_token, normalise_code

ORGANISER_NAME = "organiser"
NAME_PATTERN = re.compile(r"^[\w][\w .'-]{0,62}[\w.]$|^\w$", re.UNICODE)


def check_name(name: str) -> str:
    """A racer's display name, trimmed.

    Raises:
        Invalid: Empty, longer than 64 characters, or with characters other than letters,
            digits, spaces, ``. ' - _``.
    """
    clean = " ".join(name.split())
    if not NAME_PATTERN.match(clean):
        raise Invalid(
            f"a racer name is 1-64 characters: letters, digits, spaces and . ' - _ (got {name!r})"
        )
    return clean


def ensure_organiser(session: Session) -> str | None:
    """Create the organiser on the first start.

    Returns:
        The organiser's new token (shown once, never stored), or None when an organiser
        already exists.
    """
    if session.scalar(select(Racer.id).where(Racer.is_organiser)) is not None:
        return None
    token = new_token()
    session.add(Racer(name=ORGANISER_NAME, token_hash=hash_token(token), is_organiser=True))
    session.flush()
    return token


def rotate_organiser_token(session: Session) -> str:
    """Give the organiser a new token (the old one stops working); returns it."""
    token = new_token()
    organiser = session.scalar(select(Racer).where(Racer.is_organiser))
    if organiser is None:
        session.add(Racer(name=ORGANISER_NAME, token_hash=hash_token(token), is_organiser=True))
    else:
        organiser.token_hash = hash_token(token)
    session.flush()
    return token


def authenticate(session: Session, token: str | None) -> Racer:
    """The racer a token belongs to.

    Raises:
        Unauthorized: No token, or one the server does not know.
    """
    if not token:
        raise Unauthorized("this needs a token: send 'Authorization: Bearer TOKEN'")
    racer = session.scalar(select(Racer).where(Racer.token_hash == hash_token(token.strip())))
    if racer is None:
        raise Unauthorized("unknown token; redeem an invite code for one (racer join)")
    return racer


def create_invites(
    session: Session, *, count: int = 1, max_uses: int = 1, race: Race | None = None
) -> list[Invite]:
    """New invite codes, each good for ``max_uses`` racers, optionally entering ``race``."""
    if not 1 <= count <= 500:
        raise Invalid(f"count must be 1-500, got {count}")
    if not 1 <= max_uses <= 10_000:
        raise Invalid(f"max_uses must be 1-10000, got {max_uses}")
    invites = [
        Invite(code=new_invite_code(), max_uses=max_uses, race_id=race.id if race else None)
        for _ in range(count)
    ]
    session.add_all(invites)
    session.flush()
    return invites


def redeem(session: Session, code: str, name: str) -> tuple[Racer, str]:
    """Spend one use of an invite code on a new racer.

    Returns:
        The racer and their personal token (shown once, never stored).

    Raises:
        NotFound: No such code.
        Conflict: The code is used up, or the name is taken.
        Invalid: A bad name.
    """
    clean = check_name(name)
    invite = session.scalar(select(Invite).where(Invite.code == normalise_code(code)))
    if invite is None:
        raise NotFound("unknown invite code; check it with the organiser")
    if session.scalar(select(Racer.id).where(Racer.name == clean)) is not None:
        raise Conflict(f"the name {clean!r} is taken; choose another")
    used = session.execute(  # compare-and-set: two racers cannot take the last use
        update(Invite)
        .where(Invite.id == invite.id, Invite.uses < Invite.max_uses)
        .values(uses=Invite.uses + 1)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this invite code has been used up; ask the organiser for another")
    token = new_token()
    racer = Racer(name=clean, token_hash=hash_token(token))
    session.add(racer)
    session.flush()
    if invite.race_id is not None:
        session.add(RaceEntry(race_id=invite.race_id, racer_id=racer.id))
        session.flush()
    return racer, token


def join_race(session: Session, racer: Racer, code: str) -> Race:
    """Enter an existing racer in the invite-only race an invite code is for.

    Raises:
        NotFound: No such code, or a code for no particular race.
        Conflict: The code is used up.
    """
    invite = session.scalar(select(Invite).where(Invite.code == normalise_code(code)))
    if invite is None or invite.race_id is None:
        raise NotFound("unknown race invite code")
    race = session.get(Race, invite.race_id)
    assert race is not None  # the foreign key cascades
    if session.get(RaceEntry, (race.id, racer.id)) is not None:
        return race
    used = session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.uses < Invite.max_uses)
        .values(uses=Invite.uses + 1)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this invite code has been used up; ask the organiser for another")
    session.add(RaceEntry(race_id=race.id, racer_id=racer.id))
    session.flush()
    return race
