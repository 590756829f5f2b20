"""Per-episode results from a step table: reward, progress, status, lap time."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from racer.analyze.table import StepTable

LAP_COMPLETE = "lap_complete"
OFF_TRACK = "off_track"
TERMINAL = frozenset(
    {"off_track", "crashed", "immobilized", "reversed", "lap_complete", "time_up", "done"}
)


@dataclass(frozen=True)
class EpisodeTable:
    """One row per finished episode (episodes cut off by the end of a log are left out).

    Attributes:
        source: Source label.
        phase: ``training`` or ``evaluation``.
        iteration: The episode's iteration.
        segment: The file it came from.
        episode: Episode number as logged.
        reward: Sum of the step rewards.
        progress: Highest progress reached, percent.
        steps: Rows logged for the episode (DeepRacer's ``prepare`` row included).
        status: The final status.
        lap_time: ``tstamp`` span of an episode that ended ``lap_complete``, else NaN.
        went_off_track: The car left the track at least once (evaluations go on after it).
        unfinished: Episodes left out because the log ends before they do.
    """

    source: str
    phase: NDArray[np.str_]
    iteration: NDArray[np.int64]
    segment: NDArray[np.int64]
    episode: NDArray[np.int64]
    reward: NDArray[np.float64]
    progress: NDArray[np.float64]
    steps: NDArray[np.int64]
    status: NDArray[np.str_]
    lap_time: NDArray[np.float64]
    went_off_track: NDArray[np.bool_]
    unfinished: int = 0

    def __len__(self) -> int:
        return len(self.episode)

    def select(self, mask: NDArray[np.bool_]) -> EpisodeTable:
        """The episodes where ``mask`` is true."""
        return EpisodeTable(
            self.source, self.phase[mask], self.iteration[mask], self.segment[mask],
            self.episode[mask], self.reward[mask], self.progress[mask], self.steps[mask],
            self.status[mask], self.lap_time[mask], self.went_off_track[mask],
        )  # fmt: skip


def episodes(steps: StepTable) -> EpisodeTable:
    """Group steps into episodes (by phase and episode number, in log order).

    An episode may run on from one iteration's file into the next (racer's trainer cuts its
    logs at policy updates, not at episode ends): rows of the same episode number in adjacent
    files are one episode. The same number in files further apart is another episode (logs
    of several workers that each count from 0). Adjacent means consecutive iterations.

    Args:
        steps: The source's steps.

    Returns:
        The finished episodes.
    """
    n = len(steps)
    if n == 0:
        return _empty(steps.source)
    inverse, first = _episode_groups(steps)
    order = np.argsort(inverse, kind="stable")  # rows grouped by episode, log order inside
    sorted_group = inverse[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    lasts = np.r_[starts[1:], n] - 1
    first_row, last_row = order[starts], order[lasts]
    status = steps.episode_status[last_row]
    finished = steps.done[last_row] | np.isin(status, list(TERMINAL))
    off = np.logical_or.reduceat((steps.episode_status == OFF_TRACK)[order], starts)
    t0, t1 = steps.tstamp[first_row], steps.tstamp[last_row]
    complete = status == LAP_COMPLETE
    table = EpisodeTable(
        source=steps.source,
        phase=steps.phase[first_row],
        iteration=steps.iteration[first_row],
        segment=steps.segment[first_row],
        episode=steps.episode[first_row],
        reward=np.add.reduceat(np.nan_to_num(steps.reward[order]), starts),
        progress=np.fmax.reduceat(steps.progress[order], starts),
        steps=np.diff(np.r_[starts, n]).astype(np.int64),
        status=status,
        lap_time=np.where(complete, t1 - t0, np.nan),
        went_off_track=off | (status == OFF_TRACK),
    )
    log_order = np.argsort(first, kind="stable")  # groups come sorted by key; restore log order
    kept = table.select(log_order[finished[log_order]])
    return dataclasses.replace(kept, unfinished=int((~finished).sum()))


def _episode_groups(steps: StepTable) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Episode group of each row, and each group's first row (groups sorted by key)."""
    n = len(steps)
    phase = np.unique(steps.phase, return_inverse=True)[1].reshape(-1)
    rows = np.lexsort((np.arange(n), steps.iteration, steps.episode, phase))
    p, e, s = phase[rows], steps.episode[rows], steps.iteration[rows]
    new = np.r_[True, (p[1:] != p[:-1]) | (e[1:] != e[:-1]) | (s[1:] - s[:-1] > 1)]
    group = np.cumsum(new) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[rows] = group
    first = np.full(int(group[-1]) + 1, n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n))
    return inverse, first


def _empty(source: str) -> EpisodeTable:
    f, i = np.zeros(0), np.zeros(0, dtype=np.int64)
    s = np.zeros(0, dtype="<U16")
    return EpisodeTable(source, s, i, i, i, f, f, i, s, f, np.zeros(0, dtype=bool))
