"""The race server's FastAPI application.

:func:`create_app` wires the database, the JSON API (``/api``, schema at ``/openapi.json``),
the web pages and, on start-up, the built-in evaluation workers. The first start creates the
organiser and hands their token to ``on_organiser_token`` (the CLI prints it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from racer.server.accounts import ensure_organiser
from racer.server.api import accounts as accounts_api
from racer.server.api import races as races_api
from racer.server.api import submissions as submissions_api
from racer.server.cache import RenderCache
from racer.server.config import ServerConfig
from racer.server.db import Database, connect
from racer.server.errors import ServiceError
from racer.server.uploads import UploadError
from racer.server.web import pages
from racer.server.worker import WorkerPool

log = logging.getLogger("racer.server")
SLACK = 1024 * 1024
"""Room for the multipart framing and the form fields around an upload."""


class BodyLimit:
    """Refuse request bodies larger than the upload limit before reading them (413).

    A body without a Content-Length (chunked) is counted as it arrives and cut off at the
    limit, so nothing larger ever reaches the multipart parser or the disk.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413."""
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return dict(message)

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    response = JSONResponse(
        {"detail": f"the request is larger than the server's limit of {limit / 2**20:.0f} MB"},
        status_code=413,
    )
    await response({"type": "http"}, _no_body, send)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError | UploadError)
    status = exc.status_code
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": exc.reason}, status_code=status, headers=headers)


TokenCallback = Callable[[str], None]


def create_app(
    config: ServerConfig | None = None,
    *,
    db: Database | None = None,
    on_organiser_token: TokenCallback | None = None,
) -> FastAPI:
    """The application.

    Args:
        config: Settings (default: :meth:`ServerConfig.from_env`).
        db: An open database (default: connect to ``config.database_url`` and migrate).
        on_organiser_token: Called with the organiser's token when the first start creates
            it (default: logged).
    """
    config = config or ServerConfig.from_env()
    database = db or connect(config.database_url)
    config.models_dir.mkdir(parents=True, exist_ok=True)
    config.results_dir.mkdir(parents=True, exist_ok=True)
    with database.session() as session:
        token = ensure_organiser(session)
    if token is not None:
        (on_organiser_token or (lambda t: log.warning("organiser token: %s", t)))(token)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = WorkerPool(config, config.workers) if config.workers else None
        if pool is not None:
            pool.start()
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()

    app = FastAPI(
        title="racer race server",
        summary="Races, leaderboards and submissions evaluated in the racer simulator.",
        version="1",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.db = database
    app.state.render_cache = RenderCache()
    handler: Callable[[Request, Exception], Awaitable[JSONResponse] | JSONResponse]
    handler = _service_error
    app.add_exception_handler(ServiceError, handler)
    app.add_exception_handler(UploadError, handler)
    for router in (races_api.router, submissions_api.router, accounts_api.router):
        app.include_router(router)
    app.get("/api/health", tags=["server"])(_health)
    pages.mount(app)
    app.add_middleware(BodyLimit, limit=config.max_upload_bytes + SLACK)
    return app


def _health() -> dict[str, str]:
    """The server is up."""
    return {"status": "ok"}
