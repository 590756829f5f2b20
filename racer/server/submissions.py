"""Submissions: entering a model in a race, results, removal and the leaderboard."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, selectinload

from racer.server import jobs
from racer.server.config import ServerConfig
from racer.server.errors import Conflict, Forbidden, NotFound, TooMany
from racer.server.models import Race, Racer, Submission, utcnow
from racer.server.races import may_see, race_status, rules_of
from racer.server.ranking import rank_key, standing
from racer.server.storage import clear_results, store_model
from racer.server.uploads import ValidatedModel

ARTEFACTS = ("video", "trajectory", "licence")
"""Evaluation files a submission page links to."""


def check_entry(session: Session, race: Race, racer: Racer) -> None:
    """Check that ``racer`` may submit to ``race`` now.

    Raises:
        Forbidden: An invite-only race the racer has not entered.
        Conflict: The race is not open (upcoming or closed).
        TooMany: The racer's submission limit is used up.
    """
    if not may_see(session, race, racer):
        raise Forbidden("this race is invite-only; redeem the race's invite code first")
    status = race_status(race)
    if status == "upcoming":
        raise Conflict(f"race {race.slug!r} opens at {race.opens_at:%Y-%m-%d %H:%M} UTC")
    if status == "closed":
        raise Conflict(f"race {race.slug!r} is closed")
    if race.submission_limit is not None:
        used = session.scalar(
            select(func.count(Submission.id)).where(
                Submission.race_id == race.id,
                Submission.racer_id == racer.id,
                Submission.state != "removed",
            )
        )
        if (used or 0) >= race.submission_limit:
            raise TooMany(
                f"you have used all {race.submission_limit} submissions of race {race.slug!r}"
            )


def create_submission(
    session: Session,
    config: ServerConfig,
    race: Race,
    racer: Racer,
    model: ValidatedModel,
    name: str,
) -> Submission:
    """Store a validated model and queue its evaluation (one transaction with the job)."""
    check_entry(session, race, racer)
    store_model(config, model.sha256, model.data)
    submission = Submission(
        race_id=race.id,
        racer_id=racer.id,
        model_name=name.strip()[:120] or "model",
        model_sha256=model.sha256,
        model_size=model.size,
        model_metadata=model.metadata,
        state="queued",
        lap_times=[],
        result={},
    )
    session.add(submission)
    session.flush()
    jobs.enqueue(session, submission)
    return submission


def get_submission(session: Session, submission_id: int, racer: Racer | None) -> Submission:
    """A submission ``racer`` may see (anyone who may see its race).

    Raises:
        NotFound: No such submission, or one in a race the racer may not see.
    """
    submission = session.get(Submission, submission_id)
    if submission is None or not may_see(session, submission.race, racer):
        raise NotFound(f"no submission {submission_id}")
    return submission


def check_owner(submission: Submission, racer: Racer) -> None:
    """Only the racer who submitted it, or the organiser.

    Raises:
        Forbidden: Anyone else.
    """
    if submission.racer_id != racer.id and not racer.is_organiser:
        raise Forbidden("this submission is another racer's")


def remove_submission(session: Session, submission: Submission) -> None:
    """Take a submission off the leaderboard (the organiser's call); its job is dropped."""
    submission.state = "removed"
    submission.score = None
    job = session.scalar(select(jobs.Job).where(jobs.Job.submission_id == submission.id))
    if job is not None and job.state in ("queued", "running"):
        jobs.finish(session, job, error="removed by the organiser")
    session.flush()


def reset_result(submission: Submission) -> None:
    """Forget a submission's result (it is about to be raced again)."""
    submission.best_lap = submission.average_lap = submission.total_time = None
    submission.score = None
    submission.laps_completed = submission.off_tracks = submission.crashes = 0
    submission.progress = 0.0
    submission.lap_times = []
    submission.result = {}
    submission.licence = False
    submission.error = None
    submission.finished_at = None


def rerun_all(session: Session, race: Race, config: ServerConfig | None = None) -> int:
    """Race every live submission again (the race's rules changed); returns how many."""
    live = session.scalars(
        select(Submission).where(Submission.race_id == race.id, Submission.state != "removed")
    ).all()
    for submission in live:
        reset_result(submission)
        submission.state = "queued"
        if config is not None:
            clear_results(config, submission.id)
        jobs.enqueue(session, submission)
    return len(live)


def rescore_all(session: Session, race: Race) -> None:
    """Rank the stored lap times again (the ranking changed, not the rules)."""
    rules = rules_of(race)
    for submission in session.scalars(
        select(Submission).where(Submission.race_id == race.id, Submission.state == "done")
    ):
        result = standing(tuple(submission.lap_times or ()), rules)
        submission.best_lap = result.best_lap
        submission.average_lap = result.average_lap
        submission.total_time = result.total_time
        submission.score = result.score


@dataclass(frozen=True)
class Row:
    """A leaderboard row before ranking: one racer's best submission."""

    racer: Racer
    best: Submission | None
    latest: Submission
    count: int


def _key(s: Submission) -> tuple[Any, ...]:
    return rank_key(s.score, s.laps_completed, s.progress, (s.created_at or datetime.min, s.id))


def leaderboard_rows(session: Session, race: Race) -> list[tuple[int | None, Row]]:
    """Each racer's best evaluated submission, ranked: ``(rank or None, row)``.

    Ranked rows (a score: the laps the ranking needs were finished) come first by score,
    ties to the earlier submission; then unranked racers by laps, then progress; then racers
    whose models are still being evaluated.
    """
    subs = session.scalars(
        select(Submission)
        .where(Submission.race_id == race.id, Submission.state != "removed")
        .options(
            selectinload(Submission.racer),
            defer(Submission.result),
            defer(Submission.model_metadata),
        )
        .order_by(Submission.created_at, Submission.id)
    ).all()
    by_racer: dict[int, list[Submission]] = {}
    for s in subs:
        by_racer.setdefault(s.racer_id, []).append(s)
    rows = []
    for racer_subs in by_racer.values():
        done = [s for s in racer_subs if s.state == "done"]
        best = min(done, key=_key) if done else None
        rows.append(Row(racer_subs[0].racer, best, racer_subs[-1], len(racer_subs)))
    rows.sort(key=lambda r: (2, r.latest.id) if r.best is None else _key(r.best))
    ranked: list[tuple[int | None, Row]] = []
    place = 0
    for row in rows:
        if row.best is not None and row.best.score is not None:
            place += 1
            ranked.append((place, row))
        else:
            ranked.append((None, row))
    return ranked


def results_csv(session: Session, race: Race) -> str:
    """The leaderboard as CSV (rank, racer, times in seconds, laps, penalties, submission)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "rank",
            "racer",
            "best_lap_s",
            "average_lap_s",
            "total_time_s",
            "laps_completed",
            "off_tracks",
            "crashes",
            "progress_percent",
            "submissions",
            "submission_id",
            "model",
            "licence",
        ]
    )
    for rank, row in leaderboard_rows(session, race):
        s = row.best
        writer.writerow(
            [
                rank or "",
                row.racer.name,
                _num(s.best_lap if s else None),
                _num(s.average_lap if s else None),
                _num(s.total_time if s else None),
                s.laps_completed if s else 0,
                s.off_tracks if s else 0,
                s.crashes if s else 0,
                round(s.progress, 1) if s else 0,
                row.count,
                s.id if s else "",
                s.model_name if s else "",
                "yes" if s is not None and s.licence else "",
            ]
        )
    return out.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def record_result(session: Session, submission: Submission, outcome: dict[str, Any]) -> None:
    """Store an evaluation's outcome (see :meth:`EvaluationOutcome.to_dict`) on a submission."""
    st = outcome["standing"]
    submission.best_lap = st.get("best_lap")
    submission.average_lap = st.get("average_lap")
    submission.total_time = st.get("total_time")
    submission.laps_completed = int(st.get("laps_completed", 0))
    submission.lap_times = [float(t) for t in st.get("lap_times", ())]
    submission.score = st.get("score")
    submission.off_tracks = int(outcome.get("off_tracks", 0))
    submission.crashes = int(outcome.get("crashes", 0))
    submission.progress = float(outcome.get("progress", 0.0))
    submission.result = outcome
    submission.state = "done"
    submission.error = None
    submission.finished_at = utcnow()


def record_failure(session: Session, submission: Submission, reason: str) -> None:
    """Mark a submission's evaluation failed, with the reason the racer sees."""
    reset_result(submission)
    submission.state = "failed"
    submission.error = reason
    submission.finished_at = utcnow()


def racer_submissions(session: Session, racer: Racer, viewer: Racer | None) -> list[Submission]:
    """A racer's submissions in races ``viewer`` may see, newest first."""
    subs = session.scalars(
        select(Submission)
        .where(Submission.racer_id == racer.id, Submission.state != "removed")
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    ).all()
    return [s for s in subs if may_see(session, s.race, viewer)]


def get_racer(session: Session, racer_id: int) -> Racer:
    """A racer by id.

    Raises:
        NotFound: No such racer.
    """
    racer = session.get(Racer, racer_id)
    if racer is None:
        raise NotFound(f"no racer {racer_id}")
    return racer
