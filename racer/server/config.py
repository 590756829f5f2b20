"""The race server's typed, frozen settings.

Defaults give a server that needs nothing set up: a SQLite file and a data folder in the
working directory, one built-in evaluation worker. A group that outgrows a laptop points
``database_url`` at PostgreSQL and adds ``racer worker`` processes on other machines that share
the same database and data folder (see ``docs/server.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///racer-server.db"
DEFAULT_DATA_DIR = Path("racer-server-data")
MB = 1024 * 1024


class ServerConfigError(ValueError):
    """An invalid server setting; the message names it."""


@dataclass(frozen=True)
class ServerConfig:
    """Where the server keeps its data and how it evaluates submissions.

    Attributes:
        database_url: SQLAlchemy URL: ``sqlite:///FILE`` (default) or
            ``postgresql+psycopg://USER:PASSWORD@HOST/DB``.
        data_dir: Folder for uploaded models and evaluation artefacts (videos, plots,
            licences). Workers on other machines need the same folder (a network share).
        max_upload_bytes: Largest model file accepted.
        workers: Evaluation workers the server starts itself (0: only ``racer worker``
            processes evaluate).
        lease_seconds: How long a claimed job stays a worker's without a heartbeat; a job
            whose worker died is taken by another one after this.
        max_attempts: Claims of one job before it is marked failed (a model that crashes
            every worker that takes it must not block the queue).
        poll_seconds: How often an idle worker looks for a job.
        video: Record each evaluation's video (the submission page shows it).
    """

    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path = DEFAULT_DATA_DIR
    max_upload_bytes: int = 50 * MB
    workers: int = 1
    lease_seconds: float = 60.0
    max_attempts: int = 3
    poll_seconds: float = 1.0
    video: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.max_upload_bytes > 0, "max_upload_bytes must be positive"),
            (self.workers >= 0, f"workers must not be negative, got {self.workers}"),
            (self.lease_seconds > 0, "lease_seconds must be positive"),
            (self.max_attempts >= 1, "max_attempts must be at least 1"),
            (self.poll_seconds > 0, "poll_seconds must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ServerConfigError(message)
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @classmethod
    def from_env(cls, **overrides: object) -> ServerConfig:
        """Settings from ``RACER_DATABASE_URL`` / ``RACER_DATA_DIR``, then ``overrides``.

        ``None`` overrides are ignored, so CLI options left unset keep the defaults.
        """
        values: dict[str, object] = {}
        if url := os.environ.get("RACER_DATABASE_URL"):
            values["database_url"] = url
        if data := os.environ.get("RACER_DATA_DIR"):
            values["data_dir"] = Path(data)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def models_dir(self) -> Path:
        """Uploaded model files, one per content hash."""
        return self.data_dir / "models"

    @property
    def results_dir(self) -> Path:
        """Evaluation artefacts, one folder per submission."""
        return self.data_dir / "submissions"
