"""What the race pages show: leaderboard rows, the ranked columns and the rules in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from racer.server.models import Race
from racer.server.submissions import leaderboard_rows
from racer.server.web.render import local_time, plural, race_type_label, ranking_label, seconds
from racer.server.web.tracksvg import track_facts

COLUMNS = {"best_lap": "Best lap", "average_lap": "Average", "total_time": "Total"}
PENDING = ("queued", "running")


@dataclass(frozen=True)
class BoardRow:
    """One racer's line on the leaderboard.

    Attributes:
        rank: Place, or None for an unranked row.
        state: ``ranked``, ``dnf`` (raced, did not finish the laps the ranking needs),
            ``queued``, ``running`` or ``failed``.
        label: The state in words for unranked rows.
        pending: A newer submission of this racer is being evaluated.
    """

    rank: int | None
    racer_id: int
    racer: str
    submission_id: int
    state: str
    label: str
    times: dict[str, float | None]
    laps: int
    off_tracks: int
    crashes: int
    progress: float
    submissions: int
    licence: bool
    pending: bool

    @property
    def signature(self) -> str:
        """Changes whenever what the row shows changes (the page flashes such rows)."""
        times = ",".join(seconds(t) for t in self.times.values())
        return (
            f"{self.rank}|{self.submission_id}|{self.state}|{times}|{self.laps}|"
            f"{self.off_tracks}|{self.submissions}|{self.pending}"
        )


def columns(race: Race) -> list[tuple[str, str]]:
    """The time columns ``(key, heading)``: the ranked one first, then the best lap."""
    heading = COLUMNS[race.ranking]
    if race.ranking != "best_lap":
        heading = f"{heading} ({race.ranking_laps})"
    cols = [(race.ranking, heading)]
    if race.ranking != "best_lap":
        cols.append(("best_lap", COLUMNS["best_lap"]))
    return cols


def board(session: Session, race: Race) -> list[BoardRow]:
    """The race's leaderboard: ranked rows, then unranked ones with their state."""
    rows = []
    for rank, row in leaderboard_rows(session, race):
        shown = row.best or row.latest
        if rank is not None:
            state, label = "ranked", ""
        elif row.best is not None:
            state, label = "dnf", f"DNF · {shown.progress:.0f}%"
        else:
            state = shown.state
            label = {"queued": "queued", "running": "evaluating", "failed": "failed"}.get(
                state, state
            )
        rows.append(
            BoardRow(
                rank=rank,
                racer_id=row.racer.id,
                racer=row.racer.name,
                submission_id=shown.id,
                state=state,
                label=label,
                times={
                    "best_lap": shown.best_lap,
                    "average_lap": shown.average_lap,
                    "total_time": shown.total_time,
                },
                laps=shown.laps_completed,
                off_tracks=shown.off_tracks,
                crashes=shown.crashes,
                progress=shown.progress,
                submissions=row.count,
                licence=shown.licence,
                pending=row.best is not None and row.latest.state in PENDING,
            )
        )
    return rows


def _direction(race: Race) -> str:
    _, direction = track_facts(race.track)
    if direction is None:
        return "reversed" if race.reverse else "as drawn"
    if race.reverse:
        direction = "clockwise" if direction == "counterclockwise" else "counterclockwise"
    return direction.replace("counterclockwise", "counter-clockwise")


def _type_settings(race: Race) -> str:
    settings: dict[str, Any] = dict(race.settings or {})
    if race.race_type == "object_avoidance":
        obs = settings.get("obstacles") or {}
        count = int(obs.get("count", 3))
        where = "random places" if obs.get("randomize") else "fixed places"
        if obs.get("positions"):
            where = "places set by the organiser"
        gap = float(obs.get("min_gap", 2.0))
        boxes = f"{count} {'box' if count == 1 else 'boxes'}"
        return f"{boxes}, {where}, ≥ {gap:g} m apart"
    if race.race_type == "head_to_bot":
        bots = settings.get("bots") or {}
        count = int(bots.get("count", 3))
        text = f"{plural(count, 'bot car')} at {float(bots.get('speed', 1.0)):g} m/s"
        if bots.get("lane_change"):
            text += f", changing lanes every {float(bots.get('lane_change_interval', 5.0)):g} s"
        return text
    return ""


def rules(race: Race) -> list[tuple[str, str]]:
    """The race's rules as ``(label, value)`` lines for the race page."""
    name, _ = track_facts(race.track)
    kind = race_type_label(race.race_type)
    extra = _type_settings(race)
    penalties = f"off-track +{race.off_track_penalty:g} s"
    if race.race_type != "time_trial":
        penalties += f" · collision +{race.collision_penalty:g} s"
    lines = [
        ("Track", name if name == race.track else f"{name} ({race.track})"),
        ("Direction", _direction(race)),
        ("Race type", f"{kind}: {extra}" if extra else kind),
        ("Ranking", ranking_label(race.ranking, race.ranking_laps)),
        ("Laps", f"{plural(race.laps, 'lap')} in one run"),
        ("Penalties", penalties),
        ("Time cap", f"{race.time_cap:g} s per run, penalties included"),
        (
            "Submissions",
            "unlimited" if race.submission_limit is None else f"{race.submission_limit} per racer",
        ),
        ("Entry", "public" if race.public else "invite-only"),
    ]
    if race.qualifying_time is not None:
        lines.append(("Licence", f"a best lap ≤ {seconds(race.qualifying_time)} earns it"))
    if race.opens_at is not None:
        lines.append(("Opens", local_time(race.opens_at)))
    if race.closes_at is not None:
        lines.append(("Closes", local_time(race.closes_at)))
    return lines
