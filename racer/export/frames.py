"""Observations for the parity check, and the trained policy's own outputs on them.

Frames come through the physical car's preprocessing: the simulator's camera in its
``real_car`` mode (640x480 colour, ``cv2.resize`` bilinear to 160x120, ``BGR2GRAY``). The car
drives the model's own policy on the model's track, with a seeded share of random actions so
that the frames cover more than the racing line; episodes that end (off track, reversed) start
again somewhere else on the lap.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

RANDOM_ACTION_SHARE = 0.3
"""Share of steps that take a random action instead of the policy's."""
BATCH = 250
"""Observations per forward pass when computing the reference outputs."""


def collect_observations(policy: Any, frames: int, seed: int = 0) -> NDArray[Any]:
    """Drive the model on its track and record ``frames`` observations.

    Args:
        policy: A :class:`racer.train.policy.LoadedPolicy`.
        frames: Observations to record.
        seed: Seeds the start places and the random actions.

    Returns:
        ``(frames, C, 120, 160)`` uint8 for a camera model, ``(frames, D)`` float32 for a
        vector sensor.
    """
    from racer.env.racing_env import RacingEnv

    env = RacingEnv(_env_config(policy), reward_function=_no_reward)
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    out: list[NDArray[Any]] = []
    try:
        obs, _ = env.reset(seed=seed)
        while len(out) < frames:
            out.append(np.array(obs, copy=True))
            if rng.random() < RANDOM_ACTION_SHARE:
                action = env.action_space.sample()
            else:
                action = policy.predict(obs)
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                obs, _ = env.reset()
    finally:
        env.close()
    return np.stack(out)


def _env_config(policy: Any) -> Any:
    """The model's evaluation env, real-car camera, random restarts after each episode."""
    config = policy.config.env_config(evaluation=True)
    sensors = config.sensor_config
    sensors = dataclasses.replace(
        sensors, camera=dataclasses.replace(sensors.camera, mode="real_car")
    )
    world = config.world
    world = dataclasses.replace(
        world,
        rules=dataclasses.replace(world.rules, mode="training"),
        start=dataclasses.replace(world.start, random_start=True, round_robin=False),
    )
    return dataclasses.replace(config, sensor_config=sensors, world=world)


def _no_reward(params: dict[str, Any], step: int) -> float:
    """The check needs no reward: the user's reward file is not even loaded."""
    return 0.0


def reference_outputs(policy: Any, observations: NDArray[Any]) -> NDArray[np.float32]:
    """What the trained PyTorch policy outputs for each observation.

    Discrete PPO: the action probabilities of its distribution. Continuous PPO: the mean,
    clamped to [-1, 1]. SAC: tanh of the actor's mean (its deterministic action).

    Returns:
        ``(N, outputs)`` float32.
    """
    import torch

    sb3 = policy.model.policy
    sb3.set_training_mode(False)
    parts = []
    with torch.no_grad():
        for start in range(0, len(observations), BATCH):
            obs = torch.as_tensor(observations[start : start + BATCH])
            if policy.config.algorithm == "sac":
                out = sb3.actor(obs, deterministic=True)
            else:
                dist = sb3.get_distribution(obs).distribution
                out = dist.probs if policy.discrete else torch.clamp(dist.mean, -1.0, 1.0)
            parts.append(out.float().cpu().numpy())
    return np.concatenate(parts).astype(np.float32)
