"""racer.rewards.extras.racing_line: the racing line seen from a reward function's params."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from racer.rewards.extras import racing_line, racing_line_of, register_track
from racer.sim.params import ParamsInput, build_params
from racer.sim.track import Track
from racer.sim.track_registry import get_track
from racer.sim.types import CarSpec, CarState

SPEC = CarSpec()


def params_at(track: Track, x: float, y: float, yaw: float, speed: float = 2.0) -> dict:
    """Params for a car whose rear axle is at (x, y), heading ``yaw`` radians."""
    car = CarState(x, y, yaw, vx=speed)
    return build_params(
        ParamsInput(
            track=track, spec=SPEC, car=car, steering_deg=0.0, speed=speed, steps=2,
            progress=0.0, all_wheels_on_track=True, is_offtrack=False, is_crashed=False,
            is_reversed=bool(track.metadata.get("reversed", False)), objects=(), sim_time=0.0,
        )
    )  # fmt: skip


def on_line_params(track: Track, index: int) -> tuple[dict, dict]:
    line = racing_line_of(params_at(track, *track.centre[0], 0.0))
    path = line.as_track()
    x, y = line.points[index]
    yaw = float(path.heading_at(line.distances[index] + 0.5)[0])
    return params_at(track, float(x), float(y), yaw), {"speed": float(line.speeds[index])}


def test_a_car_on_the_racing_line() -> None:
    track = get_track("reinvent_base")
    for index in (0, 100, 250):
        params, expected = on_line_params(track, index)
        info = racing_line(params)
        assert info["track_name"] == "reinvent_base"
        assert info["distance"] < 0.01
        assert info["speed"] == pytest.approx(expected["speed"], rel=0.02)
        assert abs(info["heading_error"]) < 3.0
        assert 0.5 < info["speed"] <= 4.0
        assert info["lap_time"] == pytest.approx(racing_line_of(params).lap_time)


def test_a_car_beside_the_line_and_the_params_untouched() -> None:
    track = get_track("reinvent_base")
    params, _ = on_line_params(track, 40)
    yaw = math.radians(params["heading"])
    normal = np.array([-math.sin(yaw), math.cos(yaw)])
    rear = np.array([params["x"], params["y"]]) - SPEC.params_point_ahead * np.array(
        [math.cos(yaw), math.sin(yaw)]
    )
    moved = rear + 0.2 * normal
    params = params_at(track, float(moved[0]), float(moved[1]), yaw)
    before = copy.deepcopy(params)
    info = racing_line(params)
    assert params == before
    assert info["offset"] == pytest.approx(0.2, abs=0.02) and info["is_left_of_line"]
    assert info["distance"] == pytest.approx(abs(info["offset"]))
    near = np.array([info["x"], info["y"]])
    assert np.linalg.norm(near - moved) == pytest.approx(info["distance"], abs=0.005)
    assert -180.0 < info["heading"] <= 180.0 and -180.0 < info["heading_ahead"] <= 180.0
    assert all(type(v) in (float, bool, str) for v in info.values())


def test_reversed_track_is_recognised() -> None:
    track = get_track("reinvent_base:reverse")
    info = racing_line(params_at(track, *track.centre[5], float(track.heading_at(0.5)[0])))
    assert info["track_name"] == "reinvent_base:reverse"


def test_unknown_tracks_are_rebuilt_from_waypoints_or_registered() -> None:
    t = np.linspace(0.0, 2.0 * math.pi, 200, endpoint=False)
    centre = np.stack([2.0 * np.cos(t), 1.3 * np.sin(t)], axis=1)
    ellipse = Track.from_centreline("my_ellipse", centre, 0.9)
    params = params_at(ellipse, 2.0, 0.0, math.pi / 2)
    info = racing_line(params)
    assert info["track_name"] == "waypoints"
    assert info["lap_time"] < racing_line_of(params).centre_lap_time

    other = Track.from_centreline("my_ellipse_2", centre * 1.1, 0.9)
    register_track(other)
    assert racing_line(params_at(other, 2.2, 0.0, math.pi / 2))["track_name"] == "my_ellipse_2"
