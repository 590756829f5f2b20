"""SplitVecEnv: the envs of a DummyVecEnv, stepped on several cores, with the same results."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

from racer.rewards.loader import RewardFunctionError
from racer.train import envs
from racer.train.algorithms import load_model
from racer.train.config import TrainConfig
from racer.train.envs import ResetInfoWrapper, _EnvFactory, training_env_configs
from racer.train.splitvec import SplitVecEnv, split_sizes
from racer.train.trainer import train
from tests.train_support import SMALL


def _fns(reward: str = "follow_centerline", n: int = 3, **overrides: Any) -> list[_EnvFactory]:
    from racer.train.rewardfile import resolve_reward

    config = TrainConfig(name="split", n_envs=n, max_episode_steps=60, **overrides)
    envs = training_env_configs(config, str(resolve_reward(reward)))
    return [_EnvFactory(c, in_worker=False) for c in envs]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return bool(a == b)


def test_split_sizes_are_even_and_contiguous() -> None:
    assert split_sizes(8, 2) == [4, 4]
    assert split_sizes(5, 2) == [3, 2]
    assert split_sizes(3, 8) == [1, 1, 1]
    assert split_sizes(4, 0) == [4]


def test_same_steps_resets_and_infos_as_a_dummy_vec_env() -> None:
    fns = _fns()
    dummy, split = DummyVecEnv(fns), SplitVecEnv(fns, processes=2)
    try:
        assert split.processes == 2
        assert split.observation_space == dummy.observation_space
        for venv in (dummy, split):
            venv.seed(7)
        assert _same(dummy.reset(), split.reset())
        assert _same(dummy.reset_infos, split.reset_infos)
        rng = np.random.default_rng(0)
        episodes_ended = 0
        for _ in range(150):  # random driving leaves the track: many auto-resets
            actions = rng.integers(0, dummy.action_space.n, size=3)  # type: ignore[attr-defined]
            expected, got = dummy.step(actions), split.step(actions)
            assert _same(expected, got)
            assert _same(dummy.reset_infos, split.reset_infos)
            episodes_ended += int(expected[2].sum())
        assert episodes_ended >= 3
    finally:
        dummy.close()
        split.close()


def test_attributes_and_methods_reach_the_right_envs() -> None:
    split = SplitVecEnv(_fns(n=3), processes=2)  # envs 0-1 here, env 2 in the worker
    try:
        starts = split.get_attr("config")
        assert [c.world.start.start_fraction for c in starts] == pytest.approx([0, 1 / 3, 2 / 3])
        assert len(split.get_attr("config", indices=[2])) == 1
        split.set_attr("racer_tag", "b", indices=[1, 2])
        assert split.get_attr("racer_tag", indices=[1, 2]) == ["b", "b"]
        assert split.env_is_wrapped(ResetInfoWrapper) == [True] * 3
        assert split.env_is_wrapped(DummyVecEnv, indices=[2]) == [False]
        spaces = split.env_method("__getattribute__", "observation_space", indices=[0, 2])
        assert all(s == split.observation_space for s in spaces)
    finally:
        split.close()


def test_a_broken_reward_in_a_worker_is_raised_with_its_file_and_line(tmp_path: Path) -> None:
    reward = tmp_path / "broken.py"
    reward.write_text(
        "def reward_function(params):\n"
        "    if params['steps'] > 3:\n"
        "        return params['no_such_key']\n"
        "    return 1.0\n"
    )
    split = SplitVecEnv(_fns(str(reward), n=2), processes=2)
    try:
        split.reset()
        with pytest.raises(RewardFunctionError) as caught:
            for _ in range(10):
                split.step(np.zeros(2, dtype=np.int64))
        assert caught.value.path == reward and caught.value.line == 3
        assert "broken.py" in str(caught.value) and "no_such_key" in str(caught.value)
    finally:
        split.close()


def test_a_worker_that_cannot_build_its_envs_fails_the_constructor() -> None:
    fns = _fns(n=2)
    bad = dataclasses.replace(fns[1].config, reward_function="/no/such/reward.py")
    fns[1] = _EnvFactory(bad, in_worker=False)
    with pytest.raises(Exception, match="no/such/reward.py"):
        SplitVecEnv(fns, processes=2)


def test_close_drains_a_step_in_flight_and_reaps_the_workers() -> None:
    split = SplitVecEnv(_fns(n=2), processes=2)
    split.reset()
    worker = split._remotes[0]
    worker.send("step", np.zeros(1, dtype=np.int64))  # as if Ctrl-C came before the answer
    split.close()
    split.close()
    assert not worker.process.is_alive()
    assert worker.process.exitcode == 0


def test_training_with_split_envs_learns_exactly_what_dummy_envs_learn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[SplitVecEnv] = []

    def two_processes(fns: list[Any]) -> SplitVecEnv:
        made.append(SplitVecEnv(fns, processes=2))  # tests give each run one core
        return made[-1]

    monkeypatch.setitem(envs.VEC_ENVS, "split", two_processes)
    params = {}
    for kind in ("dummy", "split"):
        config = TrainConfig(name=kind, vec_env=kind, max_steps=400, seed=3, **SMALL)
        train(config, tmp_path, force=True)
        model = load_model(tmp_path / kind / "model.zip", config)
        params[kind] = [p.detach().clone() for p in model.policy.parameters()]
    assert [v.processes for v in made] == [2]
    assert all(torch.equal(a, b) for a, b in zip(params["dummy"], params["split"], strict=True))


def test_after_a_failure_here_the_workers_answers_are_not_left_behind(tmp_path: Path) -> None:
    reward = tmp_path / "fails.py"
    reward.write_text("def reward_function(params):\n    raise ValueError('bad lap')\n")
    fns = _fns(n=2)
    fns[0] = _EnvFactory(dataclasses.replace(fns[0].config, reward_function=str(reward)), False)
    split = SplitVecEnv(fns, processes=2)  # env 0 (broken) here, env 1 in the worker
    try:
        split.reset()
        with pytest.raises(RewardFunctionError, match="bad lap"):
            split.step(np.zeros(2, dtype=np.int64))
        configs = split.get_attr("config", indices=[1])  # the next answer, not the step's
        assert configs[0].world.start.start_fraction == pytest.approx(0.5)
    finally:
        split.close()
