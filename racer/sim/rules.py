"""DeepRacer's episode rules: statuses, progress since the start, and when an episode ends."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Episode statuses, spelled as in DeepRacer's logs."""

    PREPARE = "prepare"
    IN_PROGRESS = "in_progress"
    OFF_TRACK = "off_track"
    CRASHED = "crashed"
    IMMOBILIZED = "immobilized"
    REVERSED = "reversed"
    LAP_COMPLETE = "lap_complete"
    TIME_UP = "time_up"


TERMINAL = frozenset(
    {
        Status.OFF_TRACK,
        Status.CRASHED,
        Status.IMMOBILIZED,
        Status.REVERSED,
        Status.LAP_COMPLETE,
        Status.TIME_UP,
    }
)


@dataclass(frozen=True)
class RulesConfig:
    """How episodes end.

    Attributes:
        mode: ``"training"`` (off-track and crashes end the episode) or ``"evaluation"``
            (the car is frozen for a penalty and put back where it left the track).
        max_steps: Step cap (status ``time_up``).
        laps: Laps to complete before ``lap_complete``.
        immobilized_steps: Consecutive slow steps before ``immobilized``.
        immobilized_distance: A step moving at most this far (metres) counts as slow.
        reversed_steps: Consecutive steps of falling progress before ``reversed``.
        off_track_penalty: Seconds frozen after leaving the track (evaluation).
        collision_penalty: Seconds frozen after a collision (evaluation).
    """

    mode: str = "training"
    max_steps: int = 10_000
    laps: int = 1
    immobilized_steps: int = 15
    immobilized_distance: float = 0.0003
    reversed_steps: int = 15
    off_track_penalty: float = 5.0
    collision_penalty: float = 5.0

    def __post_init__(self) -> None:
        if self.mode not in ("training", "evaluation"):
            raise ValueError(f"rules mode must be 'training' or 'evaluation', got {self.mode!r}")
        if self.laps < 1 or self.max_steps < 1:
            raise ValueError("laps and max_steps must be at least 1")


@dataclass
class EpisodeTracker:
    """Running counters for one episode: progress along the lap and the stall detectors."""

    length: float
    start_s: float
    last_s: float = 0.0
    travelled: float = 0.0
    slow_steps: int = 0
    backward_steps: int = 0

    @classmethod
    def start(cls, length: float, s: float) -> EpisodeTracker:
        """Begin at distance ``s`` along the track."""
        return cls(length=length, start_s=s, last_s=s)

    def update(self, s: float, moved: float, rules: RulesConfig, closed: bool) -> None:
        """Advance with the car's new distance along the track and the distance it moved."""
        ds = s - self.last_s
        if closed:
            half = self.length / 2.0
            if ds > half:
                ds -= self.length
            elif ds < -half:
                ds += self.length
        self.last_s = s
        self.travelled += ds
        self.slow_steps = self.slow_steps + 1 if moved <= rules.immobilized_distance else 0
        self.backward_steps = self.backward_steps + 1 if ds < 0 else 0

    def relocate(self, s: float) -> None:
        """The car was put back at ``s`` (evaluation penalty); keep progress, reset detectors."""
        self.last_s = s
        self.slow_steps = 0
        self.backward_steps = 0

    def progress(self, laps: int = 1) -> float:
        """Percent of the lap(s) done since the start, 0-100."""
        return max(0.0, min(100.0, 100.0 * self.travelled / (self.length * laps)))

    def status(
        self,
        rules: RulesConfig,
        steps: int,
        *,
        offtrack: bool,
        crashed: bool,
    ) -> Status:
        """The status after this step, by DeepRacer's precedence."""
        if self.travelled >= self.length * rules.laps:
            return Status.LAP_COMPLETE
        if crashed:
            return Status.CRASHED
        if offtrack:
            return Status.OFF_TRACK
        if self.slow_steps >= rules.immobilized_steps:
            return Status.IMMOBILIZED
        if self.backward_steps >= rules.reversed_steps:
            return Status.REVERSED
        if steps >= rules.max_steps:
            return Status.TIME_UP
        return Status.IN_PROGRESS
