"""Shared settings of the tests that train for real."""

from __future__ import annotations

from typing import Any

SMALL: dict[str, Any] = {
    "sensors": ("STATE",),
    "batch_size": 64,
    "num_episodes_between_training": 2,
    "max_episode_steps": 100,
    "eval_episodes": 1,
    "n_envs": 2,
}
"""A state-vector run that trains a few hundred steps in seconds (add max_steps or minutes)."""
