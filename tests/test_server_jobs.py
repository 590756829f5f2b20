"""The evaluation queue: one worker per job, leases, dead workers, restarts, migrations."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from racer.server import jobs
from racer.server.db import connect
from racer.server.models import Base, Job, Submission, utcnow
from racer.server.worker import Worker, release_all
from tests.server_support import Server, fake_evaluator, make_server, tiny_onnx


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Server:
    srv = make_server(db_url, tmp_path / "data", lease_seconds=30.0, max_attempts=2)
    srv.race(name="Cup")
    srv.racer("Ada")
    yield srv
    srv.db.dispose()


def _queue(server: Server, tmp_path: Path, n: int) -> None:
    model = tiny_onnx(tmp_path / "m.onnx")
    for i in range(n):
        assert server.submit("cup", "Ada", model, name=f"m{i}").status_code == 201


def test_migrations_match_the_models(db_url: str) -> None:
    db = connect(db_url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert diff == []
    connect(db_url).dispose()  # upgrading an up-to-date database changes nothing


def test_each_job_is_claimed_by_exactly_one_worker(server: Server, tmp_path: Path) -> None:
    _queue(server, tmp_path, 24)
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def work(name: str) -> None:
        start.wait()
        while True:
            with server.db.sessions() as session:
                held = jobs.claim(session, name, lease_seconds=30, max_attempts=3)
            if held is None:
                return
            with lock:
                claimed.append((name, held.job_id))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [job for _, job in claimed]
    assert len(ids) == 24 and len(set(ids)) == 24
    with server.db.session() as s:
        assert {j.state for j in s.scalars(select(Job))} == {"running"}


def test_a_dead_workers_job_is_taken_over(server: Server, tmp_path: Path) -> None:
    _queue(server, tmp_path, 1)
    now = utcnow()
    with server.db.sessions() as s:
        dead = jobs.claim(s, "dead", lease_seconds=30, max_attempts=2, now=now)
        assert dead is not None
        assert jobs.claim(s, "other", lease_seconds=30, max_attempts=2, now=now) is None
        later = now + timedelta(seconds=31)
        alive = jobs.claim(s, "other", lease_seconds=30, max_attempts=2, now=later)
        assert alive is not None and alive.job_id == dead.job_id and alive.attempt == 2
        assert not jobs.heartbeat(s, dead, lease_seconds=30)  # the dead one lost it
        assert jobs.heartbeat(s, alive, lease_seconds=30)
    with server.db.session() as s:
        assert jobs.still_mine(s, dead) is None
        assert jobs.still_mine(s, alive) is not None
    # a job that outlives max_attempts workers is failed, not retried forever
    with server.db.sessions() as s:
        much_later = utcnow() + timedelta(seconds=120)
        assert jobs.claim(s, "third", lease_seconds=30, max_attempts=2, now=much_later) is None
    with server.db.session() as s:
        sub = s.scalars(select(Submission)).one()
        assert sub.state == "failed" and "without finishing" in (sub.error or "")


def test_a_late_result_from_a_replaced_worker_is_dropped(server: Server, tmp_path: Path) -> None:
    _queue(server, tmp_path, 1)
    slow = Worker(server.config, server.db, "slow", evaluate=fake_evaluator({"m0": [20.0]}))
    with server.db.sessions() as s:
        held = jobs.claim(s, "slow", lease_seconds=30, max_attempts=2)
        assert held is not None
    with server.db.sessions() as s:  # its lease ran out: another worker took the job
        later = utcnow() + timedelta(seconds=40)
        assert jobs.claim(s, "fast", lease_seconds=30, max_attempts=2, now=later) is not None
    slow._store(held, {"standing": {"best_lap": 20.0, "lap_times": [20.0]}}, None)
    with server.db.session() as s:
        assert s.scalars(select(Submission)).one().state == "running"  # not the slow result


def test_a_restarted_server_finishes_queued_jobs(server: Server, tmp_path: Path) -> None:
    _queue(server, tmp_path, 3)
    with server.db.sessions() as s:  # one job was running when the server stopped
        assert jobs.claim(s, "host:server-1", lease_seconds=30, max_attempts=2) is not None
    server.db.dispose()
    db = connect(server.config.database_url)  # the restart
    assert release_all(db, "host:server-1") == 1
    times = {f"m{i}": [10.0 + i] for i in range(3)}
    worker = Worker(server.config, db, "host:server-1", evaluate=fake_evaluator(times))
    while worker.run_once():
        pass
    with db.session() as s:
        assert [sub.state for sub in s.scalars(select(Submission))] == ["done"] * 3
        assert {j.state for j in s.scalars(select(Job))} == {"done"}
    db.dispose()


def test_an_evaluation_error_fails_the_submission_with_its_reason(
    server: Server, tmp_path: Path
) -> None:
    _queue(server, tmp_path, 1)

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the simulator fell over")

    assert Worker(server.config, server.db, "w", evaluate=broken).run_once()
    sub = server.client.get("/api/submissions/1").json()
    assert sub["state"] == "failed" and "the simulator fell over" in sub["error"]


def test_the_server_and_its_workers_import_no_torch() -> None:
    code = (
        "import sys, racer.server.app, racer.server.worker, racer.server.evaluation; "
        "print(sorted(m for m in ('torch', 'stable_baselines3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_results_come_before_videos(server: Server, tmp_path: Path) -> None:
    _queue(server, tmp_path, 3)
    calls: list[tuple[str, bool]] = []
    fake = fake_evaluator({f"m{i}": [10.0 + i] for i in range(3)})

    def evaluate(*args: object, **kwargs: object) -> object:
        calls.append((str(kwargs["title"]).split(" · ")[1], bool(kwargs["video"])))
        return fake(*args, **kwargs)

    worker = Worker(server.config, server.db, "w", evaluate=evaluate)
    while worker.run_once():
        pass
    assert calls == [("m0", False), ("m1", False), ("m2", False)] + [
        ("m0", True),
        ("m1", True),
        ("m2", True),
    ]
    with server.db.session() as s:
        assert {(j.state, j.phase) for j in s.scalars(select(Job))} == {("done", "video")}


def test_upgrading_a_first_version_database_keeps_its_jobs(tmp_path: Path) -> None:
    from alembic import command

    from racer.server.db import alembic_config, make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO racers (id, name, token_hash, is_organiser, created_at) "
            "VALUES (1, 'a', 'h', 0, '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO races (id, slug, name, description, track, reverse, race_type, "
            "settings, ranking, laps, ranking_laps, off_track_penalty, collision_penalty, "
            "time_cap, closed, public, seed, created_at, updated_at) VALUES (1, 'r', 'R', '', "
            "'reinvent_base', 0, 'time_trial', '{}', 'best_lap', 1, 1, 5, 5, 60, 0, 1, 0, "
            "'2026-01-01', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO submissions (id, race_id, racer_id, model_name, model_sha256, "
            "model_size, model_metadata, state, created_at, laps_completed, lap_times, "
            "off_tracks, crashes, progress, licence, result) VALUES (1, 1, 1, 'm', 'x', 1, "
            "'{}', 'queued', '2026-01-01', 0, '[]', 0, 0, 0, 0, '{}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO jobs (id, submission_id, state, attempts, version, created_at, "
            "updated_at) VALUES (1, 1, 'queued', 0, 0, '2026-01-01', '2026-01-01')"
        )
    engine.dispose()
    db = connect(url)  # the server's start upgrades it
    with db.session() as s:
        job = s.scalars(select(Job)).one()
        assert (job.state, job.phase) == ("queued", "evaluate")
    db.dispose()
