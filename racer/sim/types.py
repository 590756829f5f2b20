"""Plain data types shared across the simulator: car specification, car state and objects."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class CarSpec:
    """A 1/18-scale DeepRacer-like car.

    The car's reference point ("base") is the midpoint of the rear axle; DeepRacer's
    ``params['x'], params['y']`` is the point ``params_point_ahead`` metres in front of it.

    Attributes:
        wheelbase: Front-to-rear axle distance, metres.
        track_width: Left-to-right wheel distance, metres.
        wheel_radius: Wheel radius, metres.
        body_length: Collision box length, metres.
        body_width: Collision box width, metres.
        body_height: Collision box height, metres.
        rear_overhang: Distance the body extends behind the rear axle, metres.
        mass: Kilograms.
        max_steering_deg: Steering limit either side, degrees (positive = left).
        min_speed: Lowest commandable speed, m/s.
        max_speed: Highest commandable speed, m/s.
        max_accel: Drive acceleration limit, m/s^2.
        max_brake: Braking deceleration limit, m/s^2.
        speed_gain: Proportional gain of the speed controller, 1/s.
        grip: Tyre-road friction coefficient (lateral and longitudinal), dimensionless.
        params_point_ahead: Distance of DeepRacer's (x, y) point ahead of the base, metres.
    """

    wheelbase: float = 0.164
    track_width: float = 0.162
    wheel_radius: float = 0.035
    body_length: float = 0.28
    body_width: float = 0.19
    body_height: float = 0.10
    rear_overhang: float = 0.055
    mass: float = 1.5
    max_steering_deg: float = 30.0
    min_speed: float = 0.1
    max_speed: float = 4.0
    max_accel: float = 6.0
    max_brake: float = 8.0
    speed_gain: float = 12.0
    grip: float = 1.0
    params_point_ahead: float = 0.14

    @property
    def accel_time(self) -> float:
        """Documented time to reach top speed from rest, seconds (with a 10 % margin).

        "Reach" means coming within 2 % of the commanded speed. With the defaults this is
        0.98 s; the physics (:mod:`racer.sim.physics`) gets from 0 to 4 m/s in about 0.73 s.
        """
        return 1.1 * self.max_speed / self.max_accel + 3.0 / self.speed_gain

    @property
    def brake_time(self) -> float:
        """Documented time to slow from top speed to ``min_speed``, seconds (10 % margin).

        "Slow to" means coming within 2 % of the speed change. With the defaults this is
        0.79 s; the physics slows from 4 to 0.1 m/s in about 0.6 s.
        """
        return 1.1 * (self.max_speed - self.min_speed) / self.max_brake + 3.0 / self.speed_gain

    def wheel_offsets(self) -> NDArray[np.float64]:
        """(4, 2) wheel contact points in the body frame: FL, FR, RL, RR (x forward, y left)."""
        h = self.track_width / 2.0
        lb = self.wheelbase
        return np.array([[lb, h], [lb, -h], [0.0, h], [0.0, -h]])


@dataclass(frozen=True)
class CarState:
    """Kinematic state of a car at one instant.

    Attributes:
        x: Base (rear-axle midpoint) x, metres.
        y: Base y, metres.
        yaw: Heading, radians, 0 = +x, counter-clockwise positive.
        vx: Forward speed in the body frame, m/s.
        vy: Leftward speed in the body frame, m/s.
        yaw_rate: rad/s, counter-clockwise positive.
        steering: Current front-wheel angle, radians, positive = left.
    """

    x: float
    y: float
    yaw: float
    vx: float = 0.0
    vy: float = 0.0
    yaw_rate: float = 0.0
    steering: float = 0.0

    @property
    def speed(self) -> float:
        """Ground speed, m/s."""
        return math.hypot(self.vx, self.vy)

    def point_ahead(self, distance: float) -> tuple[float, float]:
        """The point ``distance`` metres ahead of the base along the heading."""
        return (
            self.x + distance * math.cos(self.yaw),
            self.y + distance * math.sin(self.yaw),
        )

    def body_to_world(self, pts: NDArray[np.float64]) -> NDArray[np.float64]:
        """Transform (M, 2) body-frame points to the world frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        rot = np.array([[c, -s], [s, c]])
        return np.asarray(pts, dtype=np.float64) @ rot.T + np.array([self.x, self.y])


OBJECT_KINDS = ("box", "bot")


@dataclass(frozen=True)
class RaceObject:
    """An obstacle box or a bot car, as sensors and reward params see it.

    Attributes:
        kind: ``"box"`` or ``"bot"``.
        x: Centre x, metres.
        y: Centre y, metres.
        yaw: Heading, radians.
        length: Footprint along the heading, metres.
        width: Footprint across the heading, metres.
        height: Metres.
        speed: m/s (0 for boxes).
        shade: Gray level 0-255 used by the camera.
    """

    kind: str
    x: float
    y: float
    yaw: float
    length: float
    width: float
    height: float
    speed: float = 0.0
    shade: int = 200


def objects_array(objects: tuple[RaceObject, ...] | list[RaceObject]) -> NDArray[np.float64]:
    """Pack objects into a (K, 7) array: x, y, yaw, half_length, half_width, height, shade."""
    out = np.zeros((len(objects), 7))
    for i, o in enumerate(objects):
        out[i] = (o.x, o.y, o.yaw, o.length / 2, o.width / 2, o.height, o.shade)
    return out
