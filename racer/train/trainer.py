"""``train()``: one training run from a :class:`TrainConfig` to a model folder.

A run stops at its time or step budget, whichever comes first, or on Ctrl-C / SIGTERM; in every
case it saves a resumable ``model.zip`` (weights, optimiser state and step count) and its
counters, so ``train(config, resume=True)`` continues where it stopped.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import torch
from rich.console import Console
from stable_baselines3.common import logger as sb3_logger
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure

from racer.train.algorithms import build_model, load_model
from racer.train.callbacks import (
    BudgetCallback,
    PeriodicCallback,
    RolloutPrecisionCallback,
    RolloutThreadsCallback,
    StopRequest,
)
from racer.train.clone import load_clone_weights
from racer.train.config import TrainConfig
from racer.train.envs import make_eval_env, make_vec_env, rollout_threads, usable_cores
from racer.train.evaluation import EvalSummary
from racer.train.memory import keep_freed_memory
from racer.train.metadata import write_metadata
from racer.train.networks import set_rollout_bf16
from racer.train.progress import ProgressCallback, ProgressView, StepCounter, summary_table
from racer.train.rewardfile import copy_reward, training_reward
from racer.train.run import (
    BEST_FILE,
    BEST_MODEL_FILE,
    CONFIG_FILE,
    LOG_DIR,
    METRICS_FILE,
    MODEL_FILE,
    RunError,
    RunState,
)
from racer.train.steplog import LiveStats, MetricsLog, StepLogCallback

UNLIMITED_STEPS = 10**12
EARLY_STOP = "early"
"""``stopped_by`` of a run that its ``on_evaluation`` hook stopped (a pruned tuning trial)."""


@dataclass(frozen=True)
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: The run folder.
        model_path: The latest model (``model.zip``).
        best_model_path: ``best_model.zip`` if an evaluation chose one.
        steps: Env steps taken (all sessions).
        episodes: Training episodes finished (all sessions).
        iterations: Policy-update iterations (simtrace files).
        elapsed_s: Training wall-clock seconds (all sessions).
        session_steps_per_s: Env steps per second in this session.
        stopped_by: ``time``, ``steps``, ``signal``, or ``early`` (the ``on_evaluation`` hook
            asked to stop).
        mean_progress: Mean progress (%) of the last training episodes.
        completion_rate: Lap completion rate of the last training episodes.
    """

    run_dir: Path
    model_path: Path
    best_model_path: Path | None
    steps: int
    episodes: int
    iterations: int
    elapsed_s: float
    session_steps_per_s: float
    stopped_by: str
    mean_progress: float
    completion_rate: float


def train(
    config: TrainConfig,
    models_dir: Path = Path("models"),
    *,
    console: Console | None = None,
    resume: bool = False,
    force: bool = False,
    stop: StopRequest | None = None,
    on_evaluation: Callable[[EvalSummary], bool] | None = None,
) -> TrainResult:
    """Train a model as ``config`` says, into ``models_dir/NAME/``.

    Args:
        config: The run. With ``resume``, ``minutes`` and ``max_steps`` are the run's total
            budgets over all sessions.
        models_dir: Folder of run folders.
        console: Where to draw live progress and the summary; None trains quietly.
        resume: Continue the stopped run ``config.name`` from its ``model.zip``.
        force: Replace an existing run folder of that name.
        stop: A stop request to share (tests and embedding code can stop a run with it).
        on_evaluation: Called after each periodic evaluation (and the final one) with its
            summary; returning True stops the run at the next env step, saved as usual, with
            ``stopped_by="early"`` and no final evaluation (``racer tune`` prunes trials so).

    Raises:
        RunError: The run folder exists (without ``resume``/``force``), is missing (with
            ``resume``), or has no budget left.
        ConfigError: A cloned model's action space or sensors do not fit ``config``.
    """
    run_dir = models_dir / config.name
    _check_folder(run_dir, resume=resume, force=force)
    state = RunState.load(run_dir) if resume else RunState()
    budget_s = config.minutes * 60.0 - state.elapsed_s
    steps_left = None if config.max_steps is None else config.max_steps - state.steps
    if budget_s <= 0 or (steps_left is not None and steps_left <= 0):
        raise RunError(
            f"run {config.name!r} has used its budget ({state.elapsed_s / 60:.1f} min, "
            f"{state.steps} steps); give more minutes or steps to continue it"
        )
    reward = training_reward(config, run_dir, resume=resume)
    torch.set_num_threads(usable_cores())
    keep_freed_memory()
    venv = make_vec_env(config, str(reward), kind=config.vec_env)
    eval_env = make_eval_env(config, str(reward))
    try:
        if not resume:
            _new_folder(run_dir, force=force)
        try:
            model = _model(config, venv, run_dir, models_dir, resume)
        except Exception:
            if not resume:  # nothing trained: leave no half-made run behind
                shutil.rmtree(run_dir, ignore_errors=True)
            raise
        if not resume:
            copy_reward(reward, run_dir)
        config.save(run_dir / CONFIG_FILE)
        write_metadata(config, run_dir)
        hooks = _Hooks(console, stop or StopRequest(), on_evaluation)
        return _learn(config, model, run_dir, state, budget_s, steps_left, eval_env, hooks)
    finally:
        venv.close()
        eval_env.close()


def _check_folder(run_dir: Path, *, resume: bool, force: bool) -> None:
    if resume and not (run_dir / MODEL_FILE).exists():
        raise RunError(f"cannot resume {run_dir}: it has no {MODEL_FILE}")
    if not resume and run_dir.exists() and not force:
        raise RunError(
            f"run folder {run_dir} exists; use --resume to continue it or --force to replace it"
        )


def _new_folder(run_dir: Path, *, force: bool) -> None:
    if run_dir.exists() and force:
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)


def _model(
    config: TrainConfig, venv: Any, run_dir: Path, models_dir: Path, resume: bool
) -> BaseAlgorithm:
    if resume:
        model = load_model(run_dir / MODEL_FILE, config, venv)
    else:
        model = build_model(config, venv)
        if config.clone_from:
            load_clone_weights(model, config.clone_from, models_dir)
    formats = ["csv", "json"]
    if sb3_logger.SummaryWriter is not None:  # SB3 found TensorBoard when it was imported
        formats.append("tensorboard")
    model.set_logger(configure(str(run_dir / LOG_DIR), formats))
    return model


@dataclass(frozen=True)
class _Hooks:
    """How a run talks to its caller: the display, the stop request, the evaluation hook."""

    console: Console | None
    stop: StopRequest
    on_evaluation: Callable[[EvalSummary], bool] | None

    def evaluated(self, summary: EvalSummary) -> None:
        """Pass an evaluation to the hook; stop the run early if it asks to."""
        stop = self.on_evaluation is not None and self.on_evaluation(summary)
        if stop and not self.stop.requested:  # a Ctrl-C already under way keeps its reason
            self.stop.request(EARLY_STOP)


def _learn(
    config: TrainConfig,
    model: BaseAlgorithm,
    run_dir: Path,
    state: RunState,
    budget_s: float,
    steps_left: int | None,
    eval_env: Any,
    hooks: _Hooks,
) -> TrainResult:
    console, stop = hooks.console, hooks.stop
    stats = LiveStats()
    metrics = MetricsLog(run_dir / METRICS_FILE)
    view = ProgressView(config.name, state, stats, config.minutes * 60.0, config.max_steps)
    start = time.monotonic()

    def prepare_save() -> None:
        model.racer_config = config.to_dict()  # type: ignore[attr-defined]

    budget = BudgetCallback(start + budget_s, config.max_steps, stop)
    periodic = PeriodicCallback(
        run_dir,
        eval_env,
        eval_every_s=config.eval_every_minutes * 60.0,
        checkpoint_every_s=config.checkpoint_every_minutes * 60.0,
        episodes=config.eval_episodes,
        seed=config.seed,
        stats=stats,
        metrics=metrics,
        prepare_save=prepare_save,
        episode=lambda: state.episodes,
        on_evaluation=hooks.evaluated,
    )
    display: BaseCallback = StepCounter(view)
    if console is not None:
        display = ProgressCallback(view, console)
    step_log = StepLogCallback(run_dir, state, stats, metrics)
    rollout = [RolloutPrecisionCallback(), RolloutThreadsCallback(rollout_threads())]
    callbacks = CallbackList([*rollout, step_log, budget, periodic, display])
    stopped_by, rate = "error", 0.0
    try:
        with _stop_on_signals(stop):
            model.learn(
                total_timesteps=UNLIMITED_STEPS if steps_left is None else steps_left,
                callback=callbacks,
                reset_num_timesteps=False,
            )
        stopped_by = budget.stopped_by or "steps"
    except KeyboardInterrupt:  # a second Ctrl-C during an update: still save
        stopped_by = "signal"
    finally:
        if isinstance(display, ProgressCallback):
            display.stop()
        set_rollout_bf16(model.policy, False)
        session_s = time.monotonic() - start
        rate = (model.num_timesteps - state.steps) / max(session_s, 1e-9)
        state.steps = model.num_timesteps
        state.elapsed_s += session_s
        state.stopped_by = stopped_by
        prepare_save()
        model.save(run_dir / MODEL_FILE)
        state.save(run_dir)
        metrics.save()
    if stopped_by not in ("signal", EARLY_STOP) and periodic.eval_env is not None:
        periodic.evaluate()  # so that every finished run has a best model
    view.steps = model.num_timesteps
    result = _result(run_dir, state, stats, stopped_by, rate)
    if console is not None:
        console.print(summary_table(view, {"stopped by": stopped_by, "model": result.model_path}))
    return result


def _result(
    run_dir: Path, state: RunState, stats: LiveStats, stopped_by: str, rate: float
) -> TrainResult:
    best = run_dir / BEST_MODEL_FILE
    return TrainResult(
        run_dir=run_dir,
        model_path=run_dir / MODEL_FILE,
        best_model_path=best if best.exists() and (run_dir / BEST_FILE).exists() else None,
        steps=state.steps,
        episodes=state.episodes,
        iterations=state.iterations,
        elapsed_s=state.elapsed_s,
        session_steps_per_s=rate,
        stopped_by=stopped_by,
        mean_progress=stats.mean_progress,
        completion_rate=stats.completion_rate,
    )


@contextlib.contextmanager
def _stop_on_signals(stop: StopRequest) -> Iterator[None]:
    """SIGINT/SIGTERM ask the run to stop and save; a second SIGINT interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.request("signal")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
