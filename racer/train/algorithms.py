"""DeepRacer's training settings mapped onto stable-baselines3's PPO and SAC.

See ``docs/training.md`` for the table of settings and what SB3 cannot honour exactly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.vec_env import VecEnv

from racer.sim.track_registry import get_track
from racer.train.config import TrainConfig
from racer.train.networks import policy_kwargs

CLIP_RANGE = 0.2
"""PPO clip range, fixed in DeepRacer."""
GAE_LAMBDA = 0.95
"""GAE lambda, fixed in DeepRacer."""
EPISODE_LAP_FRACTION = 0.5
"""Expected training episode length as a fraction of a lap (early episodes end off track)."""
SAC_BUFFER_IMAGES = 50_000
"""SAC replay buffer size for camera observations (19 KB each); vectors get 10x more."""

ALGORITHM_CLASSES: dict[str, type[BaseAlgorithm]] = {"clipped_ppo": PPO, "sac": SAC}


def expected_episode_steps(config: TrainConfig) -> int:
    """A guess at a training episode's length in steps: half a lap at the mean speed."""
    space = config.action_space
    actions = getattr(space, "actions", None)
    if actions:
        mean_speed = sum(a.speed for a in actions) / len(actions)
    else:
        mean_speed = (space.speed_low + space.speed_high) / 2  # type: ignore[union-attr]
    lap_steps = 15.0 * get_track(config.track).length / mean_speed
    return int(min(config.max_episode_steps, max(20.0, EPISODE_LAP_FRACTION * lap_steps)))


def rollout_steps(config: TrainConfig, n_envs: int) -> int:
    """PPO's ``n_steps`` per env for DeepRacer's ``num_episodes_between_training``.

    SB3 collects a fixed number of steps per update, DeepRacer a number of episodes. We
    collect about ``episodes x expected episode length`` steps in all, rounded up so that the
    total (``n_steps x n_envs``) is a multiple of ``batch_size`` (no ragged minibatch).
    """
    target = config.num_episodes_between_training * expected_episode_steps(config)
    total = max(config.batch_size, target)
    unit = config.batch_size // math.gcd(config.batch_size, n_envs)  # n_steps granularity
    per_env = math.ceil(total / n_envs)
    return int(math.ceil(per_env / unit) * unit)


def _policy_name(env: VecEnv) -> str:
    space = env.observation_space
    if hasattr(space, "spaces"):
        return "MultiInputPolicy"
    return "CnnPolicy" if is_image_space(space) else "MlpPolicy"


def _ppo(config: TrainConfig, env: VecEnv, common: dict[str, Any]) -> BaseAlgorithm:
    if config.loss_type == "huber":
        warnings.warn(
            "loss_type 'huber' cannot be honoured: stable-baselines3's PPO uses a mean squared "
            "error value loss; training with mean squared error",
            stacklevel=3,
        )
    kwargs = dict(common["policy_kwargs"], share_features_extractor=True)
    return PPO(
        _policy_name(env),
        env,
        learning_rate=config.lr,
        n_steps=rollout_steps(config, env.num_envs),
        batch_size=config.batch_size,
        n_epochs=config.num_epochs,
        gamma=config.discount_factor,
        gae_lambda=GAE_LAMBDA,
        clip_range=CLIP_RANGE,
        ent_coef=config.beta_entropy,
        policy_kwargs=kwargs,
        seed=config.seed,
        device="cpu",
        verbose=0,
    )


def _sac(config: TrainConfig, env: VecEnv, common: dict[str, Any]) -> BaseAlgorithm:
    kwargs = dict(common["policy_kwargs"])
    heads = kwargs.pop("net_arch")["pi"] or [256]
    kwargs["net_arch"] = {"pi": heads, "qf": heads}
    image = _policy_name(env) != "MlpPolicy"
    n_steps = rollout_steps(config, env.num_envs)
    # Each collected sample is reused num_epochs times on average, as in PPO.
    gradient_steps = math.ceil(n_steps * env.num_envs * config.num_epochs / config.batch_size)
    return SAC(
        _policy_name(env),
        env,
        learning_rate=config.lr,
        buffer_size=SAC_BUFFER_IMAGES if image else 10 * SAC_BUFFER_IMAGES,
        batch_size=config.batch_size,
        gamma=config.discount_factor,
        ent_coef=config.sac_alpha,
        train_freq=(n_steps, "step"),
        gradient_steps=gradient_steps,
        policy_kwargs=kwargs,
        seed=config.seed,
        device="cpu",
        verbose=0,
    )


BUILDERS: dict[str, Callable[[TrainConfig, VecEnv, dict[str, Any]], BaseAlgorithm]] = {
    "clipped_ppo": _ppo,
    "sac": _sac,
}


def build_model(config: TrainConfig, env: VecEnv) -> BaseAlgorithm:
    """A fresh SB3 model for the run's algorithm, network and settings."""
    kwargs = policy_kwargs(
        config.network, env.observation_space, config.precision, config.image_pooling
    )
    common = {"policy_kwargs": kwargs}
    return BUILDERS[config.algorithm](config, env, common)


def load_model(path: Path, config: TrainConfig, env: VecEnv | None = None) -> BaseAlgorithm:
    """Load a saved model (weights, optimiser state, step count) for the run's algorithm."""
    cls = ALGORITHM_CLASSES[config.algorithm]
    return cls.load(path, env=env, device="cpu")
