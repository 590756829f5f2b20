"""Turning database rows into the API's response bodies."""

from __future__ import annotations

from sqlalchemy.orm import Session

from racer.server.models import Invite, Race, Racer, Submission, utcnow
from racer.server.races import race_out
from racer.server.schemas import (
    InviteOut,
    LeaderboardOut,
    LeaderboardRow,
    RacerOut,
    SubmissionOut,
)
from racer.server.submissions import ARTEFACTS, leaderboard_rows


def file_urls(submission: Submission) -> dict[str, str]:
    """URLs of a submission's evaluation files that exist."""
    files = (submission.result or {}).get("files", {})
    return {
        kind: f"/api/submissions/{submission.id}/files/{kind}"
        for kind in ARTEFACTS
        if kind in files
    }


def submission_out(submission: Submission) -> SubmissionOut:
    """A submission as the API shows it."""
    return SubmissionOut(
        id=submission.id,
        race=submission.race.slug,
        racer=submission.racer.name,
        racer_id=submission.racer_id,
        model_name=submission.model_name,
        state=submission.state,
        error=submission.error,
        created_at=submission.created_at,
        finished_at=submission.finished_at,
        best_lap=submission.best_lap,
        average_lap=submission.average_lap,
        total_time=submission.total_time,
        laps_completed=submission.laps_completed,
        lap_times=list(submission.lap_times or []),
        off_tracks=submission.off_tracks,
        crashes=submission.crashes,
        progress=submission.progress,
        score=submission.score,
        licence=submission.licence,
        files=file_urls(submission),
    )


def leaderboard_out(session: Session, race: Race) -> LeaderboardOut:
    """A race's leaderboard."""
    rows = []
    for rank, row in leaderboard_rows(session, race):
        s = row.best
        rows.append(
            LeaderboardRow(
                rank=rank,
                racer=row.racer.name,
                racer_id=row.racer.id,
                submission_id=(s or row.latest).id,
                state=(s or row.latest).state,
                best_lap=s.best_lap if s else None,
                average_lap=s.average_lap if s else None,
                total_time=s.total_time if s else None,
                laps=s.laps_completed if s else 0,
                off_tracks=s.off_tracks if s else 0,
                crashes=s.crashes if s else 0,
                progress=s.progress if s else 0.0,
                score=s.score if s else None,
                submissions=row.count,
                licence=bool(s and s.licence),
            )
        )
    return LeaderboardOut(race=race_out(session, race), rows=rows, updated_at=utcnow())


def racer_out(racer: Racer) -> RacerOut:
    """A racer's public profile."""
    return RacerOut(
        id=racer.id, name=racer.name, is_organiser=racer.is_organiser, created_at=racer.created_at
    )


def invite_out(invite: Invite, slugs: dict[int, str]) -> InviteOut:
    """An invite code, with the slug of its race."""
    return InviteOut(
        code=invite.code,
        race=slugs.get(invite.race_id) if invite.race_id is not None else None,
        max_uses=invite.max_uses,
        uses=invite.uses,
        created_at=invite.created_at,
    )
