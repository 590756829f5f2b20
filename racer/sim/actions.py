"""DeepRacer action spaces: a discrete list of (steering, speed) pairs or continuous ranges.

Both kinds read and write the ``action_space`` entries of DeepRacer's ``model_metadata.json``.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable
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
    def grip_matched(cls) -> DiscreteActionSpace:
        """The training default: each steering angle at about the fastest speed it holds.

        A car turning at steering angle *d* follows a circle of radius ``wheelbase / tan(d)``
        and slides wide once ``speed**2 / radius`` exceeds its lateral grip. With the
        simulated car's measured limits (``racer tracks optimal``: about 10 m/s² of grip) that
        speed is about 4.3 m/s at 5 degrees, 3.05 at 10, 2.5 at 15 and 2.1 at 20; at 30
        degrees the car circles 0.31 m at 1.7 m/s (0.29 m at walking pace). So every action
        holds its turn, and the straight ones reach the 4 m/s top speed; a grid (every angle
        at every speed) spends most of its actions on turns too fast to hold.
        """
        pairs = [(0.0, 4.0), (5.0, 4.0), (10.0, 3.0), (15.0, 2.5), (20.0, 2.1), (30.0, 1.7)]
        left = [Action(angle, speed) for angle, speed in pairs]
        right = [Action(-a.steering_angle, a.speed) for a in reversed(left) if a.steering_angle]
        return cls(tuple(right + left))

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

ACTION_SPACE_PRESETS: dict[str, Callable[[], DiscreteActionSpace]] = {
    "grip-matched": DiscreteActionSpace.grip_matched,
    "deepracer-default": DiscreteActionSpace.default,
}
"""Action spaces known by name (``--action-space NAME``, ``action_space: NAME`` in a config)."""


def preset_action_space(name: str) -> DiscreteActionSpace:
    """The action space called ``name`` in :data:`ACTION_SPACE_PRESETS`.

    Raises:
        ActionSpaceError: For an unknown name, with the closest known one suggested.
    """
    make = ACTION_SPACE_PRESETS.get(name.strip().lower())
    if make is None:
        close = difflib.get_close_matches(
            name.strip().lower(), list(ACTION_SPACE_PRESETS), n=1, cutoff=0.5
        )
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ActionSpaceError(
            f"unknown action space {name!r}{hint}; named ones are "
            f"{', '.join(ACTION_SPACE_PRESETS)}, or give a list of actions, a grid or ranges"
        )
    return make()


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
