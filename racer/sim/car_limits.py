"""The car's performance envelope, measured by driving the simulator rather than read from CarSpec.

:func:`measure_limits` runs short scripted manoeuvres in :class:`~racer.sim.physics.PhysicsWorld`
with the control rate raised to the physics rate (one sample per physics substep):

* **Acceleration**: full throttle from rest; the acceleration is tabulated against speed
  (it is flat at the drive limit, then tapers as the speed controller closes in on top speed).
* **Top speed**: the steady speed at the end of that run.
* **Braking**: the commanded speed dropped to zero from top speed; the median deceleration
  between 10 % and 90 % of top speed.
* **Lateral grip**: steady circles of a fixed radius, steering at the kinematic (bicycle)
  angle, at increasing speed; bisection finds the speed at which the car stops holding the
  radius (an axle slides: the car runs wide or spins). ``a_lat = v^2 / R`` there. Done at
  several radii from just above full lock to 1 m: on wide circles the limit is about
  ``1.02 * grip * g``; near full lock it is lower (the steered front tyres also brake the car,
  and the drive that makes up for it uses grip).
* **Tightest turn**: the rear-axle radius at full lock and walking pace.

The results are cached per ``(CarSpec, PhysicsConfig)`` (both frozen), so measuring costs
about a second once per process.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from racer.sim.physics import DEFAULT_SPEC, PhysicsConfig, PhysicsWorld
from racer.sim.types import CarSpec, CarState

LATERAL_TEST_RADII = (0.3, 0.35, 0.4, 0.5, 0.6, 1.0)
"""Radii (rear axle, metres) of the steady circles that find the lateral grip limit."""
RADIUS_TOLERANCE = 0.03
"""A circle counts as held while the yaw rate stays within 3 % of ``speed / radius``."""
SETTLE_TIME = 0.25
"""Seconds at the start of each circle that the test ignores (the tyres settle)."""


@dataclass(frozen=True)
class CarLimits:
    """What the car can do, as measured in the simulator.

    Attributes:
        top_speed: Highest steady speed, m/s.
        accel_speeds: Speeds at which the full-throttle acceleration was tabulated, m/s
            (increasing).
        accel_values: Acceleration at those speeds, m/s^2 (0 at top speed).
        max_brake: Braking deceleration, m/s^2 (positive).
        max_lateral_accel: Steady-state lateral acceleration at the grip limit on wide
            circles, m/s^2.
        min_turn_radius: Rear-axle turning radius at full steering lock, metres.
        lateral_radii: Radii of the measured circles, metres (increasing).
        lateral_values: Lateral acceleration limit on each of them, m/s^2.
    """

    top_speed: float
    accel_speeds: tuple[float, ...]
    accel_values: tuple[float, ...]
    max_brake: float
    max_lateral_accel: float
    min_turn_radius: float
    lateral_radii: tuple[float, ...] = ()
    lateral_values: tuple[float, ...] = ()

    @property
    def max_accel(self) -> float:
        """Highest full-throttle acceleration over the speed range, m/s^2."""
        return max(self.accel_values)

    @property
    def max_curvature(self) -> float:
        """Tightest curvature the steering allows, 1/m."""
        return 1.0 / self.min_turn_radius

    def accel_at(self, speed: float | np.ndarray) -> np.ndarray:
        """Full-throttle acceleration at ``speed`` (interpolated in the measured table), m/s^2."""
        return np.asarray(np.interp(speed, self.accel_speeds, self.accel_values))

    def lateral_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Lateral limit against |curvature| (increasing), for the speed model.

        Flat at :attr:`max_lateral_accel` for gentle curves, the measured values in between,
        and falling to almost nothing just past full lock (a path the car cannot steer).
        """
        lock = self.max_curvature
        pairs = sorted(zip(self.lateral_radii, self.lateral_values, strict=True), reverse=True)
        k = [0.0] + [1.0 / r for r, _ in pairs if 1.0 / r < lock]
        a = [self.max_lateral_accel] + [v for r, v in pairs if 1.0 / r < lock]
        k += [lock, 1.05 * lock]
        a += [a[-1], 0.05]
        return np.asarray(k), np.asarray(a)

    def lateral_accel_at(self, curvature: float | np.ndarray) -> np.ndarray:
        """Lateral acceleration limit on a path of this curvature (1/m, either sign), m/s^2."""
        k, a = self.lateral_table()
        return np.asarray(np.interp(np.abs(curvature), k, a))

    def accel_table(self, points: int = 41) -> tuple[np.ndarray, np.ndarray]:
        """The acceleration table resampled on ``points`` even speeds from 0 to top speed."""
        v = np.linspace(0.0, self.top_speed, points)
        return v, self.accel_at(v)

    def describe(self) -> str:
        """One line of the measured numbers, e.g. for the CLI."""
        v, a = np.asarray(self.accel_speeds), np.asarray(self.accel_values)
        flat = float(v[a >= 0.99 * self.max_accel].max())
        return (
            f"top speed {self.top_speed:.2f} m/s, acceleration {self.max_accel:.2f} m/s² "
            f"(up to {flat:.1f} m/s, then tapering), braking {self.max_brake:.2f} m/s², "
            f"lateral grip {self.max_lateral_accel:.2f} m/s², "
            f"tightest turn radius {self.min_turn_radius:.3f} m"
        )


def measure_limits(
    spec: CarSpec = DEFAULT_SPEC, physics_config: PhysicsConfig = PhysicsConfig()
) -> CarLimits:
    """Measure the car's limits by driving scripted manoeuvres in the physics (cached).

    Args:
        spec: The car.
        physics_config: Physics settings.

    Returns:
        The measured limits.
    """
    return _measure_cached(spec, physics_config)


@functools.lru_cache(maxsize=16)
def _measure_cached(spec: CarSpec, cfg: PhysicsConfig) -> CarLimits:
    with PhysicsWorld(spec, cfg, control_hz=cfg.physics_hz) as world:
        dt = 1.0 / cfg.physics_hz
        speeds, accels = _straight_line(world, spec.max_speed, dt, 3.0)
        top = float(np.mean(speeds[-int(0.2 / dt) :]))
        table_v, table_a = _accel_table(speeds, accels, top)
        brake = _braking(world, top, dt)
        radius = _turn_radius(world, math.radians(spec.max_steering_deg), min(0.5, top))
        radii = tuple(r for r in LATERAL_TEST_RADII if r > radius)
        tests = [_lateral_limit(world, spec, r, top) for r in radii]
        found = [a for a, ok in tests if ok]
        # The widest circle shows the tyres' own limit (unless even top speed cannot find it).
        wide = tests[-1][0] if tests[-1][1] or not found else max(found)
    values = tuple(min(a, wide) for a, _ in tests)
    return CarLimits(
        top_speed=top,
        accel_speeds=tuple(float(v) for v in table_v),
        accel_values=tuple(float(a) for a in table_a),
        max_brake=brake,
        max_lateral_accel=wide,
        min_turn_radius=radius,
        lateral_radii=radii,
        lateral_values=values,
    )


def _straight_line(
    world: PhysicsWorld, v_cmd: float, dt: float, seconds: float, v0: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Drive straight at ``v_cmd`` from ``v0``; speeds after each substep and accelerations."""
    world.reset_car(CarState(0.0, 0.0, 0.0, vx=v0))
    v = [v0]
    for _ in range(int(round(seconds / dt))):
        v.append(world.step(0.0, v_cmd).vx)
    speeds = np.asarray(v)
    return speeds, np.diff(speeds) / dt


def _accel_table(
    speeds: np.ndarray, accels: np.ndarray, top: float
) -> tuple[np.ndarray, np.ndarray]:
    """Acceleration against speed on an even grid (monotone in speed, 0 at top speed)."""
    mid = 0.5 * (speeds[1:] + speeds[:-1])
    keep = mid < top * 0.999
    mid, acc = mid[keep], accels[keep]
    grid = np.linspace(0.0, top, 21)
    table = np.interp(grid, mid, acc, left=acc[0] if len(acc) else 0.0, right=0.0)
    table[-1] = 0.0
    return grid, np.maximum(table, 0.0)


def _braking(world: PhysicsWorld, top: float, dt: float) -> float:
    """Median deceleration between 90 % and 10 % of top speed with the speed command at 0."""
    speeds, accels = _straight_line(world, 0.0, dt, 1.5, v0=top)
    mid = 0.5 * (speeds[1:] + speeds[:-1])
    band = (mid > 0.1 * top) & (mid < 0.9 * top)
    return float(-np.median(accels[band]))


def _holds_circle(world: PhysicsWorld, spec: CarSpec, radius: float, speed: float) -> bool:
    """Whether the car keeps turning on a circle of ``radius`` (rear axle) for two seconds.

    The car starts on the circle in steady state, steering at the kinematic angle
    ``atan(wheelbase / radius)`` with the speed commanded. It holds the circle while its yaw
    rate stays within :data:`RADIUS_TOLERANCE` of ``speed / radius``; past the grip limit an
    axle slides, and the yaw rate drops (the car runs wide) or jumps (it spins).
    """
    steer = math.atan(spec.wheelbase / radius)
    world.reset_car(CarState(0.0, 0.0, 0.0, vx=speed, yaw_rate=speed / radius, steering=steer))
    settle = int(round(SETTLE_TIME * world.control_hz))
    for k in range(int(round(2.0 * world.control_hz))):
        st = world.step(steer, speed)
        if k >= settle and abs(st.yaw_rate * radius / speed - 1.0) > RADIUS_TOLERANCE:
            return False
    return True


def _lateral_limit(
    world: PhysicsWorld, spec: CarSpec, radius: float, top: float
) -> tuple[float, bool]:
    """Lateral acceleration at the highest speed that holds a circle of ``radius``.

    Returns:
        The acceleration, and whether the limit was found (False: the car holds the circle
        even at top speed, so the value is only a lower bound).
    """
    lo, hi = 0.3, top
    if _holds_circle(world, spec, radius, hi):
        return hi * hi / radius, False
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        if _holds_circle(world, spec, radius, mid):
            lo = mid
        else:
            hi = mid
    return lo * lo / radius, True


def _turn_radius(world: PhysicsWorld, steer: float, speed: float) -> float:
    """Rear-axle radius of a steady circle at steering angle ``steer`` and a low speed."""
    world.reset_car(CarState(0.0, 0.0, 0.0, vx=speed, steering=steer))
    rates, vels = [], []
    for k in range(int(round(1.5 * world.control_hz))):
        st = world.step(steer, speed)
        if k > world.control_hz // 2:
            rates.append(st.yaw_rate)
            vels.append(st.speed)
    return float(np.mean(vels)) / float(np.mean(rates))
