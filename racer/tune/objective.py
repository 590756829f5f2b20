"""One trial of a sweep: draw the settings, train once per seed, score, report, maybe prune.

Each training run is an ordinary run folder, ``OUT/trials/<number>-seed<k>/``, that ``racer
evaluate`` and ``racer analyze`` read. After each of its periodic evaluations the run reports
its best score so far to the study as an intermediate value at step ``k * STEP_STRIDE + i``
(seed index *k*, evaluation *i*), so the pruner compares the same seed at the same point of
the budget across trials; a run the pruner stops ends the trial as pruned.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from racer.train.config import ConfigError
from racer.train.evaluation import EvalSummary
from racer.train.trainer import EARLY_STOP, TrainResult, train
from racer.tune.config import TuneConfig
from racer.tune.objectives import OBJECTIVES, Objective
from racer.tune.params import trial_settings

STEP_STRIDE = 1000
"""Intermediate-value steps reserved for each seed of a trial."""

logger = logging.getLogger("racer.tune")


@dataclass
class SeedRun:
    """One training run of a trial: scores its evaluations and reports them to the study.

    Attributes:
        trial: The study's trial.
        objective: The score.
        run_dir: The run folder (the ``reward`` objective reads its training metrics).
        offset: The first intermediate step of this seed.
        evaluations: Evaluations reported so far.
        best_value: The best score so far.
        best: The evaluation that scored it.
    """

    trial: optuna.Trial
    objective: Objective
    run_dir: Path
    offset: int
    evaluations: int = 0
    best_value: float = -math.inf
    best: EvalSummary | None = field(default=None)

    def __call__(self, summary: EvalSummary) -> bool:
        """The trainer's ``on_evaluation`` hook: report; True asks the run to stop (pruned)."""
        value = self.objective.value(summary, self.run_dir)
        if self.best is None or value > self.best_value:
            self.best_value, self.best = value, summary
        self.trial.report(self.best_value, self.offset + self.evaluations)
        self.evaluations += 1
        return self.trial.should_prune()


def run_trial(trial: optuna.Trial, tune: TuneConfig) -> float:
    """Train the trial's configuration once per seed and return its score (larger is better).

    The score is the mean over seeds of each run's best evaluation under ``tune.objective``.
    The trial's user attributes record its run folders, steps, completion rate, mean lap time
    and mean progress (of those best evaluations), also when it is pruned.

    Raises:
        optuna.TrialPruned: The pruner stopped it (during a run, or between seeds).
        KeyboardInterrupt: Ctrl-C / SIGTERM stopped a run (the run is saved; the trial fails).
        ConfigError: The drawn settings do not go together.
    """
    params = {spec.name: spec.suggest(trial) for spec in tune.params}
    settings = trial_settings(tune.params, params)
    drawn = (f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
    logger.info("trial %d: %s", trial.number, " ".join(drawn))
    objective = OBJECTIVES[tune.objective]
    runs: list[tuple[SeedRun, TrainResult]] = []
    for k, seed in enumerate(tune.seeds):
        try:
            config = tune.trial_config(settings, trial.number, seed)
        except ConfigError as exc:
            logger.warning(
                "trial %d failed: its settings do not go together: %s", trial.number, exc
            )
            raise
        run = SeedRun(trial, objective, tune.trials_dir / config.name, k * STEP_STRIDE)
        result = train(config, tune.trials_dir, force=True, on_evaluation=run)
        runs.append((run, result))
        _record(trial, runs)
        logger.info("trial %d, seed %d: %s", trial.number, seed, _describe(run, result))
        if result.stopped_by == "signal":
            logger.warning("trial %d interrupted; it will not count", trial.number)
            raise KeyboardInterrupt
        last = k == len(tune.seeds) - 1
        if result.stopped_by == EARLY_STOP or (not last and trial.should_prune()):
            logger.info("trial %d pruned after %d evaluations", trial.number, run.evaluations)
            raise optuna.TrialPruned(f"trailed the median at evaluation {run.evaluations}")
    value = sum(run.best_value for run, _ in runs) / len(runs)
    logger.info("trial %d: %s %.2f", trial.number, tune.objective, value)
    return value


def _record(trial: optuna.Trial, runs: list[tuple[SeedRun, TrainResult]]) -> None:
    """Store what the runs so far achieved as the trial's user attributes."""
    best = [run.best for run, _ in runs if run.best is not None]
    laps = [b.mean_lap_time for b in best if b.mean_lap_time is not None]
    attrs: dict[str, Any] = {
        "run_dirs": [str(result.run_dir) for _, result in runs],
        "steps": sum(result.steps for _, result in runs),
        "stopped_by": [result.stopped_by for _, result in runs],
        "seed_values": [run.best_value if run.best is not None else None for run, _ in runs],
        "completion_rate": _mean([b.completion_rate for b in best]),
        "mean_progress": _mean([b.mean_progress for b in best]),
        "mean_lap_time": _mean(laps),
    }
    for key, value in attrs.items():
        trial.set_user_attr(key, value)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _describe(run: SeedRun, result: TrainResult) -> str:
    best = run.best.describe() if run.best is not None else "no evaluation"
    stopped = "pruned" if result.stopped_by == EARLY_STOP else f"stopped by {result.stopped_by}"
    return f"{result.steps:,} steps, {stopped}; best {best}"
