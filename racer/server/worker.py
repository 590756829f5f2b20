"""Evaluation workers: claim a job, race the model under the race's rules, store the result.

A worker needs only the database URL and the data folder, so workers run inside the server
(``racer server --workers N`` starts N processes, 1 by default) or anywhere else
(``racer worker --database-url URL``). While it evaluates, a heartbeat thread renews the
job's lease; if the worker dies, the lease runs out and another worker takes the job.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import date
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import update

from racer.server import jobs
from racer.server.config import ServerConfig
from racer.server.db import Database, connect
from racer.server.models import Job, Submission
from racer.server.races import rules_of
from racer.server.storage import clear_results, model_path, results_path
from racer.server.submissions import record_failure, record_result

log = logging.getLogger("racer.server.worker")


class Outcome(Protocol):
    """What an evaluation returns (see :class:`racer.server.evaluation.EvaluationOutcome`)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping with ``standing``, ``off_tracks``, ``files`` and the rest."""


Evaluator = Callable[..., Outcome]


class StopEvent(Protocol):
    """A threading or multiprocessing event."""

    def is_set(self) -> bool:
        """Whether to stop."""

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until set or ``timeout``."""


def default_name() -> str:
    """A worker's name: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _evaluate(*args: Any, **kwargs: Any) -> Outcome:
    from racer.server.evaluation import evaluate_submission

    return evaluate_submission(*args, **kwargs)


class Worker:
    """Evaluates queued submissions one at a time.

    Args:
        config: The server's settings (data folder, lease, attempts, video).
        db: The database.
        name: The worker's name in the jobs table (default: host and pid).
        evaluate: The evaluation function (tests replace it).
    """

    def __init__(
        self,
        config: ServerConfig,
        db: Database,
        name: str | None = None,
        evaluate: Evaluator | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.name = name or default_name()
        self.evaluate = evaluate or _evaluate

    def run_once(self) -> bool:
        """Claim and evaluate one job; False when the queue is empty."""
        with self.db.sessions() as session:
            held = jobs.claim(
                session,
                self.name,
                lease_seconds=self.config.lease_seconds,
                max_attempts=self.config.max_attempts,
            )
        if held is None:
            return False
        what = "evaluating" if held.phase == "evaluate" else "recording the video of"
        log.info("worker %s: %s submission %d", self.name, what, held.submission_id)
        stop_beat = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(held, stop_beat), daemon=True)
        beat.start()
        try:
            outcome, error = self._race(held)
        finally:
            stop_beat.set()
            beat.join()
        self._store(held, outcome, error)
        return True

    def run(self, stop: StopEvent) -> None:
        """Work until ``stop`` is set, polling the queue when it is empty."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a database hiccup must not kill the worker
                log.exception("worker %s: error while looking for work", self.name)
                busy = False
            if not busy:
                stop.wait(self.config.poll_seconds)

    def _heartbeat(self, held: jobs.Claim, stop: threading.Event) -> None:
        interval = max(0.05, self.config.lease_seconds / 3)
        while not stop.wait(interval):
            try:
                with self.db.sessions() as session:
                    if not jobs.heartbeat(session, held, lease_seconds=self.config.lease_seconds):
                        return
            except Exception:
                log.exception("worker %s: heartbeat failed", self.name)

    def _race(self, held: jobs.Claim) -> tuple[dict[str, Any] | None, str | None]:
        with self.db.sessions() as session:
            submission = session.get(Submission, held.submission_id)
            if submission is None or submission.state == "removed":
                return None, "removed"
            rules = rules_of(submission.race)
            metadata = dict(submission.model_metadata)
            path = model_path(self.config, submission.model_sha256)
            title = f"{submission.racer.name} · {submission.model_name} · {submission.race.name}"
        out_dir = results_path(self.config, held.submission_id)
        video = held.phase == "video"
        if not video:
            clear_results(self.config, held.submission_id)
        try:
            outcome = self.evaluate(
                Path(path),
                metadata,
                rules,
                out_dir,
                video=video,
                title=title,
            )
            return outcome.to_dict(), None
        except Exception as exc:  # the racer sees the reason; the log keeps the trace
            log.error("worker %s: evaluation failed:\n%s", self.name, traceback.format_exc())
            return None, f"the evaluation failed: {type(exc).__name__}: {exc}"

    def _store(self, held: jobs.Claim, outcome: dict[str, Any] | None, error: str | None) -> None:
        with self.db.session() as session:
            job = jobs.still_mine(session, held)
            if job is None:  # the lease ran out and another worker took the job
                log.warning("worker %s: lost job %d, result dropped", self.name, held.job_id)
                return
            submission = session.get(Submission, held.submission_id)
            if submission is None or submission.state == "removed":
                jobs.finish(session, job, error="removed")
                return
            if held.phase == "video":
                self._store_video(submission, outcome, error)
                jobs.finish(session, job, error=error)
                return
            if outcome is None:
                record_failure(session, submission, error or "the evaluation failed")
                jobs.finish(session, job, error=error)
                return
            self._licence(submission, outcome)
            record_result(session, submission, outcome)
            if self.config.video:
                jobs.to_video_phase(session, job)
            else:
                jobs.finish(session, job)

    def _store_video(
        self, submission: Submission, outcome: dict[str, Any] | None, error: str | None
    ) -> None:
        """Add the recorded video to a stored result (the run must be the same one)."""
        if outcome is None:
            log.error("worker %s: no video for submission %d: %s", self.name, submission.id, error)
            return
        stored = (submission.result or {}).get("standing", {}).get("lap_times")
        if outcome["standing"].get("lap_times") != stored:
            log.error(
                "worker %s: submission %d raced differently when recording its video "
                "(%s, stored %s); the video is not kept",
                self.name,
                submission.id,
                outcome["standing"].get("lap_times"),
                stored,
            )
            return
        files = dict((submission.result or {}).get("files", {}))
        files.update(outcome.get("files", {}))
        submission.result = {**(submission.result or {}), "files": files}

    def _licence(self, submission: Submission, outcome: dict[str, Any]) -> None:
        race = submission.race
        best = outcome["standing"].get("best_lap")
        if race.qualifying_time is None or best is None or best > race.qualifying_time:
            return
        from racer.server.licence import write_licence

        out_dir = results_path(self.config, submission.id)
        write_licence(
            out_dir / "licence.png",
            racer=submission.racer.name,
            race=race.name,
            track=race.track,
            lap_time=float(best),
            qualifying_time=float(race.qualifying_time),
            issued=date.today(),
            track_points=None,
        )
        outcome.setdefault("files", {})["licence"] = "licence.png"
        submission.licence = True


def release_all(db: Database, worker: str) -> int:
    """Put back the jobs a worker holds (it is stopping); returns how many."""
    with db.session() as session:
        result = session.execute(
            update(Job)
            .where(Job.worker == worker, Job.state == "running")
            .values(state="queued", worker=None, lease_until=None, version=Job.version + 1)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def run_worker(config: ServerConfig, stop: StopEvent, name: str | None = None) -> None:
    """A worker's whole life: connect, work until stopped (the target of worker processes)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    db = connect(config.database_url, upgrade=False)
    worker = Worker(config, db, name)
    release_all(db, worker.name)  # a job held under this name is a dead predecessor's
    try:
        worker.run(stop)
    finally:
        release_all(db, worker.name)
        db.dispose()


class WorkerPool:
    """Worker processes started by the server (spawned: no state shared with it)."""

    def __init__(self, config: ServerConfig, count: int) -> None:
        self.config = config
        self.count = count
        ctx = multiprocessing.get_context("spawn")
        self._stop: ProcessEvent = ctx.Event()
        self._procs = [
            ctx.Process(
                target=run_worker,
                args=(config, self._stop, f"{socket.gethostname()}:server-{i + 1}"),
                name=f"racer-worker-{i + 1}",
                daemon=True,
            )
            for i in range(count)
        ]

    def start(self) -> None:
        """Start the processes."""
        for proc in self._procs:
            proc.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the workers to stop, wait, then terminate any still running."""
        self._stop.set()
        for proc in self._procs:
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)
