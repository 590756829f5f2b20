"""DeepRacer action spaces: a discrete list of (steering, speed) pairs or continuous ranges.

Both kinds read and write the ``action_space`` entries of DeepRacer's ``model_metadata.json``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_STEERING_DEG = 30.0
MIN_SPEED = 0.1
MAX_SPEED = 4.0


class ActionSpaceError(ValueError):
    """An action space definition is invalid."""


@dataclass(frozen=True)
class Action:
    """One discrete action: commanded steering (degrees, positive = left) and speed (m/s)."""

    steering_angle: float
    speed: float


def _check_action(steering: float, speed: float, where: str) -> None:
    if not -MAX_STEERING_DEG <= steering <= MAX_STEERING_DEG:
        raise ActionSpaceError(
            f"{where}: steering_angle {steering} is outside [-{MAX_STEERING_DEG}, "
            f"{MAX_STEERING_DEG}] degrees"
        )
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ActionSpaceError(f"{where}: speed {speed} is outside [{MIN_SPEED}, {MAX_SPEED}] m/s")


@dataclass(frozen=True)
class DiscreteActionSpace:
    """A list of 2-30 actions; the policy's output *i* is the *i*-th action."""

    actions: tuple[Action, ...]

    kind = "discrete"

    def __post_init__(self) -> None:
        if not 2 <= len(self.actions) <= 30:
            raise ActionSpaceError(
                f"a discrete action space needs 2-30 actions, got {len(self.actions)}"
            )
        for i, a in enumerate(self.actions):
            _check_action(a.steering_angle, a.speed, f"action {i}")

    @classmethod
    def grid(cls, steering: list[float], speeds: list[float]) -> DiscreteActionSpace:
        """Every combination of the given steering angles and speeds (steering-major)."""
        return cls(
            tuple(Action(float(s), float(v)) for s, v in itertools.product(steering, speeds))
        )

    @classmethod
    def default(cls) -> DiscreteActionSpace:
        """DeepRacer's classic default: steering {-30, -15, 0, 15, 30} x speed {0.5, 1.0}."""
        return cls.grid([-30.0, -15.0, 0.0, 15.0, 30.0], [0.5, 1.0])

    def __len__(self) -> int:
        return len(self.actions)

    def decode(self, action: Any) -> tuple[float, float]:
        """Map a policy output (an index) to (steering_deg, speed)."""
        a = self.actions[int(np.asarray(action).reshape(()))]
        return a.steering_angle, a.speed

    @property
    def max_speed(self) -> float:
        """Fastest speed in the list."""
        return max(a.speed for a in self.actions)

    def to_metadata(self) -> list[dict[str, float]]:
        """The ``action_space`` list of ``model_metadata.json``."""
        return [{"steering_angle": a.steering_angle, "speed": a.speed} for a in self.actions]


@dataclass(frozen=True)
class ContinuousActionSpace:
    """Steering and speed ranges; the policy acts in [-1, 1]^2, rescaled to the ranges."""

    steering_low: float = -MAX_STEERING_DEG
    steering_high: float = MAX_STEERING_DEG
    speed_low: float = 0.5
    speed_high: float = 2.0

    kind = "continuous"

    def __post_init__(self) -> None:
        _check_action(self.steering_low, self.speed_low, "continuous low")
        _check_action(self.steering_high, self.speed_high, "continuous high")
        if self.steering_low >= self.steering_high or self.speed_low >= self.speed_high:
            raise ActionSpaceError("continuous ranges need low < high for steering and speed")

    def decode(self, action: Any) -> tuple[float, float]:
        """Map a policy output in [-1, 1]^2 to (steering_deg, speed), clipping first."""
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        steer = self.steering_low + (a[0] + 1.0) * 0.5 * (self.steering_high - self.steering_low)
        speed = self.speed_low + (a[1] + 1.0) * 0.5 * (self.speed_high - self.speed_low)
        return float(steer), float(speed)

    @property
    def max_speed(self) -> float:
        """Top of the speed range."""
        return self.speed_high

    def to_metadata(self) -> dict[str, dict[str, float]]:
        """The ``action_space`` object of ``model_metadata.json``."""
        return {
            "steering_angle": {"low": self.steering_low, "high": self.steering_high},
            "speed": {"low": self.speed_low, "high": self.speed_high},
        }


ActionSpace = DiscreteActionSpace | ContinuousActionSpace


def action_space_from_metadata(value: Any) -> ActionSpace:
    """Read an ``action_space`` entry of ``model_metadata.json`` (a list or a ranges object).

    Raises:
        ActionSpaceError: With the offending entry named.
    """
    if isinstance(value, list):
        actions = []
        for i, item in enumerate(value):
            try:
                actions.append(Action(float(item["steering_angle"]), float(item["speed"])))
            except (KeyError, TypeError, ValueError) as exc:
                raise ActionSpaceError(
                    f"action {i} must have numeric 'steering_angle' and 'speed', got {item!r}"
                ) from exc
        return DiscreteActionSpace(tuple(actions))
    if isinstance(value, dict):
        try:
            bounds = (
                float(value["steering_angle"]["low"]),
                float(value["steering_angle"]["high"]),
                float(value["speed"]["low"]),
                float(value["speed"]["high"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ActionSpaceError(
                "a continuous action space needs steering_angle.low/high and speed.low/high"
            ) from exc
        return ContinuousActionSpace(*bounds)  # its own checks name a bad range
    raise ActionSpaceError(f"an action space is a list or an object, got {type(value).__name__}")
