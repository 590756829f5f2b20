"""DeepRacer's step log ("simtrace"): one CSV row per control step, in DeepRacer's exact columns.

The community's analysis tools read this format; racer writes it for training (one file per
policy-update iteration, ``training-simtrace/<k>-iteration.csv``) and evaluation
(``evaluation-simtrace/<k>-iteration.csv``), and reads it back in ``racer analyze``.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

SIMTRACE_COLUMNS: tuple[str, ...] = (
    "episode",
    "steps",
    "X",
    "Y",
    "yaw",
    "steer",
    "throttle",
    "action",
    "reward",
    "done",
    "all_wheels_on_track",
    "progress",
    "closest_waypoint",
    "track_len",
    "tstamp",
    "episode_status",
    "pause_duration",
    "obstacle_crash_counter",
    "wall_clock",
)
"""The 19 columns, in order. Older DeepRacer logs lack the last two or the last one."""


def format_action(action: Any) -> str:
    """The ``action`` cell: the index of a discrete action, ``[steer speed]`` for continuous."""
    if isinstance(action, int | float) and not isinstance(action, bool):
        return str(int(action))
    try:
        values = [float(v) for v in action]  # continuous: steering (deg), speed (m/s)
    except TypeError:
        return str(int(action))
    if len(values) == 1:
        return str(int(values[0]))
    return "[" + " ".join(f"{v:.4f}" for v in values) + "]"


def simtrace_row(
    episode: int,
    step: Mapping[str, Any],
    action: Any,
    reward: float,
    done: bool,
    wall_clock: float | None = None,
) -> list[Any]:
    """One row from an env step's ``info`` (see :class:`racer.env.racing_env.RacingEnv`).

    Args:
        episode: Episode number within the run (0-based, as DeepRacer counts).
        step: The step's ``info`` mapping (``steps``, ``x``, ``y``, ``heading``, ...).
        action: The policy's action (index or continuous values as commanded).
        reward: The step's reward.
        done: Whether the episode ended at this step.
        wall_clock: Unix time; now when omitted.

    Returns:
        The row's cells in :data:`SIMTRACE_COLUMNS` order.
    """
    return [
        episode,
        int(step["steps"]) + 1,  # DeepRacer counts its "prepare" step as step 1
        _num(step["x"]),
        _num(step["y"]),
        _num(step["heading"]),
        _num(step["steering_angle"]),
        _num(step["speed"]),
        format_action(action),
        _num(reward),
        bool(done),
        bool(step["all_wheels_on_track"]),
        _num(step["progress"]),
        int(step["closest_waypoint"]),
        _num(step["track_length"]),
        _num(step["sim_time"]),
        step["status"],
        _num(step["pause_duration"]),
        int(step["crash_count"]),
        f"{time.time() if wall_clock is None else wall_clock:.3f}",
    ]


def _num(value: float) -> str:
    v = float(value)
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return f"{v:.1f}"
    return f"{v:.4f}"


class SimtraceWriter:
    """Appends simtrace rows to a CSV file, writing the header once.

    Args:
        path: The CSV file; its folder is created.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file: TextIO = self.path.open("a", newline="")
        self._csv = csv.writer(self._file)
        if new:
            self._csv.writerow(SIMTRACE_COLUMNS)
        self.rows = 0

    def write(self, row: Sequence[Any]) -> None:
        """Write one row."""
        self._csv.writerow(row)
        self.rows += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()

    def __enter__(self) -> SimtraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_simtrace(path: str | Path) -> list[dict[str, str]]:
    """Read a simtrace CSV written by racer or DeepRacer into row dictionaries (strings)."""
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))
