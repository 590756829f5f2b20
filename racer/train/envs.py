"""Training and evaluation environments: the vectorised env, its wrapper and the eval env.

SB3's vectorised envs reset an env as soon as its episode ends and hand back only the new
observation, so the ``prepare`` record of the new episode (the reset's ``info``) would be lost
to the step log. :class:`ResetInfoWrapper` keeps it and attaches it to the next step's ``info``
under ``"reset_info"``, which is exactly where the step log needs it: the first row of the new
episode, written just before that step's row.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from racer.env.config import EnvConfig
from racer.sim.track_registry import get_track
from racer.train.config import ConfigError, TrainConfig
from racer.train.splitvec import SplitVecEnv

RESET_INFO_KEY = "reset_info"


def usable_cores() -> int:
    """Cores one training run may use: ``RACER_TORCH_THREADS``, else every core.

    Several training processes sharing the cores (parallel tests, sweeps) should each take
    one: OpenMP threads or env workers that outnumber the cores wait on each other.
    """
    return _count_from_environment("RACER_TORCH_THREADS", max(1, os.cpu_count() or 1))


def rollout_threads() -> int:
    """Threads the policy runs on while rollouts are collected: ``RACER_ROLLOUT_THREADS``, else 1.

    Never more than :func:`usable_cores`.

    During a rollout the policy sees one batch of ``n_envs`` observations per step, with the
    envs' stepping in between. Between two batches PyTorch's OpenMP threads go to sleep, and
    waking them for each layer of a small batch costs more than sharing its work saves: on a
    2-core machine the pooled camera network's batch of 8 took 3.3-3.6 ms on one thread
    against 5.0-5.3 ms on two, in training (``docs/training.md``). The update, with batches
    of hundreds, keeps :func:`usable_cores` threads. Raise it for large batches of full
    images on a machine with many cores.
    """
    return min(_count_from_environment("RACER_ROLLOUT_THREADS", 1), usable_cores())


def _count_from_environment(name: str, default: int) -> int:
    """A whole number of at least 1 from the environment variable ``name``, else ``default``.

    Raises:
        ConfigError: The variable is set to something that is not a whole number.
    """
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return max(1, int(value))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of threads, got {value!r}") from None


VEC_ENVS: dict[str, Callable[[list[Callable[[], gym.Env[Any, Any]]]], VecEnv]] = {
    "dummy": DummyVecEnv,
    "split": lambda fns: SplitVecEnv(fns, processes=usable_cores()),
    "subproc": lambda fns: SubprocVecEnv(fns, start_method="fork"),
}
"""Vectorised env kinds by name: ``dummy`` steps the envs in turn in this process, ``split``
cuts them into one group per usable core (this process and forked workers; one message per
worker and step), ``subproc`` runs one process per env (one message per env and step)."""


class ResetInfoWrapper(gym.Wrapper[Any, Any, Any, Any]):
    """Carries each reset's ``info`` into the next step's ``info`` (key ``"reset_info"``)."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self._reset_info: dict[str, Any] | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset and remember the ``prepare`` info."""
        obs, info = self.env.reset(**kwargs)
        self._reset_info = dict(info)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step; the first step of an episode carries the reset's info."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self._reset_info is not None:
            info = dict(info)
            info[RESET_INFO_KEY] = self._reset_info
            self._reset_info = None
        return obs, reward, terminated, truncated, info


class _EnvFactory:
    """A picklable env constructor (SubprocVecEnv calls it inside the worker)."""

    def __init__(self, config: EnvConfig, in_worker: bool) -> None:
        self.config = config
        self.in_worker = in_worker

    def __call__(self) -> gym.Env[Any, Any]:
        if self.in_worker and multiprocessing.parent_process() is not None:
            # Ctrl-C (or a SIGTERM to the group) reaches every process; the parent stops and
            # saves cleanly, so workers must not die first.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return ResetInfoWrapper(make_env(self.config))


def env_id(race_type: str) -> str:
    """The registered env id of a race type (``time_trial`` -> ``racer/TimeTrial-v0``)."""
    from racer.env import ENV_IDS

    return next(i for i, kind in ENV_IDS.items() if kind == race_type)


def make_env(config: EnvConfig) -> gym.Env[Any, Any]:
    """A racer env for ``config`` under the id of its race type."""
    race_type = config.world.race.race_type
    return gym.make(f"racer.env:{env_id(race_type)}", config=config)


def training_env_configs(config: TrainConfig, reward: str) -> list[EnvConfig]:
    """One env config per parallel env; round-robin starts are spread evenly over the lap."""
    n = config.resolved_n_envs
    base = config.env_config(reward_function=reward)
    out = []
    for i in range(n):
        start = dataclasses.replace(base.world.start, start_fraction=i / n)
        out.append(dataclasses.replace(base, world=dataclasses.replace(base.world, start=start)))
    return out


def make_vec_env(config: TrainConfig, reward: str, kind: str = "dummy") -> VecEnv:
    """The vectorised training env.

    Args:
        config: The run's configuration.
        reward: The reward file the envs call.
        kind: A key of :data:`VEC_ENVS`.
    """
    subproc = kind == "subproc"  # split workers set their own signals
    fns: list[Callable[[], gym.Env[Any, Any]]] = [
        _EnvFactory(c, in_worker=subproc) for c in training_env_configs(config, reward)
    ]
    return VEC_ENVS[kind](fns)


def eval_step_cap(config: TrainConfig) -> int:
    """Step cap of an evaluation lap: two laps' time at the slowest speed, at most the run's cap.

    Keeps a periodic evaluation of an untrained policy (which in evaluation mode is put back on
    the track after each excursion) from eating the training budget.
    """
    space = config.action_space
    slowest = getattr(space, "speed_low", None)
    if slowest is None:
        slowest = min(a.speed for a in getattr(space, "actions", ()))
    length = get_track(config.track).length
    return max(10, min(config.max_episode_steps, math.ceil(2 * 15 * length / slowest)))


def make_eval_env(config: TrainConfig, reward: str) -> gym.Env[Any, Any]:
    """One env with DeepRacer's evaluation rules, starting at the start line."""
    env_cfg = config.env_config(evaluation=True, reward_function=reward)
    rules = dataclasses.replace(env_cfg.world.rules, max_steps=eval_step_cap(config))
    env_cfg = dataclasses.replace(env_cfg, world=dataclasses.replace(env_cfg.world, rules=rules))
    return make_env(env_cfg)
