"""What a sweep maximises: one number per periodic evaluation of a trial's training run.

A registry (:data:`OBJECTIVES`). Each objective turns one evaluation (the laps a run drives
every few minutes, :class:`racer.train.evaluation.EvalSummary`) into a number, larger is
better. A trial's run scores its best evaluation; a trial with several seeds scores the mean
of its runs.

``laps`` (the default) ranks completion first, then lap time::

    1000 x completion_rate - min(mean_lap_time, 100 s)     when some lap was completed
    mean_progress - 100                                     when none was (-100 ... 0)

so 987.7 reads "every lap completed, 12.3 s a lap", 654.3 "two laps in three, 12.4 s", and -55
"no lap, 45 % of the way round on average". Completion always comes first with up to ten laps
per evaluation (``eval_episodes``): one more completed lap in ten is worth 100, more than
any lap-time difference under the cap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from racer.train.evaluation import EvalSummary
from racer.train.run import METRICS_FILE

LAP_POINTS = 1000.0
"""``laps``: points for a completion rate of 1."""
LAP_TIME_CAP_S = 100.0
"""``laps``: lap times above this count as this."""
RECENT_EPISODES = 20
"""``reward``: training episodes averaged."""


@dataclass(frozen=True)
class Objective:
    """One way to score a trial.

    Attributes:
        label: What the number is, for tables and plot axes.
        help: One line for ``--help`` and the docs.
        value: ``(evaluation, run folder) -> score``, larger is better.
    """

    label: str
    help: str
    value: Callable[[EvalSummary, Path], float]


def laps(summary: EvalSummary, run_dir: Path) -> float:
    """Completion first, then lap time (see the module's docstring)."""
    lap = summary.mean_lap_time
    if lap is None:
        return summary.mean_progress - 100.0
    return LAP_POINTS * summary.completion_rate - min(lap, LAP_TIME_CAP_S)


def progress(summary: EvalSummary, run_dir: Path) -> float:
    """Mean progress (%) of the evaluation laps."""
    return summary.mean_progress


def reward(summary: EvalSummary, run_dir: Path) -> float:
    """Mean reward of the last training episodes (the evaluation laps' before the first)."""
    path = run_dir / METRICS_FILE
    entries = json.loads(path.read_text()).get("metrics", []) if path.exists() else []
    scores = [float(e["reward_score"]) for e in entries if e.get("phase") == "training"]
    if scores:
        recent = scores[-RECENT_EPISODES:]
        return sum(recent) / len(recent)
    return sum(e.reward for e in summary.episodes) / len(summary.episodes)


OBJECTIVES: dict[str, Objective] = {
    "laps": Objective(
        "1000 × completion − lap time (s)",
        "lap completion first, then lap time (1000 x completion rate - mean lap time)",
        laps,
    ),
    "progress": Objective(
        "mean progress (%)", "mean progress of the evaluation laps (%)", progress
    ),
    "reward": Objective(
        "mean training reward",
        f"mean reward of the last {RECENT_EPISODES} training episodes",
        reward,
    ),
}
"""Objectives by name."""
