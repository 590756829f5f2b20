"""The race server for real: ``racer server`` and ``racer worker`` processes, the simulator.

A constant straight-driving ONNX model (it leaves the track at bends and is put back after
the penalty) is raced by real workers; a worker is killed in the middle of an evaluation and
another finishes the job; a server restarted with queued jobs finishes them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from racer.server.db import connect
from racer.server.models import Job
from racer.server.testing import constant_policy_onnx
from tests.server_support import ServerProcess, cli_env

RACE = {"name": "Sprint", "track": "reinvent_base", "laps": 1, "time_cap": 120, "seed": 3}


@pytest.fixture
def tmp(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def _setup(url: str, organiser: str, race: dict[str, Any]) -> str:
    auth = {"Authorization": f"Bearer {organiser}"}
    assert httpx.post(f"{url}/api/races", json=race, headers=auth).status_code == 201
    code = httpx.post(f"{url}/api/invites", json={}, headers=auth).json()[0]["code"]
    r = httpx.post(f"{url}/api/invites/redeem", json={"code": code, "name": "Ada"})
    return str(r.json()["token"])


def _submit(url: str, token: str, model: Path, name: str) -> int:
    with model.open("rb") as fh:
        r = httpx.post(
            f"{url}/api/races/sprint/submissions",
            files={"model": ("m.onnx", fh, "application/octet-stream")},
            data={"name": name},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _wait(url: str, sid: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sub = httpx.get(f"{url}/api/submissions/{sid}").json()
        if sub["state"] in ("done", "failed"):
            return dict(sub)
        time.sleep(0.5)
    raise AssertionError(f"submission {sid} not evaluated within {timeout} s")


def _wait_for_video(url: str, sid: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sub = httpx.get(f"{url}/api/submissions/{sid}").json()
        if "video" in sub["files"]:
            return dict(sub)
        time.sleep(0.5)
    raise AssertionError(f"submission {sid} has no video after {timeout} s")


def test_server_evaluates_and_a_restart_finishes_queued_jobs(tmp: Path) -> None:
    model = constant_policy_onnx(tmp / "constant.onnx")
    server = ServerProcess(tmp, "--workers", "1")
    try:
        token = _setup(server.url, server.token(), {**RACE, "qualifying_time": 600})
        sub = _wait(server.url, _submit(server.url, token, model, "first"))
        assert sub["state"] == "done", sub
        assert sub["laps_completed"] == 1 and sub["best_lap"] > 5 and sub["off_tracks"] > 0
        sub = _wait_for_video(server.url, sub["id"])  # recorded after the result is stored
        video = httpx.get(server.url + sub["files"]["video"])
        assert video.status_code == 200 and video.headers["content-type"] == "video/webm"
        assert video.content[:4] == b"\x1a\x45\xdf\xa3"  # an EBML (WebM) file
        plot = httpx.get(server.url + sub["files"]["trajectory"])
        assert plot.content[:8] == b"\x89PNG\r\n\x1a\n"
        licence = httpx.get(server.url + sub["files"]["licence"])
        assert sub["licence"] and licence.content[:8] == b"\x89PNG\r\n\x1a\n"
        board = httpx.get(f"{server.url}/api/races/sprint/leaderboard").json()["rows"]
        assert board[0]["rank"] == 1 and board[0]["racer"] == "Ada"
    finally:
        server.stop()
    # no workers: submissions wait in the queue; the server stops with them queued
    server = ServerProcess(tmp, "--workers", "0")
    try:
        queued = [_submit(server.url, token, model, f"again-{i}") for i in range(2)]
        assert httpx.get(f"{server.url}/api/submissions/{queued[0]}").json()["state"] == "queued"
    finally:
        server.stop()
    server = ServerProcess(tmp, "--workers", "1")  # the restart finishes them, same result
    try:
        again = [_wait(server.url, sid) for sid in queued]
        assert [s["state"] for s in again] == ["done", "done"]
        assert [s["lap_times"] for s in again] == [sub["lap_times"]] * 2
    finally:
        server.stop()


def test_a_killed_worker_loses_no_job(tmp: Path) -> None:
    model = constant_policy_onnx(tmp / "constant.onnx")
    db_url = f"sqlite:///{tmp / 'racer-server.db'}"
    server = ServerProcess(tmp, "--workers", "0", "--no-video")
    try:
        token = _setup(server.url, server.token(), {**RACE, "laps": 3, "time_cap": 600})
        sid = _submit(server.url, token, model, "long")
        worker = subprocess.Popen(
            [sys.executable, "-m", "racer.cli.main", "worker", "--lease", "2", "--no-video"],
            cwd=tmp,
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        db = connect(db_url, upgrade=False)
        deadline = time.monotonic() + 60
        state = "queued"
        while state != "running" and time.monotonic() < deadline:
            with db.session() as s:
                state = s.scalars(select(Job.state)).one()
            time.sleep(0.05)
        assert state == "running", "the worker never claimed the job"
        worker.kill()  # SIGKILL in the middle of the evaluation: no clean-up runs
        worker.wait()
        with db.session() as s:
            job = s.scalars(select(Job)).one()
            assert job.state == "running" and job.attempts == 1
        db.dispose()
        assert httpx.get(f"{server.url}/api/submissions/{sid}").json()["state"] == "running"
        time.sleep(2.5)  # the dead worker's lease runs out
        done = subprocess.run(
            [sys.executable, "-m", "racer.cli.main", "worker", "--once", "--no-video"],
            cwd=tmp,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        sub = httpx.get(f"{server.url}/api/submissions/{sid}").json()
        assert sub["state"] == "done" and sub["laps_completed"] >= 1
        db = connect(db_url, upgrade=False)
        with db.session() as s:
            job = s.scalars(select(Job)).one()
            assert job.state == "done" and job.attempts == 2
        db.dispose()
    finally:
        server.stop()
