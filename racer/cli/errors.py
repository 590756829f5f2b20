"""Turning library errors about user input into one clear line and a non-zero exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from racer.drive.errors import DriveError
from racer.evaluate.config import EvalConfigError
from racer.export.errors import ExportError
from racer.rewards.loader import RewardFunctionError
from racer.server.client import ServerError
from racer.server.config import ServerConfigError
from racer.server.errors import DatabaseError
from racer.server.uploads import UploadError
from racer.sim.actions import ActionSpaceError
from racer.sim.race import RaceError
from racer.sim.trackio import TrackError
from racer.train.config import ConfigError
from racer.train.run import RunError

USER_ERRORS: tuple[type[Exception], ...] = (
    TrackError,
    RewardFunctionError,
    ActionSpaceError,
    RaceError,
    ConfigError,
    EvalConfigError,
    RunError,
    DriveError,
    ExportError,
    ServerError,
    UploadError,
    DatabaseError,
    ServerConfigError,
    FileNotFoundError,
)


@contextmanager
def fail_on_user_error(console: Console) -> Iterator[None]:
    """Print a user error as ``error: ...`` and exit with status 1 instead of a traceback."""
    try:
        yield
    except USER_ERRORS as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
