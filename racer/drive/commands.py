"""From the network's output to what the car sends its servos, as the DeepRacer car does it.

* **Action.** Discrete: the argmax of the softmax picks ``action_space[i]``. Continuous: the two
  outputs (steering, speed) are clipped to [-1, 1] and rescaled to the metadata's ranges.
* **Steering command**, in [-1, 1], +1 = full left: the steering angle divided by the largest
  ``|steering_angle|`` of the action space (of ``low``/``high`` for a continuous space).
* **Throttle**, in [0, 1]: the user's maximum speed (a percentage) times a curve of the
  action's speed over the action space's top speed, ``y = -1.2 x^2 + 2.2 x`` (0 -> 0,
  1/2 -> 0.8, 1 -> 1). The car therefore keeps speed *ratios*, not metres per second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from racer.drive.errors import DriveError
from racer.sim.actions import ActionSpace, DiscreteActionSpace


def throttle_curve(x: float) -> float:
    """The car's speed curve ``-1.2 x^2 + 2.2 x`` of a speed ratio ``x`` (clipped to [0, 1])."""
    x = min(1.0, max(0.0, float(x)))
    return min(1.0, -1.2 * x * x + 2.2 * x)  # 1.0, not 1.0000000000000002, at x = 1


@dataclass(frozen=True)
class CarCommand:
    """One decision of the car.

    Attributes:
        index: The chosen action's index (discrete spaces), else None.
        steering_angle: The action's steering, degrees, positive = left.
        speed: The action's speed, m/s (as trained; the car keeps only its ratio).
        steering: Steering command in [-1, 1], +1 = full left.
        throttle: Throttle in [0, 1].
    """

    index: int | None
    steering_angle: float
    speed: float
    steering: float
    throttle: float


class ActionMapper:
    """Maps network outputs to :class:`CarCommand` for one action space and maximum speed.

    Args:
        space: The model's action space.
        max_speed: The car's maximum speed setting, percent (0-100).

    Raises:
        DriveError: ``max_speed`` outside 0-100.
    """

    def __init__(self, space: ActionSpace, max_speed: float = 50.0) -> None:
        if not 0.0 <= max_speed <= 100.0:
            raise DriveError(f"max speed is a percentage in 0-100, got {max_speed:g}")
        self.space = space
        self.max_speed = float(max_speed)
        if isinstance(space, DiscreteActionSpace):
            self.max_steering = max(abs(a.steering_angle) for a in space.actions)
        else:
            self.max_steering = max(abs(space.steering_low), abs(space.steering_high))
        self.top_speed = space.max_speed

    def command(self, steering_angle: float, speed: float, index: int | None = None) -> CarCommand:
        """The servo values of a (steering, speed) action."""
        steering = steering_angle / self.max_steering if self.max_steering > 0 else 0.0
        throttle = self.max_speed / 100.0 * throttle_curve(speed / self.top_speed)
        return CarCommand(
            index=index,
            steering_angle=float(steering_angle),
            speed=float(speed),
            steering=float(np.clip(steering, -1.0, 1.0)),
            throttle=float(throttle),
        )

    def __call__(self, output: ArrayLike) -> CarCommand:
        """The command for one network output (a softmax row, or (steering, speed))."""
        values = np.asarray(output, dtype=np.float64).reshape(-1)
        if isinstance(self.space, DiscreteActionSpace):
            index = int(np.argmax(values))
            steering_angle, speed = self.space.decode(index)
            return self.command(steering_angle, speed, index)
        steering_angle, speed = self.space.decode(values[:2])
        return self.command(steering_angle, speed)
