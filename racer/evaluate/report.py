"""Results of an evaluation: per-trial records, totals, and DeepRacer's ``metrics.json``.

``metrics.json`` has DeepRacer's evaluation shape, ``{"metrics": [one entry per trial]}``, plus
racer's ``"summary"`` block. DeepRacer's newest simulator stamps ``start_time`` and
``metric_time`` with the simulation clock; racer does the same, counting from the start of the
first trial, so the file is identical for the same model and seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.evaluate.config import EvalConfig

STATUS_LABELS = {
    "prepare": "Prepare",
    "in_progress": "In progress",
    "off_track": "Off track",
    "crashed": "Crashed",
    "immobilized": "Immobilized",
    "reversed": "Reversed",
    "lap_complete": "Lap complete",
    "time_up": "Time up",
}
"""DeepRacer's ``episode_status`` labels in ``metrics.json``."""


@dataclass(frozen=True, eq=False)
class TrialTrace:
    """What a trial looked like, for pictures.

    Attributes:
        positions: (M, 2) DeepRacer (x, y) points, one per step, the start included.
        speeds: (M,) ground speeds, m/s.
        events: (x, y, kind) where the car left the track (``off_track``) or crashed.
        objects: (K, 7) objects at the start of the trial (see ``objects_array``).
    """

    positions: NDArray[np.float64]
    speeds: NDArray[np.float64]
    events: tuple[tuple[float, float, str], ...] = ()
    objects: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 7)))


@dataclass(frozen=True)
class TrialResult:
    """One trial.

    Attributes:
        trial: Trial number, from 1.
        status: Final status: ``lap_complete``, ``time_up``, ``immobilized`` or ``reversed``.
        time: Simulated seconds when the trial ended, penalties included.
        lap_time: ``time`` when the trial completed its laps, else None.
        lap_splits: Seconds of each completed lap (one entry per lap when ``laps > 1``).
        steps: Control steps.
        progress: Percent of the trial's laps done, 0-100.
        off_track_count: Times the car left the track.
        crash_count: Collisions with boxes or bots.
        penalty_time: Seconds of penalties in ``time``.
        reward: Sum of the model's reward over the trial.
        start_time: Simulated seconds of the evaluation's clock when the trial began.
        trace: Positions and speeds (not compared, not serialised).
    """

    trial: int
    status: str
    time: float
    lap_time: float | None
    lap_splits: tuple[float, ...]
    steps: int
    progress: float
    off_track_count: int
    crash_count: int
    penalty_time: float
    reward: float
    start_time: float
    trace: TrialTrace | None = field(default=None, compare=False, repr=False)

    @property
    def completed(self) -> bool:
        """The trial finished its laps."""
        return self.status == "lap_complete"

    @property
    def clean(self) -> bool:
        """Completed without leaving the track or crashing: what a clean race lap means."""
        return self.completed and self.off_track_count == 0 and self.crash_count == 0

    def metric(self) -> dict[str, Any]:
        """The trial's entry of DeepRacer's evaluation ``metrics`` list.

        Times are integer milliseconds of simulated time; ``lap_time`` is null for a trial
        that did not finish.
        """
        start_ms = round(self.start_time * 1000)
        end_ms = round((self.start_time + self.time) * 1000)
        return {
            "reward_score": round(self.reward),
            "metric_time": end_ms,
            "start_time": start_ms,
            "elapsed_time_in_milliseconds": end_ms - start_ms,
            "episode_status": STATUS_LABELS.get(self.status, self.status),
            "trial": self.trial,
            "phase": "evaluation",
            "completion_percentage": int(self.progress),
            "lap_time": None if self.lap_time is None else round(self.lap_time * 1000),
            "crash_count": self.crash_count,
            "immobilized_count": int(self.status == "immobilized"),
            "off_track_count": self.off_track_count,
            "reversed_count": int(self.status == "reversed"),
            "reset_count": self.crash_count + self.off_track_count,
        }


@dataclass(frozen=True)
class EvalReport:
    """An evaluation's results.

    Attributes:
        config: The evaluation settings.
        track: Display name of the track.
        track_length: Centre-line length, metres.
        model: Name of the model, when known.
        trials: One result per trial.
        out_dir: Folder the files were written to.
        files: Written files by kind (``simtrace``, ``metrics``, ``laps``, ``video``).
        optimal_lap_time: The physically optimal lap of the track (see
            :mod:`racer.sim.racing_line`), the yardstick of lap times; None for open tracks.
    """

    config: EvalConfig
    track: str
    track_length: float
    model: str | None
    trials: tuple[TrialResult, ...]
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    optimal_lap_time: float | None = None

    @property
    def best_lap_ratio(self) -> float | None:
        """Best lap time as a multiple of the optimal lap (1.0 = physically optimal)."""
        if self.best_lap_time is None or not self.optimal_lap_time:
            return None
        return self.best_lap_time / self.optimal_lap_time

    @property
    def completed(self) -> int:
        """Trials that finished their laps."""
        return sum(t.completed for t in self.trials)

    @property
    def completion_rate(self) -> float:
        """Fraction of trials that finished, 0-1."""
        return self.completed / len(self.trials) if self.trials else 0.0

    @property
    def lap_times(self) -> list[float]:
        """Times of the completed trials, seconds (all laps of a trial, penalties included)."""
        return [t.lap_time for t in self.trials if t.lap_time is not None]

    @property
    def best_lap_time(self) -> float | None:
        """Fastest completed trial, seconds."""
        return min(self.lap_times) if self.lap_times else None

    @property
    def mean_lap_time(self) -> float | None:
        """Mean of the completed trials, seconds."""
        return float(np.mean(self.lap_times)) if self.lap_times else None

    def summary(self) -> dict[str, Any]:
        """The racer summary block of ``metrics.json`` (seconds, rounded to the millisecond)."""

        def r3(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {
            "run_id": self.config.run_id,
            "model": self.model,
            "track": self.track,
            "track_length": round(self.track_length, 3),
            "race_type": self.config.race_type,
            "trials": len(self.trials),
            "completed": self.completed,
            "completion_rate": round(self.completion_rate, 4),
            "best_lap_time": r3(self.best_lap_time),
            "mean_lap_time": r3(self.mean_lap_time),
            "optimal_lap_time": r3(self.optimal_lap_time),
            "best_lap_ratio": r3(self.best_lap_ratio),
            "off_track_count": sum(t.off_track_count for t in self.trials),
            "crash_count": sum(t.crash_count for t in self.trials),
            "per_trial": [
                {
                    "trial": t.trial,
                    "status": t.status,
                    "completed": t.completed,
                    "time": r3(t.time),
                    "lap_time": r3(t.lap_time),
                    "lap_splits": [round(s, 3) for s in t.lap_splits],
                    "progress": round(t.progress, 2),
                    "off_track_count": t.off_track_count,
                    "crash_count": t.crash_count,
                    "penalty_time": r3(t.penalty_time),
                    "steps": t.steps,
                }
                for t in self.trials
            ],
            "config": self.config.to_dict(),
            "files": {k: _relative(v, self.out_dir) for k, v in sorted(self.files.items())},
        }

    def metrics(self) -> dict[str, Any]:
        """The whole ``metrics.json`` document."""
        return {"metrics": [t.metric() for t in self.trials], "summary": self.summary()}

    def write_metrics(self, path: str | Path) -> Path:
        """Write ``metrics.json`` (sorted keys inside entries kept in DeepRacer's order)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.metrics(), indent=2) + "\n")
        return p


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (the name alone when outside it)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
