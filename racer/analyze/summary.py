"""Summary numbers of a source, per phase (training, evaluation) and per iteration."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from racer.analyze.episodes import LAP_COMPLETE, EpisodeTable
from racer.analyze.table import PHASES


@dataclass(frozen=True)
class IterationSummary:
    """One iteration's episodes.

    Attributes:
        iteration: Iteration number.
        episodes: Finished episodes.
        reward_mean: Mean episode reward.
        reward_std: Standard deviation of the episode reward (0 for one episode).
        progress_mean: Mean highest progress, percent.
        progress_std: Its standard deviation.
        completion_rate: Share of episodes that ended ``lap_complete`` (0–1).
    """

    iteration: int
    episodes: int
    reward_mean: float
    reward_std: float
    progress_mean: float
    progress_std: float
    completion_rate: float


@dataclass(frozen=True)
class PhaseSummary:
    """A source's training (or evaluation) episodes in numbers.

    Lap times are the ``tstamp`` span of episodes that ended ``lap_complete``; NaN without any.

    Attributes:
        source: Source label.
        phase: ``training`` or ``evaluation``.
        episodes: Finished episodes.
        unfinished: Episodes cut off by the end of the log (not counted anywhere else).
        iterations: Distinct iterations.
        completion_rate: Share of episodes that completed a lap (0–1).
        mean_progress: Mean highest progress, percent.
        mean_reward: Mean episode reward.
        laps: Completed laps.
        best_lap: Fastest lap, seconds.
        mean_lap: Mean lap time, seconds.
        median_lap: Median lap time, seconds.
        offtrack_rate: Share of episodes that went off track at least once (0–1).
        steps_per_episode: Mean rows per episode.
        per_iteration: One entry per iteration, in order.
    """

    source: str
    phase: str
    episodes: int
    unfinished: int
    iterations: int
    completion_rate: float
    mean_progress: float
    mean_reward: float
    laps: int
    best_lap: float
    mean_lap: float
    median_lap: float
    offtrack_rate: float
    steps_per_episode: float
    per_iteration: tuple[IterationSummary, ...]


def _mean(values: NDArray[np.floating] | NDArray[np.bool_]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _std(values: NDArray[np.floating]) -> float:
    return float(np.std(values)) if len(values) > 1 else 0.0


def summarise(table: EpisodeTable) -> list[PhaseSummary]:
    """Summaries of each phase present in ``table`` (training first).

    Args:
        table: The source's episodes.

    Returns:
        One summary per phase with episodes (or with unfinished episodes only).
    """
    out = []
    for phase in PHASES:
        part = table.select(table.phase == phase)
        if len(part) or (phase == PHASES[0] and table.unfinished):
            out.append(_phase_summary(part, phase, table.unfinished if phase == PHASES[0] else 0))
    return out


def _phase_summary(t: EpisodeTable, phase: str, unfinished: int) -> PhaseSummary:
    laps = t.lap_time[t.status == LAP_COMPLETE]
    return PhaseSummary(
        source=t.source,
        phase=phase,
        episodes=len(t),
        unfinished=unfinished,
        iterations=len(np.unique(t.iteration)),
        completion_rate=_mean(t.status == LAP_COMPLETE),
        mean_progress=_mean(t.progress),
        mean_reward=_mean(t.reward),
        laps=len(laps),
        best_lap=float(laps.min()) if len(laps) else math.nan,
        mean_lap=_mean(laps),
        median_lap=float(np.median(laps)) if len(laps) else math.nan,
        offtrack_rate=_mean(t.went_off_track),
        steps_per_episode=_mean(t.steps.astype(np.float64)),
        per_iteration=tuple(_iteration(t, int(k)) for k in np.unique(t.iteration)),
    )


def _iteration(t: EpisodeTable, k: int) -> IterationSummary:
    part = t.select(t.iteration == k)
    return IterationSummary(
        iteration=k,
        episodes=len(part),
        reward_mean=_mean(part.reward),
        reward_std=_std(part.reward),
        progress_mean=_mean(part.progress),
        progress_std=_std(part.progress),
        completion_rate=_mean(part.status == LAP_COMPLETE),
    )
