"""Evaluation laps during training, to choose the best model (completion first, then lap time).

A deliberately small evaluator: the full race evaluation (trials, penalties, videos, ranking)
lives in ``racer.evaluate``; here we only need a score to compare checkpoints of one run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import gymnasium as gym


@dataclass(frozen=True)
class EvalEpisode:
    """One evaluation lap."""

    progress: float
    status: str
    lap_time: float | None
    reward: float
    steps: int
    info: dict[str, Any]


@dataclass(frozen=True)
class EvalSummary:
    """Scores of one periodic evaluation.

    Attributes:
        step: Training env steps when it ran.
        episodes: The laps.
    """

    step: int
    episodes: tuple[EvalEpisode, ...]

    @property
    def completion_rate(self) -> float:
        """Fraction of laps completed."""
        return sum(e.lap_time is not None for e in self.episodes) / len(self.episodes)

    @property
    def all_clean(self) -> bool:
        """Whether every lap was completed without leaving the track or crashing."""
        return all(
            e.lap_time is not None
            and not e.info.get("off_track_count")
            and not e.info.get("crash_count")
            for e in self.episodes
        )

    @property
    def mean_progress(self) -> float:
        """Mean progress (%)."""
        return sum(e.progress for e in self.episodes) / len(self.episodes)

    @property
    def mean_lap_time(self) -> float | None:
        """Mean time of the completed laps (simulated seconds, penalties included)."""
        laps = [e.lap_time for e in self.episodes if e.lap_time is not None]
        return sum(laps) / len(laps) if laps else None

    def key(self) -> tuple[float, float, float]:
        """Sort key, larger is better (see :func:`score`)."""
        return score(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The ``best.json`` mapping."""
        return {
            "step": self.step,
            "completion_rate": self.completion_rate,
            "mean_lap_time": self.mean_lap_time,
            "mean_progress": self.mean_progress,
            "episodes": len(self.episodes),
        }

    def describe(self) -> str:
        """A short line for the live display."""
        lap = self.mean_lap_time
        lap_text = f", lap {lap:.2f} s" if lap is not None else ""
        return (
            f"step {self.step}: {self.completion_rate:.0%} laps, "
            f"progress {self.mean_progress:.1f} %{lap_text}"
        )


def score(result: dict[str, Any]) -> tuple[float, float, float]:
    """Sort key of a ``best.json`` mapping, larger is better.

    Completion rate first, then mean progress, then a faster mean lap.
    """
    lap = result.get("mean_lap_time")
    return (
        float(result["completion_rate"]),
        float(result["mean_progress"]),
        -float(lap) if lap is not None else -math.inf,
    )


def run_episodes(
    predict: Callable[[Any], Any], env: gym.Env[Any, Any], episodes: int, seed: int, step: int
) -> EvalSummary:
    """Drive ``episodes`` laps with a deterministic policy, from evenly spaced starts.

    Lap *k* starts ``k / episodes`` of the way round from the usual start line: a
    deterministic policy started twice from the same pose drives the same lap twice, so
    spreading the starts is what makes a second lap worth its time. The starts are the same
    at every evaluation, so scores stay comparable across a run.

    Args:
        predict: Observation -> action.
        env: An env with evaluation rules.
        episodes: Laps to drive.
        seed: Seed of the first reset (later resets continue its random stream).
        step: Training step recorded with the result.
    """
    out = []
    world = cast(Any, env.unwrapped).world
    first = float(world.config.start.start_fraction * world.track.length)
    length = float(world.track.length)
    for k in range(episodes):
        options = None if k == 0 else {"start_s": first + k * length / episodes}
        obs, info = env.reset(seed=seed if k == 0 else None, options=options)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(predict(obs))
            total += float(reward)
            done = terminated or truncated
        out.append(
            EvalEpisode(
                progress=float(info["progress"]),
                status=str(info["status"]),
                lap_time=info.get("lap_time"),
                reward=total,
                steps=int(info["steps"]),
                info=info,
            )
        )
    return EvalSummary(step=step, episodes=tuple(out))
