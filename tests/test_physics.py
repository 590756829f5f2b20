"""Car physics checked against closed-form values (no wall-clock assertions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from racer.sim.physics import PhysicsConfig, PhysicsWorld
from racer.sim.types import CarSpec, CarState, RaceObject

SPEC = CarSpec()
G = PhysicsConfig().gravity


@pytest.fixture
def world():
    w = PhysicsWorld()
    yield w
    w.close()


def fit_circle(points: np.ndarray) -> tuple[float, float, float]:
    """Least-squares circle (cx, cy, radius) through (N, 2) points."""
    a = np.c_[2 * points, np.ones(len(points))]
    b = (points**2).sum(axis=1)
    cx, cy, c = np.linalg.lstsq(a, b, rcond=None)[0]
    return float(cx), float(cy), math.sqrt(c + cx * cx + cy * cy)


def drive(w: PhysicsWorld, steer_deg: float, speed: float, steps: int) -> list[CarState]:
    return [w.step(math.radians(steer_deg), speed) for _ in range(steps)]


def steady_radius(w: PhysicsWorld, steer_deg: float, speed: float) -> float:
    """Radius of the rear-axle path once the car has settled into its turn."""
    w.reset_car(CarState(0.0, 0.0, 0.0, vx=speed))
    states = drive(w, steer_deg, speed, 150)[60:]
    return fit_circle(np.array([(s.x, s.y) for s in states]))[2]


def collisions(w: PhysicsWorld, speed: float, steps: int) -> list[int | None]:
    """Drive straight, recording :meth:`PhysicsWorld.collided` after each control step."""
    out = []
    for _ in range(steps):
        w.step(0.0, speed)
        out.append(w.collided())
    return out


def com_velocity(s: CarState) -> np.ndarray:
    """World velocity of the centre of mass (midway between the axles)."""
    vx, vy = s.vx, s.vy + SPEC.wheelbase / 2 * s.yaw_rate
    c, sn = math.cos(s.yaw), math.sin(s.yaw)
    return np.array([c * vx - sn * vy, sn * vx + c * vy])


# ---------------------------------------------------------------------- speed control
@pytest.mark.parametrize("target", [4.0, 2.0])
def test_reaches_commanded_speed_within_accel_time(world, target):
    states = drive(world, 0.0, target, 60)
    times = np.arange(1, 61) / world.control_hz
    vx = np.array([s.vx for s in states])
    reached = times[np.argmax(np.abs(vx - target) <= 0.02 * target)]
    assert np.abs(vx[-1] - target) <= 0.02 * target
    assert reached <= SPEC.accel_time
    assert vx.max() <= target * 1.02  # no overshoot
    accel = np.diff(np.r_[0.0, vx]) * world.control_hz
    assert accel.max() <= SPEC.max_accel * 1.001


def test_brakes_within_brake_time(world):
    world.reset_car(CarState(0.0, 0.0, 0.0, vx=4.0))
    states = drive(world, 0.0, 0.1, 60)
    vx = np.array([s.vx for s in states])
    times = np.arange(1, 61) / world.control_hz
    reached = times[np.argmax(vx <= 0.1 + 0.02 * (4.0 - 0.1))]
    assert reached <= SPEC.brake_time
    assert abs(vx[-1] - 0.1) < 1e-3
    decel = -np.diff(np.r_[4.0, vx]) * world.control_hz
    rolling = PhysicsConfig().rolling_resistance * G
    assert decel.max() <= SPEC.max_brake + rolling + 1e-6


def test_distance_on_straight_matches_speed_times_time(world):
    drive(world, 0.0, 2.0, int(math.ceil(SPEC.accel_time * world.control_hz)))
    start = world.car_state
    t0 = world.sim_time
    end = drive(world, 0.0, 2.0, 45)[-1]
    dist = math.hypot(end.x - start.x, end.y - start.y)
    assert dist == pytest.approx(2.0 * (world.sim_time - t0), rel=0.02)
    assert abs(end.y) < 1e-9 and abs(end.yaw) < 1e-9


# ---------------------------------------------------------------------- turning
@pytest.mark.parametrize("steer_deg", [10, 20, 30, -10, -20, -30])
@pytest.mark.parametrize("speed", [0.3, 0.5])
def test_low_speed_turning_radius_is_kinematic(world, steer_deg, speed):
    radius = steady_radius(world, steer_deg, speed)
    expected = SPEC.wheelbase / math.tan(math.radians(abs(steer_deg)))
    assert radius == pytest.approx(expected, rel=0.10)
    state = world.car_state
    assert math.copysign(1.0, state.yaw_rate) == math.copysign(1.0, steer_deg)  # left = CCW
    assert abs(state.vy) < 0.05 * speed  # the rear axle does not slip


def test_cornering_too_fast_slides(world):
    world.reset_car(CarState(0.0, 0.0, 0.0, vx=4.0))
    states = drive(world, 30.0, 4.0, 90)
    kinematic = SPEC.wheelbase / math.tan(math.radians(30))
    radius = fit_circle(np.array([(s.x, s.y) for s in states[30:]]))[2]
    assert radius > 4 * kinematic
    assert radius > 0.9 * 4.0**2 / (SPEC.grip * G)  # the grip limit sets the radius
    # The front tyres slide: their velocity points far from the wheel's heading.
    s = states[-1]
    front_slip = s.steering - math.atan2(s.vy + SPEC.wheelbase * s.yaw_rate, s.vx)
    assert math.degrees(front_slip) > 10
    # Total acceleration of the centre of mass never exceeds the grip limit (+ rolling drag).
    v = np.array([com_velocity(s) for s in states])
    accel = np.linalg.norm(np.diff(v, axis=0), axis=1) * world.control_hz
    assert accel.max() <= SPEC.grip * G * 1.02


def test_lateral_accel_bounded_at_moderate_speed(world):
    world.reset_car(CarState(0.0, 0.0, 0.0, vx=2.0))
    states = drive(world, 15.0, 2.0, 90)
    a_lat = max(abs(s.vx * s.yaw_rate) for s in states[30:])
    assert a_lat <= SPEC.grip * G * 1.02


@pytest.mark.parametrize(("steer_deg", "speed"), [(30, 4.0), (15, 2.0), (20, 0.4)])
def test_physics_rate_changes_results_only_slightly(steer_deg, speed):
    radii = []
    for hz in (60.0, 120.0):
        w = PhysicsWorld(config=PhysicsConfig(physics_hz=hz))
        radii.append(steady_radius(w, steer_deg, speed))
        w.close()
    assert radii[1] == pytest.approx(radii[0], rel=0.05)


def test_same_inputs_give_identical_states():
    rng = np.random.default_rng(3)
    actions = [(rng.uniform(-0.5, 0.5), rng.uniform(0.1, 4.0)) for _ in range(100)]
    runs = []
    for _ in range(2):
        w = PhysicsWorld()
        w.set_objects([RaceObject("box", 3.0, 0.5, 0.3, 0.24, 0.39, 0.2)])
        runs.append([w.step(d, v) for d, v in actions])
        w.close()
    assert runs[0] == runs[1]


def test_rejects_physics_rate_not_multiple_of_control_rate():
    with pytest.raises(ValueError, match="multiple"):
        PhysicsWorld(config=PhysicsConfig(physics_hz=50.0))


def test_reset_car_round_trips_state(world):
    state = CarState(1.0, -2.0, 2.5, vx=1.5, vy=0.1, yaw_rate=0.7, steering=0.2)
    world.reset_car(state)
    got = world.car_state
    for name in ("x", "y", "yaw", "vx", "vy", "yaw_rate", "steering"):
        assert getattr(got, name) == pytest.approx(getattr(state, name), abs=1e-9)
    assert world.sim_time == 0.0


def test_steering_is_rate_limited_and_clipped(world):
    state = world.step(math.radians(90), 0.5)
    assert state.steering == pytest.approx(math.radians(30))  # 600 deg/s covers 30 deg in 1 step
    w = PhysicsWorld(config=PhysicsConfig(steering_rate_deg_s=60.0))
    state = w.step(math.radians(-30), 0.5)
    assert state.steering == pytest.approx(-math.radians(60.0 / 15.0))
    w.close()


# ---------------------------------------------------------------------- collisions
BOX = dict(length=0.24, width=0.39, height=0.2)
BOT = dict(length=SPEC.body_length, width=SPEC.body_width, height=SPEC.body_height)


def test_box_ahead_is_hit(world):
    world.set_objects(
        [RaceObject("box", 1.0, 2.0, 0.0, **BOX), RaceObject("box", 1.5, 0.0, 0.0, **BOX)]
    )
    hits = collisions(world, 1.5, 30)
    assert 1 in hits
    assert set(hits) <= {None, 1}
    front = world.car_state.point_ahead(SPEC.wheelbase + 0.06)[0]
    assert front < 1.5  # pushed back, not driven through


def test_bot_car_is_hit(world):
    world.set_objects([RaceObject("bot", 1.2, 0.05, math.pi / 2, speed=1.0, **BOT)])
    assert 0 in collisions(world, 2.0, 30)


@pytest.mark.parametrize("gap", [0.3, 0.02])
def test_no_false_positive_passing_beside_a_box(world, gap):
    y = SPEC.body_width / 2 + gap + BOX["width"] / 2
    world.set_objects([RaceObject("box", 1.0, y, 0.0, **BOX)])
    assert collisions(world, 2.0, 30) == [None] * 30
    assert world.car_state.x > 1.5


def test_objects_move_and_disappear(world):
    world.set_objects([RaceObject("box", 0.6, 0.0, 0.0, **BOX)])
    world.set_objects([RaceObject("box", 0.6, 1.0, 0.0, **BOX)])  # moved out of the way
    assert collisions(world, 1.0, 15) == [None] * 15
    world.reset_car(CarState(0.0, 0.0, 0.0))
    world.set_objects(
        [RaceObject("box", 0.6, 1.0, 0.0, **BOX), RaceObject("bot", 0.6, 0.0, 0.0, **BOT)]
    )
    assert 1 in collisions(world, 1.0, 15)
    world.reset_car(CarState(0.0, 0.0, 0.0))
    assert world.collided() is None
    world.set_objects([])
    assert collisions(world, 1.0, 15) == [None] * 15


def test_sim_time_advances_per_control_step(world):
    drive(world, 0.0, 1.0, 15)
    assert world.sim_time == pytest.approx(1.0)
