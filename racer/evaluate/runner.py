"""Run an evaluation: trials under DeepRacer's race rules, logs, metrics, pictures and a video.

:func:`evaluate` drives a policy for ``config.trials`` fresh episodes from the start line and
writes, into ``out_dir``:

* ``evaluation-simtrace/0-iteration.csv`` — DeepRacer's step log, one ``prepare`` row per
  trial then one row per step; ``episode`` is the trial number from 0;
* ``metrics.json`` — DeepRacer's evaluation metrics plus racer's summary
  (see :mod:`racer.evaluate.report`);
* ``laps.png`` — every trial's path on the track, coloured by speed;
* ``video.mp4`` with ``video=True`` — camera beside a top-down view
  (see :mod:`racer.evaluate.video`); for a mono camera model also ``camera.avi`` (or a
  ``camera/`` folder of PNGs), every image the policy decided on, lossless, for
  ``racer drive``: frame *i* pairs with the *i*-th simtrace row that is not ``prepare``.

Everything but the simtrace's ``wall_clock`` column is the same for the same policy and seed.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from racer.env.racing_env import RacingEnv, RewardFn
from racer.evaluate.config import EvalConfig, eval_env_config
from racer.evaluate.policies import EnvAware, Policy
from racer.evaluate.report import EvalReport, TrialResult, TrialTrace
from racer.evaluate.video import EvalVideo, VideoFrame
from racer.logs.simtrace import SimtraceWriter, simtrace_row
from racer.sim.actions import DiscreteActionSpace
from racer.sim.track import Track
from racer.train.config import TrainConfig

SIMTRACE_FILE = "evaluation-simtrace/0-iteration.csv"
METRICS_FILE = "metrics.json"
LAPS_FILE = "laps.png"
VIDEO_FILE = "video.mp4"

TrialCallback = Callable[[TrialResult], None]


def evaluate(
    policy: Policy,
    config: EvalConfig,
    out_dir: str | Path,
    *,
    video: bool = False,
    model_config: TrainConfig | None = None,
    model_name: str | None = None,
    reward_function: RewardFn | None = None,
    on_trial: TrialCallback | None = None,
) -> EvalReport:
    """Race a policy under DeepRacer's evaluation rules and write the results.

    Args:
        policy: The driver; :class:`~racer.evaluate.policies.EnvAware` policies are attached
            to the environment first.
        config: Track, race type, trials, penalties, laps, time cap and seed.
        out_dir: Folder for the files (created; earlier files of the same names are replaced).
        video: Also write ``video.mp4``.
        model_config: The model's training configuration (sensors, action space, reward);
            defaults to ``policy.config`` when that is a :class:`TrainConfig`, else the
            defaults.
        model_name: Shown in the summary, the picture and the video.
        reward_function: Reward for the simtrace's ``reward`` column instead of the model's
            reward file (a model whose reward file cannot be loaded logs 0).
        on_trial: Called with each trial's result as soon as it ends.

    Returns:
        The report; ``report.files`` lists the files written.
    """
    model = _model_config(policy, model_config)
    env_config = eval_env_config(model, config)
    reward = reward_function or _reward_or_zero(env_config.reward_function)
    env = RacingEnv(env_config, reward_function=reward)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "simtrace": out / SIMTRACE_FILE,
        "metrics": out / METRICS_FILE,
        "laps": out / LAPS_FILE,
    }
    if video:
        files["video"] = out / VIDEO_FILE
    files["simtrace"].unlink(missing_ok=True)
    title = _title(model_name, env, config)
    results: list[TrialResult] = []
    try:
        if isinstance(policy, EnvAware):
            policy.attach(env)
        recorder = EvalVideo(files["video"], env, title) if video else None
        if recorder is not None and recorder.camera_path is not None:
            files["camera"] = recorder.camera_path
        with SimtraceWriter(files["simtrace"]) as writer:
            clock = 0.0
            for k in range(config.trials):
                run = _TrialRun(env, policy, config, writer, recorder, k, clock)
                result = run.play()
                results.append(result)
                clock += result.time
                if on_trial is not None:
                    on_trial(result)
        if recorder is not None:
            recorder.close()
    finally:
        env.close()
    report = EvalReport(
        config=config,
        track=env.track.display_name,
        track_length=env.track.length,
        model=model_name,
        trials=tuple(results),
        out_dir=out,
        files=files,
        optimal_lap_time=_optimal_lap_time(env.track),
    )
    from racer.viz.eval_plots import plot_trials

    plot_trials(env.track, report, files["laps"], title=title)
    report.write_metrics(files["metrics"])
    return report


def _model_config(policy: Policy, given: TrainConfig | None) -> TrainConfig:
    if given is not None:
        return given
    attached = getattr(policy, "config", None)
    return attached if isinstance(attached, TrainConfig) else TrainConfig()


def _reward_or_zero(spec: str) -> RewardFn:
    """The model's reward function, or zero when its file is gone (evaluation does not need it)."""
    from racer.rewards.library import UnknownExampleError, example_path
    from racer.rewards.loader import RewardFunctionError, load_reward_function

    path = Path(spec)
    try:
        if path.suffix != ".py" or not path.exists():
            path = example_path(spec)
        return load_reward_function(path)
    except (RewardFunctionError, UnknownExampleError, FileNotFoundError):
        return _zero_reward


def _zero_reward(params: dict[str, Any], step: int) -> float:
    return 0.0


def _title(model_name: str | None, env: RacingEnv, config: EvalConfig) -> str:
    race = config.race_type.replace("_", " ")
    parts = [model_name] if model_name else []
    return " · ".join([*parts, env.track.display_name, race])


@dataclass
class _TrialRun:
    """One trial: reset at the start line, step until the trial ends, log every step."""

    env: RacingEnv
    policy: Policy
    config: EvalConfig
    writer: SimtraceWriter
    recorder: EvalVideo | None
    index: int
    clock: float
    positions: list[tuple[float, float]] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)
    events: list[tuple[float, float, str]] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    reward: float = 0.0
    penalty: float = 0.0

    def play(self) -> TrialResult:
        """Run the trial to its end."""
        env, cfg = self.env, self.config
        obs, info = env.reset(seed=cfg.seed + self.index, options={"start_s": 0.0})
        objects = env.world.objects_array.copy()
        self._log(info, 0, 0.0, done=False)
        self._frame(obs, info, event=None)
        while True:
            if self.recorder is not None:
                self.recorder.decision(obs)
            action = self.policy.predict(obs)
            before = info
            obs, reward, terminated, truncated, info = env.step(action)
            timed_out = not terminated and info["sim_time"] >= cfg.max_time - 1e-9
            if timed_out:  # the clock stops at the cap, even in the middle of a penalty
                info = {
                    **info,
                    "status": "time_up",
                    "sim_time": min(info["sim_time"], cfg.max_time),
                }
            done = terminated or truncated or timed_out
            self.reward += float(reward)
            self._log(info, action, float(reward), done=done)
            event = self._track_event(before, info)
            self._frame(obs, info, event)
            if done:
                break
        if self.recorder is not None:
            self.recorder.end_trial(info)
        lap_time = info["lap_time"] if info["status"] == "lap_complete" else None
        elapsed = float(info["sim_time"])
        return TrialResult(
            trial=self.index + 1,
            status=str(info["status"]),
            time=elapsed,
            lap_time=None if lap_time is None else float(lap_time),
            lap_splits=tuple(self.splits),
            steps=int(info["steps"]),
            progress=float(info["progress"]),
            off_track_count=int(info["off_track_count"]),
            crash_count=int(info["crash_count"]),
            penalty_time=self.penalty,
            reward=self.reward,
            start_time=self.clock,
            trace=TrialTrace(
                positions=np.asarray(self.positions, dtype=np.float64),
                speeds=np.asarray(self.speeds, dtype=np.float64),
                events=tuple(self.events),
                objects=objects,
            ),
        )

    def _log(self, info: dict[str, Any], action: Any, reward: float, *, done: bool) -> None:
        """Write the simtrace row and remember the path."""
        if not isinstance(self.env.config.action_space, DiscreteActionSpace):
            # DeepRacer logs a continuous action as the commanded [steer speed].
            action = (info["steering_angle"], info["speed"])
        self.writer.write(simtrace_row(self.index, info, action, reward, done, time.time()))
        car = self.env.world.record
        self.positions.append((float(info["x"]), float(info["y"])))
        self.speeds.append(0.0 if car is None else float(car.car.speed))

    def _track_event(self, before: dict[str, Any], info: dict[str, Any]) -> str | None:
        """Note penalties and completed laps; return ``off_track``/``crashed`` on a penalty."""
        laps = self.config.laps
        done_laps = min(laps, math.floor(info["progress"] * laps / 100.0 + 1e-9))
        while len(self.splits) < done_laps:
            self.splits.append(float(info["sim_time"]) - sum(self.splits))
        pause = float(info["pause_duration"])
        if pause <= 0.0:
            return None
        self.penalty += pause
        kind = "crashed" if info["crash_count"] > before["crash_count"] else "off_track"
        x, y = self.positions[-2] if len(self.positions) > 1 else self.positions[-1]
        self.events.append((x, y, kind))
        return kind

    def _frame(self, obs: Any, info: dict[str, Any], event: str | None) -> None:
        if self.recorder is None:
            return
        self.recorder.add(
            VideoFrame(
                obs=obs,
                info=info,
                trial=self.index + 1,
                trials=self.config.trials,
                positions=self.positions,
                speeds=self.speeds,
                event=event,
            )
        )


@functools.lru_cache(maxsize=16)  # a second or two per track; robustness runs race it often
def _optimal_lap_time(track: Track) -> float | None:
    """The track's optimal lap time (the yardstick), or None where it cannot be computed."""
    from racer.sim.racing_line import optimal_lap

    if not track.closed:
        return None
    try:
        return optimal_lap(track).lap_time
    except ValueError:  # too narrow for the planner's margin
        return None
