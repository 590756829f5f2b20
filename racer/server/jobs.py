"""The evaluation queue, kept in the database so that nothing is lost.

A job is claimed by exactly one worker: the claim is an ``UPDATE ... WHERE version = v``
compare-and-set, which one transaction wins on SQLite (writes are serialised) and on
PostgreSQL (the loser's ``UPDATE`` re-reads the row and matches nothing). The winner holds a
lease it renews by heartbeat; a job whose worker died is claimed again once the lease runs
out, and one that has been claimed ``max_attempts`` times without finishing is failed, so a
model that crashes every worker cannot block the queue. A server restarted with queued jobs
simply lets its workers claim them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from racer.server.models import Job, Submission, utcnow


@dataclass(frozen=True)
class Claim:
    """A job a worker holds."""

    job_id: int
    submission_id: int
    worker: str
    attempt: int
    phase: str = "evaluate"


def enqueue(session: Session, submission: Submission) -> Job:
    """Queue (or queue again) the evaluation of a submission."""
    job = session.scalar(select(Job).where(Job.submission_id == submission.id))
    if job is None:
        job = Job(submission_id=submission.id)
        session.add(job)
    job.state = "queued"
    job.phase = "evaluate"
    job.worker = None
    job.lease_until = None
    job.attempts = 0
    job.error = None
    job.version = (job.version or 0) + 1
    session.flush()
    return job


def _claimable(now: datetime) -> object:
    return or_(
        Job.state == "queued",
        and_(Job.state == "running", Job.lease_until < now),
    )


def claim(
    session: Session,
    worker: str,
    *,
    lease_seconds: float,
    max_attempts: int,
    now: datetime | None = None,
) -> Claim | None:
    """Take the oldest job that is queued or whose lease ran out.

    Commits. Returns None when there is nothing to do.
    """
    for _ in range(20):  # another worker may win a candidate: try the next one
        now = now or utcnow()
        row = session.execute(
            select(Job.id, Job.version, Job.attempts, Job.submission_id, Job.phase)
            .where(_claimable(now))  # type: ignore[arg-type]
            .order_by(case((Job.phase == "evaluate", 0), else_=1), Job.id)
            .limit(1)
        ).first()
        if row is None:
            session.commit()
            return None
        if row.attempts >= max_attempts:  # died with every worker that took it
            _give_up(session, row.id, row.version, row.submission_id, max_attempts)
            continue
        won = session.execute(
            update(Job)
            .where(Job.id == row.id, Job.version == row.version)
            .values(
                state="running",
                worker=worker,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
                version=Job.version + 1,
                updated_at=now,
            )
        )
        if won.rowcount == 1:  # type: ignore[attr-defined]
            if row.phase == "evaluate":
                session.execute(
                    update(Submission)
                    .where(Submission.id == row.submission_id, Submission.state != "removed")
                    .values(state="running")
                )
            session.commit()
            return Claim(row.id, row.submission_id, worker, row.attempts + 1, row.phase)
        session.rollback()
    return None


def _give_up(
    session: Session, job_id: int, version: int, submission_id: int, attempts: int
) -> None:
    reason = (
        f"the evaluation stopped {attempts} times without finishing (its worker died); "
        "the model was not ranked"
    )
    won = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.version == version)
        .values(state="failed", error=reason, version=Job.version + 1)
    )
    if won.rowcount == 1:  # type: ignore[attr-defined]
        session.execute(  # a failing video phase leaves the stored result as it is
            update(Submission)
            .where(
                Submission.id == submission_id,
                Submission.state.in_(("queued", "running")),
            )
            .values(state="failed", error=reason, finished_at=utcnow())
        )
    session.commit()


def heartbeat(
    session: Session, held: Claim, *, lease_seconds: float, now: datetime | None = None
) -> bool:
    """Renew the lease; False when the job is no longer this worker's (stop working on it)."""
    now = now or utcnow()
    renewed = session.execute(
        update(Job)
        .where(Job.id == held.job_id, Job.worker == held.worker, Job.state == "running")
        .values(lease_until=now + timedelta(seconds=lease_seconds))
    )
    session.commit()
    return renewed.rowcount == 1  # type: ignore[attr-defined]


def still_mine(session: Session, held: Claim) -> Job | None:
    """The job, locked for the final write, if this worker still holds it."""
    query = select(Job).where(
        Job.id == held.job_id, Job.worker == held.worker, Job.state == "running"
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def to_video_phase(session: Session, job: Job) -> None:
    """Put an evaluated job back in the queue to record its video; the caller commits."""
    job.state = "queued"
    job.phase = "video"
    job.worker = None
    job.lease_until = None
    job.attempts = 0
    job.version = job.version + 1


def finish(session: Session, job: Job, *, error: str | None = None) -> None:
    """Mark a held job done (or failed with ``error``); the caller commits."""
    job.state = "failed" if error else "done"
    job.error = error
    job.lease_until = None
    job.version = job.version + 1


def counts(session: Session) -> dict[str, int]:
    """Jobs by state."""
    rows = session.execute(select(Job.state, func.count(Job.id)).group_by(Job.state)).all()
    return {state: n for state, n in rows}
