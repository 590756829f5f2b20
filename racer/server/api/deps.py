"""Request dependencies: the database session, the server's settings and who is asking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from racer.server.accounts import authenticate
from racer.server.config import ServerConfig
from racer.server.db import Database
from racer.server.errors import Forbidden
from racer.server.models import Racer

COOKIE = "racer_token"
"""The cookie the web pages keep the token in (HttpOnly, SameSite=Strict)."""

bearer = HTTPBearer(auto_error=False, description="A racer's or the organiser's token")


def database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request: committed when it succeeds, rolled back when it fails.

    An async generator on purpose: FastAPI runs its set-up and clean-up on the event loop,
    not in the thread pool. A sync generator's clean-up needs a free pool thread to give
    its database connection back, and under load every thread can be waiting for a
    connection that only such a clean-up would free: a deadlock.
    """
    with database(request).session() as session:
        yield session


def get_config(request: Request) -> ServerConfig:
    """The server's settings."""
    config: ServerConfig = request.app.state.config
    return config


def request_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The token of a request: the Bearer header, else the web pages' cookie."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    return request.cookies.get(COOKIE)


SessionDep = Annotated[Session, Depends(get_session)]
ConfigDep = Annotated[ServerConfig, Depends(get_config)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def optional_racer(request: Request, session: SessionDep, credentials: Credentials) -> Racer | None:
    """The racer asking, or None for an anonymous request (a bad token is still refused)."""
    token = request_token(request, credentials)
    return None if token is None else authenticate(session, token)


def current_racer(request: Request, session: SessionDep, credentials: Credentials) -> Racer:
    """The racer asking; 401 without a valid token."""
    return authenticate(session, request_token(request, credentials))


def organiser(racer: Annotated[Racer, Depends(current_racer)]) -> Racer:
    """The organiser; 403 for a racer."""
    if not racer.is_organiser:
        raise Forbidden("only the organiser can do this")
    return racer


MaybeRacer = Annotated[Racer | None, Depends(optional_racer)]
RacerDep = Annotated[Racer, Depends(current_racer)]
OrganiserDep = Annotated[Racer, Depends(organiser)]
