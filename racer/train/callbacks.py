"""SB3 callbacks of a training run: budgets and stop requests, checkpoints, best-model choice.

All timing is wall-clock (``time.monotonic``), as DeepRacer's training budget was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.callbacks import BaseCallback

from racer.train.evaluation import EvalSummary, run_episodes, score
from racer.train.networks import exact_inference, set_rollout_bf16
from racer.train.run import BEST_FILE, BEST_MODEL_FILE, CHECKPOINT_DIR
from racer.train.steplog import LiveStats, MetricsLog

KEEP_CHECKPOINTS = 3
"""Periodic checkpoints kept; older ones are deleted."""


@dataclass
class StopRequest:
    """Set by a signal handler (or a test) to stop training at the next env step."""

    requested: bool = False
    reason: str = ""

    def request(self, reason: str = "signal") -> None:
        """Ask the run to stop and save."""
        self.requested = True
        self.reason = reason


class BudgetCallback(BaseCallback):
    """Stops at the time budget, the step budget or a stop request, whichever comes first.

    Args:
        deadline: ``time.monotonic()`` value at which the time budget is spent.
        max_steps: Total env steps allowed (the model's ``num_timesteps``), or None.
        stop: The stop request shared with the signal handlers.
    """

    def __init__(self, deadline: float, max_steps: int | None, stop: StopRequest) -> None:
        super().__init__()
        self.deadline = deadline
        self.max_steps = max_steps
        self.stop = stop
        self.stopped_by = ""

    def _on_step(self) -> bool:
        if self.stop.requested:
            self.stopped_by = self.stop.reason or "signal"
        elif time.monotonic() >= self.deadline:
            self.stopped_by = "time"
        elif self.max_steps is not None and self.num_timesteps >= self.max_steps:
            self.stopped_by = "steps"
        return not self.stopped_by


class RolloutPrecisionCallback(BaseCallback):
    """Runs the policy's CNN in bfloat16 while rollouts are collected (bf16 CPUs only).

    The copy is refreshed from the float32 weights at each rollout's start, after the update;
    see :func:`racer.train.networks.set_rollout_bf16`.
    """

    def _on_rollout_start(self) -> None:
        set_rollout_bf16(self.model.policy, True)

    def _on_rollout_end(self) -> None:
        set_rollout_bf16(self.model.policy, False)

    def _on_training_end(self) -> None:
        set_rollout_bf16(self.model.policy, False)

    def _on_step(self) -> bool:
        return True


class RolloutThreadsCallback(BaseCallback):
    """Runs the policy on ``threads`` threads while rollouts are collected.

    The update that follows gets back the thread count that was set when the rollout began
    (the run's :func:`~racer.train.envs.usable_cores`); see
    :func:`~racer.train.envs.rollout_threads` for why rollouts want fewer.

    Args:
        threads: PyTorch threads during rollouts (the periodic evaluation laps included).
    """

    def __init__(self, threads: int) -> None:
        super().__init__()
        self.threads = threads
        self._update_threads: int | None = None

    def _on_rollout_start(self) -> None:
        self._update_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)

    def _on_rollout_end(self) -> None:
        self._restore()

    def _on_training_end(self) -> None:
        self._restore()

    def _restore(self) -> None:
        if self._update_threads is not None:
            torch.set_num_threads(self._update_threads)
            self._update_threads = None

    def _on_step(self) -> bool:
        return True


class PeriodicCallback(BaseCallback):
    """Checkpoints and evaluation laps every few wall-clock minutes.

    Evaluation drives ``episodes`` laps in a separate env with DeepRacer's evaluation rules; a
    better result (completion rate, then progress, then lap time) replaces ``best_model.zip``
    and ``best.json``.

    Args:
        run_dir: The run folder.
        eval_env: Env with evaluation rules (None: no evaluation).
        eval_every_s: Seconds between evaluations.
        checkpoint_every_s: Seconds between checkpoints.
        episodes: Laps per evaluation.
        seed: Seed of each evaluation's first reset.
        stats: Live numbers (the latest evaluation is shown).
        metrics: The metrics file (evaluation laps are logged with phase ``evaluation``).
        prepare_save: Called before each save (attaches the run's config to the model).
        episode: The number of training episodes so far (recorded with evaluation laps).
        on_evaluation: Called with each evaluation's summary, after ``best.json`` is written.
    """

    def __init__(
        self,
        run_dir: Path,
        eval_env: gym.Env[Any, Any] | None,
        *,
        eval_every_s: float,
        checkpoint_every_s: float,
        episodes: int,
        seed: int,
        stats: LiveStats,
        metrics: MetricsLog,
        prepare_save: Callable[[], None],
        episode: Callable[[], int],
        on_evaluation: Callable[[EvalSummary], None] | None = None,
    ) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.eval_env = eval_env
        self.eval_every_s = eval_every_s
        self.checkpoint_every_s = checkpoint_every_s
        self.episodes = episodes
        self.seed = seed
        self.stats = stats
        self.metrics = metrics
        self.prepare_save = prepare_save
        self.episode = episode
        self.on_evaluation = on_evaluation
        self.best = _load_best(run_dir)
        now = time.monotonic()
        self._next_eval = now + eval_every_s
        self._next_checkpoint = now + checkpoint_every_s

    def _on_step(self) -> bool:
        now = time.monotonic()
        if now >= self._next_checkpoint:
            self.checkpoint()
            self._next_checkpoint = time.monotonic() + self.checkpoint_every_s
        if self.eval_env is not None and now >= self._next_eval:
            self.evaluate()
            self._next_eval = time.monotonic() + self.eval_every_s
        return True

    def checkpoint(self) -> Path:
        """Save ``checkpoints/step_<n>.zip`` and delete all but the last few."""
        folder = self.run_dir / CHECKPOINT_DIR
        folder.mkdir(exist_ok=True)
        path = folder / f"step_{self.num_timesteps}.zip"
        self.prepare_save()
        self.model.save(path)
        old = sorted(folder.glob("step_*.zip"), key=lambda p: int(p.stem.split("_")[1]))
        for stale in old[:-KEEP_CHECKPOINTS]:
            stale.unlink()
        return path

    def evaluate(self) -> EvalSummary | None:
        """Drive the evaluation laps; keep the model if it is the best so far."""
        if self.eval_env is None:
            return None
        model = self.model

        def predict(obs: Any) -> Any:
            return model.predict(obs, deterministic=True)[0]

        with exact_inference(model.policy):
            summary = run_episodes(
                predict, self.eval_env, self.episodes, self.seed, self.num_timesteps
            )
        for ep in summary.episodes:
            self.metrics.add("evaluation", self.episode(), ep.reward, ep.info, _now_ms())
        self.metrics.save()
        self.stats.last_eval = summary.describe()
        if self.best is None or summary.key() > self.best:
            self.best = summary.key()
            self.prepare_save()
            self.model.save(self.run_dir / BEST_MODEL_FILE)
            (self.run_dir / BEST_FILE).write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
        if self.on_evaluation is not None:
            self.on_evaluation(summary)
        return summary


def _now_ms() -> int:
    return int(time.time() * 1000)


def _load_best(run_dir: Path) -> tuple[float, float, float] | None:
    """The score of an earlier session's best model (on resume)."""
    path = run_dir / BEST_FILE
    return score(json.loads(path.read_text())) if path.exists() else None
