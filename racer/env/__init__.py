"""Gymnasium environments for racer; importing this package registers their ids.

========================== ===================================================
id                         race
========================== ===================================================
``racer/TimeTrial-v0``        one car against the clock
``racer/ObjectAvoidance-v0``  1-6 boxes on the track
``racer/HeadToBot-v0``        1-6 scripted bot cars
========================== ===================================================

Each takes the keyword arguments of :class:`racer.env.racing_env.RacingEnv` (``track``,
``sensors``, ``action_space``, ``reward_function``, ``mode``, ``render_mode``, ``config``...).
"""

from __future__ import annotations

import gymnasium as gym

from racer.env.config import EnvConfig
from racer.env.racing_env import RacingEnv

ENV_IDS = {
    "racer/TimeTrial-v0": "time_trial",
    "racer/ObjectAvoidance-v0": "object_avoidance",
    "racer/HeadToBot-v0": "head_to_bot",
}


def register_envs() -> None:
    """Register racer's environment ids with gymnasium (idempotent)."""
    for env_id, race_type in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="racer.env.racing_env:RacingEnv",
                kwargs={"race_type": race_type},
            )


register_envs()

__all__ = ["ENV_IDS", "EnvConfig", "RacingEnv", "register_envs"]
