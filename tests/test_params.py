"""DeepRacer params against hand-computed values on a 10 m x 4 m rectangle and on re:Invent 2018."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from racer.sim.params import PARAMS_KEYS, ParamsInput, build_params, object_in_camera
from racer.sim.track import Track
from racer.sim.track_registry import get_track
from racer.sim.types import CarSpec, CarState, RaceObject


def rectangle() -> Track:
    """Counter-clockwise 10 m x 4 m loop, one waypoint a metre, 1 m wide.

    Waypoint k lies k metres along the centre line: 0-10 along y=0 (+x), 10-14 up x=10,
    14-24 back along y=4 (-x), 24-28 down x=0. Left is the inside of the rectangle.
    """
    pts = (
        [(float(x), 0.0) for x in range(10)]
        + [(10.0, float(y)) for y in range(4)]
        + [(float(x), 4.0) for x in range(10, 0, -1)]
        + [(0.0, float(y)) for y in range(4, 0, -1)]
    )
    return Track.from_centreline("rect", np.array(pts), 1.0)


def params_at(
    track: Track,
    x: float,
    y: float,
    yaw: float,
    objects: tuple[RaceObject, ...] = (),
    **kw: Any,
) -> dict[str, Any]:
    inp = ParamsInput(
        track=track,
        spec=CarSpec(),
        car=CarState(x, y, yaw),
        steering_deg=kw.get("steering_deg", 12.5),
        speed=kw.get("speed", 1.5),
        steps=kw.get("steps", 7),
        progress=kw.get("progress", 33.0),
        all_wheels_on_track=True,
        is_offtrack=False,
        is_crashed=False,
        is_reversed=kw.get("is_reversed", False),
        objects=objects,
        sim_time=kw.get("sim_time", 0.4),
        camera_range=kw.get("camera_range", 300.0),
    )
    return build_params(inp)


def box(x: float, y: float, size: float = 0.2) -> RaceObject:
    return RaceObject("box", x, y, 0.0, size, size, 0.2)


def assert_plain(value: Any) -> None:
    assert not isinstance(value, np.generic | np.ndarray), type(value)
    if isinstance(value, list | tuple):
        for v in value:
            assert_plain(v)
    else:
        assert type(value) in (float, int, bool), type(value)


def test_keys_and_plain_types() -> None:
    p = params_at(rectangle(), 3.0, 0.2, 0.0, (box(6.0, 0.25),))
    assert len(PARAMS_KEYS) == 27 == len(set(PARAMS_KEYS))
    assert tuple(p) == PARAMS_KEYS
    for key, value in p.items():
        assert_plain(value), key
    assert isinstance(p["steps"], float) and p["steps"] == 7.0
    assert all(isinstance(i, int) for i in p["closest_waypoints"] + p["closest_objects"])


def test_point_ahead_and_track_relative_values() -> None:
    p = params_at(rectangle(), 3.0, 0.2, 0.0)
    assert p["x"] == pytest.approx(3.14) and p["y"] == pytest.approx(0.2)
    assert p["heading"] == pytest.approx(0.0)
    assert p["track_width"] == pytest.approx(1.0)
    assert p["track_length"] == pytest.approx(28.0)
    assert p["distance_from_center"] == pytest.approx(0.2)
    assert p["is_left_of_center"] is True
    assert p["closest_waypoints"] == [3, 4]
    assert p["projection_distance"] == pytest.approx(3.14)
    assert (p["speed"], p["steering_angle"], p["progress"], p["sim_time"]) == (1.5, 12.5, 33.0, 0.4)


def test_heading_and_right_of_centre() -> None:
    p = params_at(rectangle(), 2.0, -0.3, 0.5)
    assert p["x"] == pytest.approx(2.0 + 0.14 * math.cos(0.5))
    assert p["y"] == pytest.approx(-0.3 + 0.14 * math.sin(0.5))
    assert p["heading"] == pytest.approx(math.degrees(0.5))
    assert p["distance_from_center"] == pytest.approx(0.3 - 0.14 * math.sin(0.5))
    assert p["is_left_of_center"] is False
    assert p["closest_waypoints"] == [2, 3]


@pytest.mark.parametrize("yaw", [math.pi, -math.pi, 3 * math.pi])
def test_heading_range_is_minus_180_exclusive_to_180(yaw: float) -> None:
    # Top edge, driving -x, 0.1 m outside the loop: right of the centre line.
    p = params_at(rectangle(), 5.0, 4.1, yaw)
    assert p["heading"] == pytest.approx(180.0)
    assert p["x"] == pytest.approx(4.86)
    assert p["distance_from_center"] == pytest.approx(0.1)
    assert p["is_left_of_center"] is False
    assert p["projection_distance"] == pytest.approx(19.14)
    assert p["closest_waypoints"] == [19, 20]


def test_closest_waypoints_wrap_to_the_repeated_closing_point() -> None:
    track = rectangle()
    p = params_at(track, 0.0, 0.5, -math.pi / 2)
    assert p["heading"] == pytest.approx(-90.0)
    assert p["projection_distance"] == pytest.approx(27.64)
    assert len(p["waypoints"]) == 29 and p["waypoints"][0] == p["waypoints"][-1]
    assert p["closest_waypoints"] == [27, 28]


def test_closest_waypoints_on_an_open_track_stay_in_range() -> None:
    track = Track.from_centreline(
        "line", np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]]), 1.0, closed=False
    )
    assert params_at(track, 0.5, 0.0, 0.0)["closest_waypoints"] == [0, 1]
    assert params_at(track, 4.0, 0.0, 0.0)["closest_waypoints"] == [2, 3]
    assert len(params_at(track, 1.0, 0.0, 0.0)["waypoints"]) == 4


def test_objects_params() -> None:
    objects = (box(6.0, 0.25), box(10.25, 2.0), box(3.0, 3.8))
    p = params_at(rectangle(), 7.86, 0.0, 0.0, objects)
    assert p["objects_location"] == [[6.0, 0.25], [10.25, 2.0], [3.0, 3.8]]
    assert p["objects_distance"] == pytest.approx([6.0, 12.0, 21.0])
    assert p["objects_distance_from_center"] == pytest.approx([0.25, 0.25, 0.2])
    assert p["objects_left_of_center"] == [True, False, True]
    assert p["objects_heading"] == [0.0, 0.0, 0.0]
    assert p["objects_speed"] == [0.0, 0.0, 0.0]
    assert p["closest_objects"] == [0, 1]


def test_closest_objects_wrap_around_and_follow_the_given_order() -> None:
    objects = (box(3.0, 3.8), box(6.0, 0.25), box(10.25, 2.0))  # s = 21, 6, 12
    # Car at s = 3.14: behind it is the last object of the lap (s = 21), ahead the one at s = 6.
    assert params_at(rectangle(), 3.0, 0.2, 0.0, objects)["closest_objects"] == [0, 1]
    # Car at s = 22: behind s = 21, ahead wraps to s = 6.
    assert params_at(rectangle(), 2.14, 4.0, math.pi, objects)["closest_objects"] == [0, 1]
    # Car at s = 15: behind s = 12, ahead s = 21.
    assert params_at(rectangle(), 9.14, 4.0, math.pi, objects)["closest_objects"] == [2, 0]


def test_no_objects_defaults() -> None:
    p = params_at(rectangle(), 3.0, 0.2, 0.0)
    assert p["closest_objects"] == [0, 0]
    for key in (
        "objects_location",
        "objects_distance",
        "objects_heading",
        "objects_speed",
        "objects_left_of_center",
        "objects_distance_from_center",
    ):
        assert p[key] == []
    assert p["object_in_camera"] is False


def test_bot_heading_in_radians_and_speed() -> None:
    bot = RaceObject("bot", 6.0, -0.25, 0.3, 0.32, 0.2, 0.14, speed=1.2)
    p = params_at(rectangle(), 3.0, 0.2, 0.0, (bot,))
    assert p["objects_heading"] == [0.3] and p["objects_speed"] == [1.2]
    assert p["objects_left_of_center"] == [False]


def test_object_in_camera_uses_the_next_object() -> None:
    track = rectangle()
    objects = (box(6.0, 0.25), box(10.25, 2.0))
    assert params_at(track, 3.0, 0.2, 0.0, objects)["object_in_camera"] is True
    # Facing across the track: the next object (s = 6) is 90 degrees to the right.
    assert params_at(track, 3.0, 0.2, math.pi / 2, objects)["object_in_camera"] is False
    # Beyond the camera's range.
    assert params_at(track, 3.0, 0.2, 0.0, objects, camera_range=2.0)["object_in_camera"] is False
    # Past the first box the next one is up the right edge, about 50 degrees to the left.
    assert params_at(track, 8.5, 0.0, 0.0, objects)["object_in_camera"] is False


def test_object_in_camera_field_of_view_edges() -> None:
    car = CarState(0.0, 0.0, 0.0)
    cam_x = 0.145

    def at(angle_deg: float, dist: float = 2.0) -> bool:
        a = math.radians(angle_deg)
        tiny = RaceObject(
            "bot", cam_x + dist * math.cos(a), dist * math.sin(a), 0.0, 0.001, 0.001, 0.1
        )
        return object_in_camera(car, tiny)

    # On the floor, 2 m out, the pitched camera sees about +-31.5 degrees.
    assert at(0.0) and at(30.0) and at(-30.0)
    assert not at(33.0) and not at(-33.0)
    assert not at(180.0)
    assert not at(0.0, dist=0.05)  # closer than the near plane


def test_returned_lists_are_fresh() -> None:
    track = rectangle()
    p = params_at(track, 3.0, 0.2, 0.0)
    p["waypoints"].clear()
    assert len(params_at(track, 3.0, 0.2, 0.0)["waypoints"]) == 29


def test_reversed_track_waypoints_and_flag() -> None:
    track = rectangle().reversed()
    p = params_at(track, 3.0, -0.2, math.pi, is_reversed=True)
    assert p["is_reversed"] is True
    assert p["waypoints"][0] == (0.0, 0.0) and p["waypoints"][1] == (0.0, 1.0)
    # Driving -x along y=0 the outside of the loop (y < 0) is on the car's left.
    assert p["is_left_of_center"] is True
    assert p["projection_distance"] == pytest.approx(28.0 - 2.86)


def test_reinvent_2018() -> None:
    track = get_track("reinvent_base")
    x, y = track.point_at(4.0)
    yaw = float(track.heading_at(4.0)[0])
    p = params_at(track, float(x), float(y), yaw)
    assert p["track_length"] == pytest.approx(17.709, abs=1e-3)
    # The file's rows, closing row included (119 for this file): DeepRacer passes them all.
    assert len(p["waypoints"]) == 119
    assert p["waypoints"][0] == p["waypoints"][-1]
    np.testing.assert_allclose(p["waypoints"][0], (3.05973351, 0.68265541), atol=1e-8)
    np.testing.assert_allclose(p["waypoints"][1], (3.2095089, 0.68313448), atol=1e-8)
    assert p["track_width"] == pytest.approx(0.762, abs=2e-3)
    assert p["projection_distance"] == pytest.approx(4.14, abs=5e-3)  # a gentle curve here
    behind, ahead = p["closest_waypoints"]
    assert ahead == behind + 1
    wp = np.array(p["waypoints"])
    seg = np.cumsum(np.r_[0.0, np.hypot(*np.diff(wp, axis=0).T)])
    assert seg[behind] <= p["projection_distance"] < seg[ahead]
