"""The normalised step table every log reader produces: one numpy array per simtrace column.

Whatever the format (racer's or DeepRacer's simtrace CSVs, RoboMaker log lines), a reader turns
each control step into one row of a :class:`StepTable`. Columns that older formats lack
(``pause_duration``, ``obstacle_crash_counter``, ``wall_clock``) are NaN there.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.logs.simtrace import SIMTRACE_COLUMNS

TRAINING = "training"
EVALUATION = "evaluation"
PHASES = (TRAINING, EVALUATION)

FLOAT_COLUMNS = (
    "steps", "x", "y", "yaw", "steer", "throttle", "reward", "progress", "track_len", "tstamp",
    "pause_duration", "obstacle_crash_counter", "wall_clock",
)  # fmt: skip
INT_COLUMNS = ("episode", "closest_waypoint")
BOOL_COLUMNS = ("done", "all_wheels_on_track")
OPTIONAL_COLUMNS = ("pause_duration", "obstacle_crash_counter", "wall_clock")
REQUIRED_COLUMNS = tuple(
    c.lower() for c in SIMTRACE_COLUMNS if c.lower() not in OPTIONAL_COLUMNS + ("episode_status",)
)
"""Columns every log must have (``episode_status`` is derived when a very old log lacks it)."""

_TRUE = frozenset({"true", "1", "1.0", "yes"})
_FALSE = frozenset({"false", "0", "0.0", "no", ""})
_BRACKETED = re.compile(r"^\[.*\]$")


class LogFormatError(ValueError):
    """A log file cannot be read; the message names the file (and line) and what is wrong."""


@dataclass(frozen=True)
class StepTable:
    """Simtrace steps as columns (all arrays have the same length).

    Attributes:
        source: Label of the run or log the steps come from.
        phase: ``"training"`` or ``"evaluation"`` per row.
        segment: Index of the file (or archive member) the row was read from.
        iteration: Policy-update iteration (training) or the evaluated iteration.
        episode: Episode number as logged.
        steps: Step counter as logged (DeepRacer's ``prepare`` row is step 1).
        x: Position, metres.
        y: Position, metres.
        yaw: Heading, degrees.
        steer: Commanded steering, degrees, positive = left.
        throttle: Commanded speed, m/s.
        action: Discrete action index; NaN for continuous actions.
        reward: The step's reward.
        done: The episode ended at this step.
        all_wheels_on_track: All four wheels inside the borders.
        progress: Percent of the lap done since the episode's start.
        closest_waypoint: Index of the nearest centre-line waypoint.
        track_len: Centre-line length, metres.
        tstamp: Simulated seconds.
        episode_status: ``prepare``, ``in_progress``, ``off_track``, ``lap_complete``, ...
        pause_duration: Penalty seconds (NaN when the log has no such column).
        obstacle_crash_counter: Collisions so far (NaN when absent).
        wall_clock: Unix time (NaN when absent).
    """

    source: str
    phase: NDArray[np.str_]
    segment: NDArray[np.int64]
    iteration: NDArray[np.int64]
    episode: NDArray[np.int64]
    steps: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    yaw: NDArray[np.float64]
    steer: NDArray[np.float64]
    throttle: NDArray[np.float64]
    action: NDArray[np.float64]
    reward: NDArray[np.float64]
    done: NDArray[np.bool_]
    all_wheels_on_track: NDArray[np.bool_]
    progress: NDArray[np.float64]
    closest_waypoint: NDArray[np.int64]
    track_len: NDArray[np.float64]
    tstamp: NDArray[np.float64]
    episode_status: NDArray[np.str_]
    pause_duration: NDArray[np.float64]
    obstacle_crash_counter: NDArray[np.float64]
    wall_clock: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.episode)

    @property
    def continuous(self) -> bool:
        """Whether the actions are continuous (no action index logged after ``prepare`` rows)."""
        moving = self.episode_status != "prepare"
        return bool(moving.any() and np.isnan(self.action[moving]).all())

    def column(self, name: str) -> NDArray[np.generic]:
        """The column called ``name``."""
        value = getattr(self, name)
        if not isinstance(value, np.ndarray):
            raise KeyError(name)
        return value

    def select(self, mask: NDArray[np.bool_]) -> StepTable:
        """The rows where ``mask`` is true."""
        columns: dict[str, Any] = {n: self.column(n)[mask] for n in array_fields()}
        return dataclasses.replace(self, **columns)

    def with_source(self, source: str) -> StepTable:
        """The same rows under another source label."""
        return dataclasses.replace(self, source=source)


def array_fields() -> tuple[str, ...]:
    """Names of the per-row columns of :class:`StepTable`."""
    return tuple(f.name for f in dataclasses.fields(StepTable) if f.name != "source")


def concat(tables: Sequence[StepTable], source: str) -> StepTable:
    """Stack tables row-wise under one source label."""
    if not tables:
        return empty_table(source)
    columns = {n: np.concatenate([t.column(n) for t in tables]) for n in array_fields()}
    return StepTable(source=source, **columns)


def empty_table(source: str) -> StepTable:
    """A table with no rows."""
    return build_table(source, {}, phase=TRAINING, segment=0, iterations=[], origin=source)


def build_table(
    source: str,
    cells: Mapping[str, Sequence[str]],
    *,
    phase: str,
    segment: int,
    iterations: Sequence[int],
    origin: str,
    first_line: int = 2,
) -> StepTable:
    """Convert text cells (column name -> one string per row) into a :class:`StepTable`.

    Args:
        source: Source label.
        cells: Lower-case simtrace column names to cell strings; optional columns may be absent.
        phase: Phase of every row.
        segment: Segment index of every row.
        iterations: Iteration of each row.
        origin: File name for error messages.
        first_line: Line number of the first row, for error messages (CSV readers pass 2).

    Returns:
        The table.

    Raises:
        LogFormatError: If a cell is not a number (or boolean) where one is expected.
    """
    n = len(iterations)
    out: dict[str, NDArray[np.generic]] = {}
    for name in FLOAT_COLUMNS:
        out[name] = _floats(cells.get(name), n, name, origin, first_line)
    for name in INT_COLUMNS:
        out[name] = _floats(cells.get(name), n, name, origin, first_line).astype(np.int64)
    for name in BOOL_COLUMNS:
        out[name] = _bools(cells.get(name), n, name, origin, first_line)
    out["action"] = _actions(cells.get("action", ()), origin, first_line)
    status = cells.get("episode_status")
    out["episode_status"] = (
        np.asarray(status, dtype=np.str_) if status is not None else _derived_status(out)
    )
    return StepTable(
        source=source,
        phase=np.full(n, phase, dtype="<U10"),
        segment=np.full(n, segment, dtype=np.int64),
        iteration=np.asarray(iterations, dtype=np.int64).reshape(n),
        **out,  # type: ignore[arg-type]
    )


def _floats(
    values: Sequence[str] | None, n: int, name: str, origin: str, first_line: int
) -> NDArray[np.float64]:
    if values is None:
        return np.full(n, np.nan)
    try:
        return np.asarray(values, dtype=np.float64) if n else np.zeros(0)
    except ValueError:
        for i, v in enumerate(values):
            try:
                float(v)
            except ValueError:
                raise LogFormatError(
                    f"{origin}: line {first_line + i}: column '{name}' should be a number, "
                    f"got {v!r}"
                ) from None
        raise


def _bools(
    values: Sequence[str] | None, n: int, name: str, origin: str, first_line: int
) -> NDArray[np.bool_]:
    if values is None:
        return np.zeros(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    for i, v in enumerate(values):
        word = v.strip().lower()
        if word in _TRUE:
            out[i] = True
        elif word not in _FALSE:
            raise LogFormatError(
                f"{origin}: line {first_line + i}: column '{name}' should be True or False, "
                f"got {v!r}"
            )
    return out


def _actions(values: Sequence[str], origin: str, first_line: int) -> NDArray[np.float64]:
    """Discrete indices as numbers; continuous ``[steer speed]`` cells as NaN."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        text = v.strip()
        if _BRACKETED.match(text):
            continue
        try:
            out[i] = float(text)
        except ValueError:
            raise LogFormatError(
                f"{origin}: line {first_line + i}: column 'action' should be an index or "
                f"'[steer speed]', got {v!r}"
            ) from None
    return out


def _derived_status(cols: Mapping[str, NDArray[np.generic]]) -> NDArray[np.str_]:
    """A status for logs too old to have one: lap_complete, off_track, done or in_progress."""
    done = np.asarray(cols["done"], dtype=bool)
    progress = np.asarray(cols["progress"], dtype=np.float64)
    on_track = np.asarray(cols["all_wheels_on_track"], dtype=bool)
    status = np.full(len(done), "in_progress", dtype="<U16")
    status[done] = "done"
    status[done & ~on_track] = "off_track"
    status[done & (progress >= 100.0)] = "lap_complete"
    return status
