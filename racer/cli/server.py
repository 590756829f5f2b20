"""``racer server`` and ``racer worker``: the race server and its extra evaluation workers."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel

from racer.cli.errors import fail_on_user_error

DB_HELP = (
    "SQLAlchemy database URL (env RACER_DATABASE_URL): sqlite:///FILE (the default, "
    "racer-server.db here) or postgresql://USER:PASSWORD@HOST/DB."
)
DATA_HELP = "Folder for uploaded models, videos and licences (env RACER_DATA_DIR)."


def _config(**values: Any) -> Any:
    from racer.server.config import ServerConfig

    return ServerConfig.from_env(**values)


def _show_token(console: Console, token: str, url: str) -> None:
    console.print(
        Panel(
            f"[bold]{token}[/]\n\nSign in at {url}/login with it, or use it with the API "
            "(Authorization: Bearer TOKEN). It is shown only now: the server keeps only its "
            "hash. Lost it? Restart with --new-organiser-token.",
            title="organiser token",
            border_style="yellow",
        )
    )


def server(
    database_url: Annotated[str | None, typer.Option(help=DB_HELP, show_default=False)] = None,
    data_dir: Annotated[Path | None, typer.Option(help=DATA_HELP, show_default=False)] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: the whole LAN).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Evaluation worker processes started with the server (0: none).")
    ] = 1,
    max_upload_mb: Annotated[float, typer.Option(help="Largest model upload, MB.")] = 50.0,
    video: Annotated[bool, typer.Option(help="Record a video of every evaluation.")] = True,
    new_organiser_token: Annotated[
        bool, typer.Option(help="Replace the organiser's token with a new one and print it.")
    ] = False,
) -> None:
    """Start the race server: races, leaderboards and evaluated submissions on a web page.

    The first start creates the database and prints the organiser's token.
    """
    console = Console()
    with fail_on_user_error(console):
        import uvicorn

        from racer.server.accounts import rotate_organiser_token
        from racer.server.app import create_app
        from racer.server.config import MB
        from racer.server.db import connect

        config = _config(
            database_url=database_url,
            data_dir=data_dir,
            workers=workers,
            max_upload_bytes=int(max_upload_mb * MB),
            video=video,
        )
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        url = f"http://{shown}:{port}"
        db = connect(config.database_url)
        if new_organiser_token:
            with db.session() as session:
                _show_token(console, rotate_organiser_token(session), url)
        app = create_app(config, db=db, on_organiser_token=lambda t: _show_token(console, t, url))
        console.print(
            f"racer server on [bold]{url}[/] · database {db.engine.url.render_as_string()} · "
            f"data {config.data_dir} · {config.workers} worker(s)"
        )
        uvicorn.run(app, host=host, port=port, log_level="warning")


def worker(
    database_url: Annotated[str | None, typer.Option(help=DB_HELP, show_default=False)] = None,
    data_dir: Annotated[Path | None, typer.Option(help=DATA_HELP, show_default=False)] = None,
    name: Annotated[
        str | None, typer.Option(help="Worker name in the job table (default host:pid).")
    ] = None,
    lease: Annotated[
        float, typer.Option(help="Seconds a job stays this worker's without a heartbeat.")
    ] = 60.0,
    video: Annotated[bool, typer.Option(help="Record a video of every evaluation.")] = True,
    once: Annotated[bool, typer.Option(help="Evaluate what is queued, then exit.")] = False,
) -> None:
    """Add an evaluation worker: it takes queued submissions from the server's database.

    Run it on any machine that reaches the database and shares the data folder.
    """
    console = Console()
    with fail_on_user_error(console):
        from racer.server.db import connect
        from racer.server.worker import Worker, release_all

        config = _config(
            database_url=database_url, data_dir=data_dir, lease_seconds=lease, video=video
        )
        db = connect(config.database_url)
        w = Worker(config, db, name)
        release_all(db, w.name)
        console.print(f"racer worker {w.name} · database {db.engine.url.render_as_string()}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            if once:
                done = 0
                while w.run_once():
                    done += 1
                console.print(f"evaluated {done} submission(s); the queue is empty")
            else:
                w.run(stop)
        except KeyboardInterrupt:
            pass
        finally:
            release_all(db, w.name)
            db.dispose()
