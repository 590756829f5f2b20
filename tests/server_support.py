"""Helpers for the race server's tests: an app on a test database, tokens, a model file."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from racer.export import synthetic as sy
from racer.server.app import create_app
from racer.server.config import ServerConfig
from racer.server.db import Database, connect

ACTIONS = [(-20.0, 1.0), (0.0, 1.5), (20.0, 1.0)]


@dataclass
class Server:
    """A test server: its client, database, settings and the organiser's token."""

    client: TestClient
    db: Database
    config: ServerConfig
    organiser: str
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str = "organiser") -> dict[str, str]:
        """The Authorization header of the organiser or a named racer."""
        token = self.organiser if who == "organiser" else self.tokens[who]
        return {"Authorization": f"Bearer {token}"}

    def racer(self, name: str, race: str | None = None) -> str:
        """A new racer (through an invite code); returns the token."""
        body: dict[str, Any] = {"count": 1}
        if race:
            body["race"] = race
        code = self.client.post("/api/invites", json=body, headers=self.auth()).json()[0]["code"]
        r = self.client.post("/api/invites/redeem", json={"code": code, "name": name})
        assert r.status_code == 201, r.text
        self.tokens[name] = r.json()["token"]
        return self.tokens[name]

    def race(self, **fields: Any) -> dict[str, Any]:
        """A new race (defaults: reinvent_base, 1 lap)."""
        body = {"name": "Test Cup", "track": "reinvent_base", "laps": 1, **fields}
        r = self.client.post("/api/races", json=body, headers=self.auth())
        assert r.status_code == 201, r.text
        return dict(r.json())

    def submit(
        self, race: str, who: str, model: Path, name: str = "m1", **files: Any
    ) -> Any:  # the response
        """Upload ``model`` to ``race`` as racer ``who``."""
        with model.open("rb") as fh:
            return self.client.post(
                f"/api/races/{race}/submissions",
                files={"model": ("model.onnx", fh, "application/octet-stream"), **files},
                data={"name": name},
                headers=self.auth(who),
            )


def make_server(db_url: str, data_dir: Path, **config: Any) -> Server:
    """A server with no built-in workers on ``db_url``."""
    settings = ServerConfig(database_url=db_url, data_dir=data_dir, workers=0, **config)
    db = connect(db_url)
    tokens: list[str] = []
    app = create_app(settings, db=db, on_organiser_token=tokens.append)
    return Server(TestClient(app), db, settings, tokens[0])


def tiny_onnx(path: Path, seed: int = 0) -> Path:
    """A small valid camera model with 3 discrete actions."""
    graph = sy.tiny_graph(len(ACTIONS), seed=seed, metadata=sy.discrete_metadata(ACTIONS))
    return sy.write_onnx(graph, path)


class FakeOutcome:
    """An evaluation outcome with fixed lap times (no simulator)."""

    def __init__(self, lap_times: list[float], off_tracks: int = 0, progress: float = 100.0):
        self.lap_times = lap_times
        self.off_tracks = off_tracks
        self.progress = progress

    def to_dict(self) -> dict[str, Any]:
        """The outcome as the worker stores it."""
        laps = self.lap_times
        return {
            "standing": {
                "lap_times": laps,
                "best_lap": min(laps) if laps else None,
                "average_lap": sum(laps) / len(laps) if laps else None,
                "total_time": sum(laps) if laps else None,
                "laps_completed": len(laps),
                "score": min(laps) if laps else None,
                "qualified": False,
            },
            "off_tracks": self.off_tracks,
            "crashes": 0,
            "progress": self.progress,
            "files": {},
        }


def fake_evaluator(times: dict[str, list[float]]) -> Any:
    """An evaluate function that returns the lap times listed per model name."""

    def evaluate(model: Path, metadata: dict[str, Any], rules: Any, out: Path, **kw: Any) -> Any:
        title = kw.get("title", "")
        for name, laps in times.items():
            if f"· {name} ·" in title:
                return FakeOutcome(laps)
        raise AssertionError(f"no fake lap times for {title!r}")

    return evaluate


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for ``racer`` subprocesses: one thread each, wide rich output."""
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "RACER_TORCH_THREADS": "1",
        "COLUMNS": "200",
        **extra,
    }


class ServerProcess:
    """A ``racer server`` process on a free port, started in ``tmp`` (its working folder)."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (tmp / f"server-{self.port}.log").open("w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "racer.cli.main", "server", "--port", str(self.port), *args],
            cwd=tmp,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=cli_env(**(env or {})),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
            assert self.proc.poll() is None, self.output()
        raise AssertionError(f"the server did not start:\n{self.output()}")

    def output(self) -> str:
        """What the server printed so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def token(self) -> str:
        """The organiser token printed at the first start."""
        found = re.search(r"rt_[A-Za-z0-9_-]{20,}", self.output())
        assert found, self.output()
        return found.group(0)

    def stop(self) -> None:
        """Stop it as Ctrl-C would."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
