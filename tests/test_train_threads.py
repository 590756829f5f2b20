"""Thread counts of a training run: one for the rollouts' small batches, every core for updates."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy

from racer.train.config import ConfigError, TrainConfig
from racer.train.envs import rollout_threads
from racer.train.trainer import train
from tests.train_support import SMALL


def test_rollout_threads_default_to_one_and_follow_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RACER_ROLLOUT_THREADS", raising=False)
    monkeypatch.setenv("RACER_TORCH_THREADS", "4")
    assert rollout_threads() == 1
    monkeypatch.setenv("RACER_ROLLOUT_THREADS", "3")
    assert rollout_threads() == 3
    monkeypatch.setenv("RACER_TORCH_THREADS", "2")
    assert rollout_threads() == 2  # never more than the run's cores
    monkeypatch.setenv("RACER_ROLLOUT_THREADS", "0")
    assert rollout_threads() == 1
    monkeypatch.setenv("RACER_ROLLOUT_THREADS", "two")
    with pytest.raises(ConfigError, match="RACER_ROLLOUT_THREADS must be a whole number.*'two'"):
        rollout_threads()


def test_rollouts_run_on_one_thread_and_updates_on_every_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACER_TORCH_THREADS", "2")
    monkeypatch.delenv("RACER_ROLLOUT_THREADS", raising=False)
    seen: dict[str, set[int]] = {"forward": set(), "update": set()}
    forward, update = ActorCriticPolicy.forward, PPO.train

    def counting_forward(self: ActorCriticPolicy, *args: object, **kwargs: object) -> object:
        seen["forward"].add(torch.get_num_threads())
        return forward(self, *args, **kwargs)  # type: ignore[arg-type]

    def counting_update(self: PPO) -> None:
        seen["update"].add(torch.get_num_threads())
        update(self)

    monkeypatch.setattr(ActorCriticPolicy, "forward", counting_forward)
    monkeypatch.setattr(PPO, "train", counting_update)
    threads = torch.get_num_threads()
    try:
        config = TrainConfig(name="threads", vec_env="dummy", max_steps=300, **SMALL)
        train(config, tmp_path, force=True)
    finally:
        torch.set_num_threads(threads)
    assert seen == {"forward": {1}, "update": {2}}
