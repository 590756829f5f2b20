"""Shared by the test_export* files: tiny training settings and a decisive-policy helper."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

from tensorboard.compat.proto import graph_pb2

from racer.train.config import TrainConfig
from racer.train.policy import LoadedPolicy
from racer.train.trainer import train

SMALL: dict[str, Any] = {
    "batch_size": 32,
    "num_episodes_between_training": 1,
    "max_episode_steps": 20,
    "eval_episodes": 1,
    "n_envs": 1,
    "minutes": 2.0,
    "max_steps": 32,
}
"""A few dozen steps: enough for a saved model with its config and metadata, no more."""


def train_tiny(root: Path, name: str, **settings: Any) -> Path:
    """Train a tiny run ``root/name`` and return its folder."""
    train(TrainConfig(name=name, **{**SMALL, **settings}), root)
    return root / name


def decisive(policy: LoadedPolicy) -> LoadedPolicy:
    """Scale a fresh PPO policy's action layer up so that it prefers actions as trained ones do.

    PPO initialises that layer with gain 0.01: every action nearly equally likely, which would
    make every difference tiny and the checks toothless.
    """
    policy.model.policy.action_net.weight.data *= 50.0
    return policy


def car_graph(path: Path) -> Any:
    """The GraphDef inside a car archive."""
    with tarfile.open(path) as tar:
        member = tar.extractfile("agent/model.pb")
        assert member is not None
        graph = graph_pb2.GraphDef()
        graph.ParseFromString(member.read())
    return graph
