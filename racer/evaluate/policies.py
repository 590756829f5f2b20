"""What the evaluator drives: a :class:`Policy`, plus scripted and random baselines.

A policy maps an observation to an action of the environment's action space (an index for a
discrete space, a value in [-1, 1]^2 for a continuous one), deterministically. A trained model
loaded with ``racer.train.policy.load_policy`` is one. Scripted drivers that need the
simulator's state instead of the observation implement :class:`EnvAware`; the evaluator calls
:meth:`EnvAware.attach` once it has built the environment.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from racer.env.racing_env import RacingEnv
from racer.sim.actions import ContinuousActionSpace, DiscreteActionSpace
from racer.sim.pursuit import PurePursuitDriver


@runtime_checkable
class Policy(Protocol):
    """Chooses an action for an observation."""

    def predict(self, obs: Any) -> Any:
        """The action for ``obs`` (deterministic for a trained model)."""


@runtime_checkable
class EnvAware(Protocol):
    """A policy that reads the environment itself (scripted drivers, baselines)."""

    def attach(self, env: RacingEnv) -> None:
        """Called by the evaluator with the environment it will drive in."""


def encode_action(
    space: DiscreteActionSpace | ContinuousActionSpace, steering: float, speed: float
) -> Any:
    """The policy output closest to a (steering degrees, speed m/s) command.

    Discrete: the index of the nearest action (steering scaled by 60 degrees, speed by the
    fastest action). Continuous: the inverse of the rescaling, clipped to [-1, 1].

    Args:
        space: The action space.
        steering: Steering, degrees, positive = left.
        speed: Speed, m/s.

    Returns:
        An ``int`` index or a float32 ``(2,)`` array.
    """
    if isinstance(space, DiscreteActionSpace):
        steer = np.array([a.steering_angle for a in space.actions])
        speeds = np.array([a.speed for a in space.actions])
        cost = ((steer - steering) / 60.0) ** 2 + ((speeds - speed) / space.max_speed) ** 2
        return int(np.argmin(cost))
    a0 = 2.0 * (steering - space.steering_low) / (space.steering_high - space.steering_low) - 1.0
    a1 = 2.0 * (speed - space.speed_low) / (space.speed_high - space.speed_low) - 1.0
    return np.clip(np.array([a0, a1], dtype=np.float32), -1.0, 1.0)


class PursuitPolicy:
    """The pure-pursuit driver as a policy: a reference lap for any model's action space.

    It ignores the observation and steers from the simulator's car state, then picks the
    nearest action of the environment's action space.

    Args:
        lookahead: Pure-pursuit look-ahead along the centre line, metres.
        speed: Constant speed, m/s; ``None`` uses the driver's cornering speed profile.
    """

    def __init__(self, lookahead: float = 0.45, speed: float | None = None) -> None:
        self.lookahead = lookahead
        self.speed = speed
        self._env: RacingEnv | None = None
        self._driver: PurePursuitDriver | None = None

    def attach(self, env: RacingEnv) -> None:
        """Follow the environment's track with its car."""
        self._env = env
        self._driver = PurePursuitDriver(env.track, env.world.spec, self.lookahead, self.speed)

    def predict(self, obs: Any) -> Any:
        """The action nearest to the driver's command."""
        env, driver = self._env, self._driver
        if env is None or driver is None or env.world.record is None:
            raise RuntimeError("PursuitPolicy needs attach(env) and a reset environment")
        steering, speed = driver.act(env.world.record.car)
        return encode_action(env.config.action_space, steering, speed)


class ConstantPolicy:
    """Always the same command (e.g. full left: a deliberately bad driver for tests).

    Args:
        steering: Steering, degrees.
        speed: Speed, m/s.
    """

    def __init__(self, steering: float, speed: float) -> None:
        self.steering = steering
        self.speed = speed
        self._action: Any = None

    def attach(self, env: RacingEnv) -> None:
        """Pick the action nearest to the command in the environment's space."""
        self._action = encode_action(env.config.action_space, self.steering, self.speed)

    def predict(self, obs: Any) -> Any:
        """The fixed action."""
        if self._action is None:
            raise RuntimeError("ConstantPolicy needs attach(env) first")
        return self._action


class RandomPolicy:
    """Uniformly random actions from a seeded generator.

    Args:
        seed: Seed of the generator (the same seed gives the same actions).
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._space: Any = None

    def attach(self, env: RacingEnv) -> None:
        """Sample from the environment's action space."""
        self._space = env.action_space
        self._space.seed(self.seed)

    def predict(self, obs: Any) -> Any:
        """A random action."""
        if self._space is None:
            raise RuntimeError("RandomPolicy needs attach(env) first")
        return self._space.sample()
