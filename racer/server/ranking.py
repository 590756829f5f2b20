"""A race's rules and the ranking maths: lap times in, a standing and a leaderboard order out.

Pure functions and frozen dataclasses; nothing here touches the simulator, the database or the
web app. The ranking methods are DeepRacer's:

* ``best_lap``: the fastest completed lap;
* ``average_lap``: the best window of ``ranking_laps`` consecutive completed laps, averaged;
* ``total_time``: the time to complete the first ``ranking_laps`` laps.

A lap's time includes the penalties served during it. A submission that did not complete the
laps its ranking needs has no score and is listed after every ranked one (see
:func:`rank_key`). Times are rounded to the millisecond (DeepRacer's resolution), so that two
runs that tie on the simulated clock also tie here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, TypeVar

RACE_TYPES = ("time_trial", "object_avoidance", "head_to_bot")
"""Race types (the simulator's names)."""
RANKINGS = ("best_lap", "average_lap", "total_time")
"""Ranking methods."""
DIGITS = 3
"""Times are rounded to this many decimals (milliseconds)."""


class RaceRulesError(ValueError):
    """An invalid race rule; the message names it."""


@dataclass(frozen=True)
class RaceRules:
    """What a submission drives and how it is ranked (the Race table's rule columns).

    Attributes:
        track: Track name (``racer tracks list``), ``generated:SEED`` or an imported track.
        reverse: Drive the track against its waypoint order.
        race_type: ``time_trial``, ``object_avoidance`` or ``head_to_bot`` (``-`` accepted).
        settings: The race type's options: ``{"obstacles": {...}}`` and/or ``{"bots": {...}}``
            with the field names of :class:`racer.sim.race.ObstacleConfig` and
            :class:`racer.sim.race.BotConfig`.
        ranking: ``best_lap``, ``average_lap`` or ``total_time``.
        laps: Laps the car drives, continuously, in its one run.
        ranking_laps: N: the window of consecutive laps averaged (``average_lap``) or the laps
            timed from the start (``total_time``); ignored by ``best_lap``.
        off_track_penalty: Seconds the car stays frozen after leaving the track.
        collision_penalty: Seconds the car stays frozen after hitting a box or a bot.
        time_cap: Simulated seconds the whole run may last, penalties included.
        seed: Seed of the run (box places, bot lane changes).
        qualifying_time: A best lap at or under this earns the racing licence; None: no
            licence in this race.
    """

    track: str
    reverse: bool = False
    race_type: str = "time_trial"
    settings: dict[str, Any] = field(default_factory=dict)
    ranking: str = "best_lap"
    laps: int = 3
    ranking_laps: int = 1
    off_track_penalty: float = 5.0
    collision_penalty: float = 5.0
    time_cap: float = 180.0
    seed: int = 0
    qualifying_time: float | None = None

    def __post_init__(self) -> None:
        race_type = str(self.race_type).strip().lower().replace("-", "_")
        object.__setattr__(self, "race_type", race_type)
        object.__setattr__(self, "settings", dict(self.settings or {}))
        checks = [
            (bool(str(self.track).strip()), "track must not be empty"),
            (race_type in RACE_TYPES, f"race_type must be one of {RACE_TYPES}, got {race_type!r}"),
            (self.ranking in RANKINGS, f"ranking must be one of {RANKINGS}, got {self.ranking!r}"),
            (self.laps >= 1, f"laps must be at least 1, got {self.laps}"),
            (self.ranking_laps >= 1, f"ranking_laps must be at least 1, got {self.ranking_laps}"),
            (
                self.ranking == "best_lap" or self.ranking_laps <= self.laps,
                f"ranking_laps ({self.ranking_laps}) must not exceed laps ({self.laps})",
            ),
            (self.off_track_penalty >= 0, "off_track_penalty must not be negative"),
            (self.collision_penalty >= 0, "collision_penalty must not be negative"),
            (self.time_cap > 0, f"time_cap must be positive, got {self.time_cap}"),
            (
                self.qualifying_time is None or self.qualifying_time > 0,
                "qualifying_time must be positive",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise RaceRulesError(message)

    @property
    def window(self) -> int:
        """Laps the average and the total cover: ``ranking_laps``, or all laps for best-lap."""
        return self.laps if self.ranking == "best_lap" else self.ranking_laps

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RaceRules:
        """Rules from a mapping of the fields (e.g. a Race row's columns).

        Keys that are not fields are ignored, so a whole row's mapping may be passed; missing
        ones take the defaults (the Race table's). ``None`` for ``settings`` means no settings.

        Raises:
            RaceRulesError: A missing track, a value of the wrong type or an invalid rule.
        """
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "track" not in values:
            raise RaceRulesError("track is required")
        try:
            coerced: dict[str, Any] = {
                "track": str(values.pop("track")),
                **{k: _coerce(k, v) for k, v in values.items()},
            }
        except (TypeError, ValueError) as exc:
            raise RaceRulesError(str(exc)) from None
        return cls(**coerced)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of the rules (``from_mapping`` reads it back)."""
        return asdict(self)


def _coerce(key: str, value: Any) -> Any:
    """A rule's value as its field's type."""
    if key in ("reverse",):
        if not isinstance(value, bool):
            raise TypeError(f"{key} must be true or false, got {value!r}")
        return value
    if key in ("laps", "ranking_laps", "seed"):
        if isinstance(value, bool) or int(value) != value:
            raise ValueError(f"{key} must be a whole number, got {value!r}")
        return int(value)
    if key in ("off_track_penalty", "collision_penalty", "time_cap"):
        return float(value)
    if key == "qualifying_time":
        return None if value is None else float(value)
    if key == "settings":
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"settings must be a mapping, got {type(value).__name__}")
        return dict(value or {})
    return str(value)


@dataclass(frozen=True)
class Standing:
    """How one run ranks under a race's rules.

    Attributes:
        lap_times: Seconds of each completed lap, in order, penalties included.
        laps_completed: Number of completed laps.
        best_lap: The fastest lap, or None without a completed lap.
        average_lap: The best average over ``window`` consecutive laps, or None with fewer.
        total_time: Seconds to complete the first ``window`` laps, or None with fewer.
        window: The laps the average and the total cover (``RaceRules.window``).
        score: The value ranked (seconds, lower is better): the ranking method's time, or None
            when the run did not complete the laps the ranking needs (not ranked).
        qualified: The best lap is at or under the race's qualifying time (False when the
            race has none or no lap was completed).
    """

    lap_times: tuple[float, ...]
    laps_completed: int
    best_lap: float | None
    average_lap: float | None
    total_time: float | None
    window: int
    score: float | None
    qualified: bool

    @property
    def ranked(self) -> bool:
        """Whether the run has a score."""
        return self.score is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (lap times as a list)."""
        out = asdict(self)
        out["lap_times"] = list(self.lap_times)
        return out


def _ms(seconds: float) -> float:
    return round(float(seconds), DIGITS)


def best_window(lap_times: Sequence[float], n: int) -> float | None:
    """The lowest mean of ``n`` consecutive laps, or None with fewer than ``n`` laps.

    Args:
        lap_times: Lap times in the order driven.
        n: Window length, at least 1.

    Raises:
        ValueError: ``n`` is below 1.
    """
    if n < 1:
        raise ValueError(f"the window must be at least 1 lap, got {n}")
    if len(lap_times) < n:
        return None
    sums = [sum(lap_times[i : i + n]) for i in range(len(lap_times) - n + 1)]
    return _ms(min(sums) / n)


def standing(lap_times: Sequence[float], rules: RaceRules) -> Standing:
    """Rank one run's completed laps under a race's rules.

    Args:
        lap_times: Seconds of each completed lap in the order driven, penalties included
            (laps after the race's ``laps`` are ignored).
        rules: The race's rules.

    Returns:
        The standing; ``score`` is None when the run is not ranked.

    Raises:
        ValueError: A negative or non-finite lap time.
    """
    laps = tuple(_ms(t) for t in lap_times[: rules.laps])
    if any(not 0.0 <= t < float("inf") for t in laps):
        raise ValueError(f"lap times must be finite and not negative, got {list(laps)}")
    n = rules.window
    best = min(laps) if laps else None
    average = best_window(laps, n)
    total = _ms(sum(laps[:n])) if len(laps) >= n else None
    score = {"best_lap": best, "average_lap": average, "total_time": total}[rules.ranking]
    qualified = (
        rules.qualifying_time is not None and best is not None and best <= rules.qualifying_time
    )
    return Standing(
        lap_times=laps,
        laps_completed=len(laps),
        best_lap=best,
        average_lap=average,
        total_time=total,
        window=n,
        score=score,
        qualified=qualified,
    )


class _Comparable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=_Comparable)


def rank_key(
    score: float | None, laps_completed: int, progress: float, submitted: T
) -> tuple[int, float, float, T]:
    """The sort key of a leaderboard row (sort ascending: first place first).

    Ranked rows come first, by score, then by earlier submission. Unranked rows follow, by
    laps completed (most first), then progress (most first), then earlier submission.

    Args:
        score: The row's score (None: not ranked).
        laps_completed: Laps the run completed.
        progress: Percent of the race's laps driven, 0-100.
        submitted: When the row was submitted (a datetime, or an increasing id).

    Returns:
        A tuple that orders rows as described.
    """
    if score is not None:
        return (0, float(score), 0.0, submitted)
    return (1, -float(laps_completed), -float(progress), submitted)
