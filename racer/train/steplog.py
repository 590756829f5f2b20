"""The training step log: DeepRacer simtrace CSVs, ``training_metrics.json`` and live numbers.

One simtrace file per policy-update iteration (``training-simtrace/<k>-iteration.csv``, a new
file at each SB3 rollout), one row per env step, and a ``prepare`` row opening each episode
(from the reset ``info`` that :class:`racer.train.envs.ResetInfoWrapper` carries into the
episode's first step). Episode numbers count episodes in the order they start, across envs.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from racer.logs.simtrace import SimtraceWriter, simtrace_row
from racer.train.envs import RESET_INFO_KEY
from racer.train.run import SIMTRACE_DIR, RunState

STATUS_LABELS = {
    "lap_complete": "Lap complete",
    "crashed": "Crashed",
    "off_track": "Off track",
    "immobilized": "Immobilized",
    "in_progress": "In progress",
    "reversed": "Reversed",
    "time_up": "Time up",
}
"""DeepRacer's ``episode_status`` labels in its metrics files."""

RECENT_EPISODES = 50
"""Episodes averaged in the live mean progress and lap completion rate."""


@dataclass
class LiveStats:
    """Numbers the progress display shows, updated as episodes end.

    Attributes:
        recent_progress: Progress (%) of the last episodes.
        recent_laps: Whether each of the last episodes completed its lap.
        best_lap: Best training lap time (simulated seconds), if any.
        laps: Laps completed in training.
        last_eval: Summary of the latest periodic evaluation.
    """

    recent_progress: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_EPISODES))
    recent_laps: deque[bool] = field(default_factory=lambda: deque(maxlen=RECENT_EPISODES))
    best_lap: float | None = None
    laps: int = 0
    last_eval: str = "-"
    mean_progress: float = 0.0
    completion_rate: float = 0.0

    def episode_end(self, progress: float, lap_time: float | None) -> None:
        """Record a finished training episode."""
        self.recent_progress.append(progress)
        self.recent_laps.append(lap_time is not None)
        if lap_time is not None:
            self.laps += 1
            self.best_lap = lap_time if self.best_lap is None else min(self.best_lap, lap_time)
        self.mean_progress = float(np.mean(self.recent_progress))
        self.completion_rate = float(np.mean(self.recent_laps))


class MetricsLog:
    """DeepRacer's ``training_metrics.json``: ``{"metrics": [one entry per episode]}``.

    ``start_time``/``metric_time`` are the episode's start and end (Unix ms, wall clock);
    ``elapsed_time_in_milliseconds`` is its simulated duration, as in DeepRacer's newer logs.
    """

    _TAIL = "]}\n"
    """How the file ends: new entries go in just before it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.metrics: list[dict[str, Any]] = []
        if path.exists():
            self.metrics = list(json.loads(path.read_text()).get("metrics", []))
        self.trials = {"training": 0, "evaluation": 0}
        self._saved: int | None = None  # entries in the file as this object last wrote it

    def add(
        self, phase: str, episode: int, reward: float, info: dict[str, Any], start_ms: int
    ) -> None:
        """Append one finished episode."""
        self.trials[phase] += 1
        self.metrics.append(
            {
                "reward_score": int(round(reward)),
                "metric_time": int(time.time() * 1000),
                "start_time": start_ms,
                "elapsed_time_in_milliseconds": int(round(float(info["sim_time"]) * 1000)),
                "episode": episode,
                "trial": self.trials[phase],
                "phase": phase,
                "completion_percentage": int(float(info["progress"])),
                "episode_status": STATUS_LABELS.get(str(info["status"]), str(info["status"])),
            }
        )

    def save(self) -> None:
        """Bring the file up to date.

        The first save writes the whole file; later ones append the new entries in place of
        its closing ``]}``, so saving after every policy update stays cheap in a long run
        (rewriting tens of thousands of episodes each time grew with the run). The bytes are
        those ``json.dumps`` writes for the whole list.
        """
        saved = self._saved
        if saved is None or not self.path.exists():
            self.path.write_text(json.dumps({"metrics": self.metrics}) + "\n")
        elif len(self.metrics) > saved:
            new = ", ".join(json.dumps(m) for m in self.metrics[saved:])
            with self.path.open("r+b") as f:
                f.seek(-len(self._TAIL), 2)
                f.write(((", " if saved else "") + new + self._TAIL).encode())
        self._saved = len(self.metrics)


class StepLogCallback(BaseCallback):
    """Writes the simtrace and the training metrics, and keeps :class:`LiveStats`.

    Args:
        run_dir: The run folder.
        state: The run's counters (episodes and iterations continue across resumes).
        stats: Live numbers for the display.
        metrics: The metrics file, shared with the periodic evaluation.
    """

    def __init__(
        self, run_dir: Path, state: RunState, stats: LiveStats, metrics: MetricsLog
    ) -> None:
        super().__init__()
        self.folder = run_dir / SIMTRACE_DIR
        self.state = state
        self.stats = stats
        self.metrics = metrics
        self._writer: SimtraceWriter | None = None
        self._episode: list[int | None] = []
        self._reward: list[float] = []
        self._start_ms: list[int] = []
        self._continuous = False

    def _on_training_start(self) -> None:
        n = self.training_env.num_envs
        self._episode = [None] * n
        self._reward = [0.0] * n
        self._start_ms = [0] * n
        self._continuous = self.training_env.action_space.shape not in ((), None)

    def _on_rollout_start(self) -> None:
        self._close()
        name = f"{self.state.iterations}-iteration.csv"
        self._writer = SimtraceWriter(self.folder / name)
        self.state.iterations += 1

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        rewards = self.locals["rewards"]
        dones = self.locals["dones"]
        actions = np.asarray(self.locals["actions"])
        for i, info in enumerate(infos):
            self._log(i, info, actions[i], float(rewards[i]), bool(dones[i]))
        return True

    def _log(self, i: int, info: dict[str, Any], action: Any, reward: float, done: bool) -> None:
        writer = self._writer
        assert writer is not None
        reset = info.get(RESET_INFO_KEY)
        cell = [info["steering_angle"], info["speed"]] if self._continuous else int(action)
        current = self._episode[i]
        if reset is not None or current is None:
            current = self.state.episodes_started
            self.state.episodes_started += 1
            self._episode[i], self._reward[i] = current, 0.0
            self._start_ms[i] = int(time.time() * 1000)
            if reset is not None:
                first = [reset["steering_angle"], reset["speed"]] if self._continuous else cell
                writer.write(simtrace_row(current, reset, first, 0.0, False))
        self._reward[i] += reward
        writer.write(simtrace_row(current, info, cell, reward, done))
        if done:
            self.metrics.add("training", current, self._reward[i], info, self._start_ms[i])
            self.stats.episode_end(float(info["progress"]), info.get("lap_time"))
            self.state.episodes += 1
            self._episode[i] = None

    def _on_rollout_end(self) -> None:
        self._close()
        self.metrics.save()

    def _on_training_end(self) -> None:
        self._close()
        self.metrics.save()

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
