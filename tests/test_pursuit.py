"""The scripted pure-pursuit driver laps every DeepRacer track without leaving it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from racer.sim.physics import PhysicsWorld
from racer.sim.pursuit import PurePursuitDriver
from racer.sim.track import Track
from racer.sim.track_registry import builtin_track_names, get_track
from racer.sim.types import CarSpec, CarState

# Every built-in track, and generated ones of several widths and turn radii.
TRACK_FILES = [
    *builtin_track_names(),
    "generated:1",
    "generated:2",
    "generated:3:width=1.07:min_radius=0.6",
    "generated:4:width=0.6:min_radius=0.45",
    "generated:5:min_radius=0.8",
    "generated:6",
    "generated:7:width=0.9",
    "generated:8",
]
SPEC = CarSpec()


def load_track(name: str) -> Track:
    return get_track(name)


def load_reinvent() -> Track:
    return load_track("reinvent_base")


def run_lap(track: Track, driver: PurePursuitDriver, max_steps: int = 3000) -> tuple[float, float]:
    """Drive one lap from the start line.

    Returns:
        (lap time in seconds, smallest distance of any wheel inside the borders in metres).
    """
    world = PhysicsWorld(SPEC)
    x, y = track.point_at(0.0)
    world.reset_car(CarState(float(x), float(y), float(track.heading_at(0.0)[0])))
    state = world.car_state
    s_prev, progress, margin = 0.0, 0.0, math.inf
    try:
        for _ in range(max_steps):
            steer_deg, speed = driver.act(state)
            state = world.step(math.radians(steer_deg), speed)
            wheels = track.project(state.body_to_world(SPEC.wheel_offsets()))
            assert wheels.inside.all(), f"wheel off track at t={world.sim_time:.2f}s"
            margin = min(margin, float(np.min(wheels.left_width - wheels.offset)))
            margin = min(margin, float(np.min(wheels.right_width + wheels.offset)))
            s = float(track.project(np.array([state.x, state.y])).s[0])
            half = track.length / 2
            progress += (s - s_prev + half) % track.length - half
            s_prev = s
            if progress >= track.length:
                return world.sim_time, margin
    finally:
        world.close()
    raise AssertionError(f"lap not completed in {max_steps} steps (progress {progress:.2f} m)")


@pytest.mark.parametrize("name", TRACK_FILES)
def test_speed_profile_laps_every_track_inside_the_borders(name):
    track = load_track(name)
    lap_time, margin = run_lap(track, PurePursuitDriver(track, SPEC))
    assert margin > 0.05
    # Faster than 1 m/s on average, slower than top speed everywhere.
    assert track.length / SPEC.max_speed < lap_time < track.length / 1.0


def test_constant_speed_lap_of_reinvent_2018():
    track = load_reinvent()
    lap_time, _ = run_lap(track, PurePursuitDriver(track, SPEC, speed=1.0))
    assert lap_time == pytest.approx(track.length / 1.0, rel=0.05)


def test_speed_profile_respects_limits_and_slows_for_corners():
    track = load_reinvent()
    driver = PurePursuitDriver(track, SPEC, max_lateral_accel=5.0)
    assert driver.profile.min() >= SPEC.min_speed
    assert driver.profile.max() <= SPEC.max_speed
    k = np.abs(track.curvature())
    tight, straight = np.argmax(k), np.argmin(k)
    assert driver.profile[tight] < driver.profile[straight]
    assert driver.profile[tight] < SPEC.max_speed


def test_steering_is_clipped_and_signed():
    track = load_reinvent()
    driver = PurePursuitDriver(track, SPEC, speed=1.0)
    x, y = track.point_at(0.0)
    heading = float(track.heading_at(0.0)[0])
    steer, speed = driver.act(CarState(float(x), float(y), heading + math.pi / 2))
    assert steer == pytest.approx(-SPEC.max_steering_deg)  # facing left of the track: go right
    steer, _ = driver.act(CarState(float(x), float(y), heading - math.pi / 2))
    assert steer == pytest.approx(SPEC.max_steering_deg)
    assert speed == 1.0
