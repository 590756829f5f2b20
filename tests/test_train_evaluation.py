from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from racer.env import EnvConfig, RacingEnv
from racer.sim.rules import RulesConfig
from racer.sim.world import WorldConfig
from racer.train.evaluation import run_episodes


class _StartRecorder(gym.Wrapper[Any, Any, Any, Any]):
    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.starts: list[float] = []

    def reset(self, **kwargs: Any) -> Any:
        out = self.env.reset(**kwargs)
        world = self.env.unwrapped.world  # type: ignore[attr-defined]
        self.starts.append(
            float(world.track.project(np.array([world.record.car.x, world.record.car.y])).s[0])
        )
        return out


def test_evaluation_laps_start_evenly_spaced_round_the_track() -> None:
    config = EnvConfig(
        sensors=("STATE",), world=WorldConfig(rules=RulesConfig(mode="evaluation", max_steps=5))
    )
    env = _StartRecorder(RacingEnv(config))
    length = env.unwrapped.world.track.length  # type: ignore[attr-defined]
    summary = run_episodes(lambda obs: 4, env, episodes=3, seed=0, step=0)
    assert len(summary.episodes) == 3
    gaps = [(b - a) % length for a, b in zip(env.starts, env.starts[1:], strict=False)]
    for gap in gaps:
        assert abs(gap - length / 3) < 0.05
    env.close()
