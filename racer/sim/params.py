"""DeepRacer's reward-function ``params``: the one place that builds them.

:func:`build_params` turns the simulator's state (:class:`ParamsInput`) into the dictionary a
DeepRacer reward function receives, with all 27 keys and DeepRacer's semantics:

``x, y, heading, speed, steering_angle, progress, steps, track_width, track_length,
distance_from_center, is_left_of_center, all_wheels_on_track, is_offtrack, is_crashed,
is_reversed, waypoints, closest_waypoints, closest_objects, objects_location, objects_distance,
objects_heading, objects_speed, objects_left_of_center, projection_distance,
objects_distance_from_center, object_in_camera, sim_time``

Facts users' reward functions rely on (see ``docs/reward-params.md`` for the full table):

* ``x, y`` is the point ``CarSpec.params_point_ahead`` (0.14 m) ahead of the rear-axle base, and
  every track-relative key (distances, waypoints, progress projection) is computed for it.
* ``speed`` and ``steering_angle`` are the *commanded* action, not measured values.
* ``steps`` is a float, as DeepRacer passes it.
* ``closest_waypoints`` are ``[behind, ahead]`` along the track; on a closed loop the index
  ahead of the last distinct point is the repeated closing waypoint (``len(waypoints) - 1``).
* ``objects_distance`` is measured along the centre line from the first waypoint, and
  ``closest_objects`` wraps around the lap (``[0, 0]`` without objects).
* ``objects_heading`` is in radians and 0 for boxes.

Every value is a plain Python type (float, int, bool, list, tuple), never a numpy scalar.
"""

from __future__ import annotations

import bisect
import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState, RaceObject

PARAMS_KEYS: tuple[str, ...] = (
    "x",
    "y",
    "heading",
    "speed",
    "steering_angle",
    "progress",
    "steps",
    "track_width",
    "track_length",
    "distance_from_center",
    "is_left_of_center",
    "all_wheels_on_track",
    "is_offtrack",
    "is_crashed",
    "is_reversed",
    "waypoints",
    "closest_waypoints",
    "closest_objects",
    "objects_location",
    "objects_distance",
    "objects_heading",
    "objects_speed",
    "objects_left_of_center",
    "projection_distance",
    "objects_distance_from_center",
    "object_in_camera",
    "sim_time",
)
"""The 27 keys of DeepRacer's ``params``, in the order :func:`build_params` inserts them."""

# DeepRacer's simulated front camera, as its object-in-camera test models it.
CAMERA_FORWARD = 0.145
"""Camera position ahead of the rear-axle base, metres."""
CAMERA_HEIGHT = 0.13
"""Camera height above the floor, metres."""
CAMERA_PITCH = 0.2618
"""Camera pitch below the horizon, radians (15 degrees)."""
CAMERA_NEAR = 0.2
"""Near clipping distance along the camera axis, metres."""
CAMERA_ASPECT = 480.0 / 640.0
"""Image height over width; sets the vertical field of view from the horizontal one."""
DEFAULT_CAMERA_RANGE = 300.0
"""Far clipping distance along the camera axis, metres (DeepRacer's frustum uses 300 m)."""


@dataclass(frozen=True)
class ParamsInput:
    """Everything :func:`build_params` needs for one control step.

    Attributes:
        track: The track in the direction being driven (``Track.reversed()`` for a reversed race).
        spec: The car's specification (its ``params_point_ahead`` places ``x, y``).
        car: The car's state; ``x, y`` is the rear-axle midpoint.
        steering_deg: Commanded steering angle of the chosen action, degrees, positive = left.
        speed: Commanded speed of the chosen action, m/s.
        steps: Control steps taken in this episode.
        progress: Percent of the lap done since the episode's start, 0-100 (the caller's job).
        all_wheels_on_track: All four wheel contact points inside the borders.
        is_offtrack: All four wheels outside the borders.
        is_crashed: The car hit an obstacle or a bot car.
        is_reversed: The race runs against the track file's waypoint order.
        objects: Obstacles and bot cars (not the car itself).
        sim_time: Simulation clock, seconds.
        camera_hfov: Horizontal field of view of the front camera, radians.
        camera_range: Far clipping distance of the front camera, metres.
    """

    track: Track
    spec: CarSpec
    car: CarState
    steering_deg: float
    speed: float
    steps: int
    progress: float
    all_wheels_on_track: bool
    is_offtrack: bool
    is_crashed: bool
    is_reversed: bool
    objects: tuple[RaceObject, ...]
    sim_time: float
    camera_hfov: float = 1.13
    camera_range: float = DEFAULT_CAMERA_RANGE


@dataclass(frozen=True)
class _TrackFacts:
    """Per-track values computed once: plain-Python waypoints and cumulative distances."""

    waypoints: tuple[tuple[float, float], ...]
    cum: tuple[float, ...]
    length: float
    closed: bool


_FACTS: weakref.WeakKeyDictionary[Track, _TrackFacts] = weakref.WeakKeyDictionary()


def _facts(track: Track) -> _TrackFacts:
    facts = _FACTS.get(track)
    if facts is None:
        cum = [0.0, *np.cumsum(np.hypot(*np.diff(np.asarray(track.waypoints), axis=0).T)).tolist()]
        facts = _TrackFacts(
            waypoints=tuple(track.waypoints),
            cum=tuple(float(c) for c in cum),
            length=track.length,
            closed=track.closed,
        )
        _FACTS[track] = facts
    return facts


def closest_waypoints(track: Track, s: float) -> list[int]:
    """DeepRacer's ``[behind, ahead]`` waypoint indices for a distance ``s`` along the track.

    Args:
        track: The track.
        s: Distance along the centre line from the first waypoint, metres.

    Returns:
        Two indices into ``track.waypoints``.
    """
    f = _facts(track)
    n = len(f.waypoints)
    if f.closed:
        s = s % f.length
    ahead = bisect.bisect_right(f.cum, s)
    ahead = min(max(ahead, 1), n - 1)
    return [ahead - 1, ahead]


def _prev_next(sorted_s: list[float], s: float) -> tuple[int, int]:
    """Positions in ``sorted_s`` just behind and just ahead of ``s``, wrapping around."""
    ahead = bisect.bisect_right(sorted_s, s)
    behind = ahead - 1
    if behind < 0:
        behind = len(sorted_s) - 1
    if ahead == len(sorted_s):
        ahead = 0
    return behind, ahead


def object_in_camera(
    car: CarState, obj: RaceObject, hfov: float = 1.13, camera_range: float = DEFAULT_CAMERA_RANGE
) -> bool:
    """Whether any corner of an object's footprint, or its centre, lies in the camera frustum.

    The frustum is DeepRacer's: a camera ``CAMERA_FORWARD`` ahead of the base at
    ``CAMERA_HEIGHT``, pitched ``CAMERA_PITCH`` down, 4:3 image, clipped at ``CAMERA_NEAR``
    and ``camera_range`` along its axis. Boxes are tested at half their height, bots on the floor.

    Args:
        car: The observing car.
        obj: The object.
        hfov: Horizontal field of view, radians.
        camera_range: Far clipping distance, metres.

    Returns:
        True when the object is (at least partly) in view.
    """
    c, s = math.cos(car.yaw), math.sin(car.yaw)
    cam_x = car.x + CAMERA_FORWARD * c
    cam_y = car.y + CAMERA_FORWARD * s
    tan_h = math.tan(hfov / 2.0)
    tan_v = tan_h * CAMERA_ASPECT
    cp, sp = math.cos(CAMERA_PITCH), math.sin(CAMERA_PITCH)
    dz = (obj.height / 2.0 if obj.kind == "box" else 0.0) - CAMERA_HEIGHT
    oc, os_ = math.cos(obj.yaw), math.sin(obj.yaw)
    hl, hw = obj.length / 2.0, obj.width / 2.0
    for bx, by in ((0.0, 0.0), (hl, hw), (hl, -hw), (-hl, hw), (-hl, -hw)):
        rx = obj.x + bx * oc - by * os_ - cam_x
        ry = obj.y + bx * os_ + by * oc - cam_y
        ahead = rx * c + ry * s
        lateral = -rx * s + ry * c
        depth = ahead * cp - dz * sp
        up = ahead * sp + dz * cp
        if (
            CAMERA_NEAR < depth < camera_range
            and abs(lateral) < tan_h * depth
            and abs(up) < tan_v * depth
        ):
            return True
    return False


def build_params(inp: ParamsInput) -> dict[str, Any]:
    """Build DeepRacer's reward-function ``params`` for one control step.

    Args:
        inp: The step's state.

    Returns:
        A new dictionary with the 27 keys of :data:`PARAMS_KEYS`, plain Python values only.
    """
    track, car, objects = inp.track, inp.car, inp.objects
    facts = _facts(track)
    px, py = car.point_ahead(inp.spec.params_point_ahead)
    pts = np.empty((1 + len(objects), 2))
    pts[0] = px, py
    for i, o in enumerate(objects):
        pts[i + 1] = o.x, o.y
    proj = track.project(pts)
    s_all = proj.s.tolist()
    off_all = proj.offset.tolist()
    s, off = s_all[0], off_all[0]
    heading = math.degrees(car.yaw) % 360.0
    if heading > 180.0:
        heading -= 360.0
    params: dict[str, Any] = {
        "x": float(px),
        "y": float(py),
        "heading": heading,
        "speed": float(inp.speed),
        "steering_angle": float(inp.steering_deg),
        "progress": float(inp.progress),
        "steps": float(inp.steps),
        "track_width": float(proj.left_width[0] + proj.right_width[0]),
        "track_length": facts.length,
        "distance_from_center": abs(off),
        "is_left_of_center": off > 0.0,
        "all_wheels_on_track": bool(inp.all_wheels_on_track),
        "is_offtrack": bool(inp.is_offtrack),
        "is_crashed": bool(inp.is_crashed),
        "is_reversed": bool(inp.is_reversed),
        "waypoints": list(facts.waypoints),
        "closest_waypoints": closest_waypoints(track, s),
    }
    params.update(_object_params(inp, s, s_all[1:], off_all[1:]))
    params["projection_distance"] = s
    params["sim_time"] = float(inp.sim_time)
    return {k: params[k] for k in PARAMS_KEYS}


def _object_params(
    inp: ParamsInput, car_s: float, obj_s: list[float], obj_off: list[float]
) -> dict[str, Any]:
    """The object-related keys; DeepRacer's defaults when there are no objects."""
    objects = inp.objects
    if not objects:
        return {
            "closest_objects": [0, 0],
            "objects_location": [],
            "objects_distance": [],
            "objects_heading": [],
            "objects_speed": [],
            "objects_left_of_center": [],
            "objects_distance_from_center": [],
            "object_in_camera": False,
        }
    order = sorted(range(len(objects)), key=obj_s.__getitem__)
    behind, ahead = _prev_next([obj_s[i] for i in order], car_s)
    nxt = order[ahead]
    return {
        "closest_objects": [order[behind], nxt],
        "objects_location": [[float(o.x), float(o.y)] for o in objects],
        "objects_distance": obj_s,
        "objects_heading": [float(o.yaw) if o.kind == "bot" else 0.0 for o in objects],
        "objects_speed": [float(o.speed) for o in objects],
        "objects_left_of_center": [d > 0.0 for d in obj_off],
        "objects_distance_from_center": [abs(d) for d in obj_off],
        "object_in_camera": object_in_camera(
            inp.car, objects[nxt], inp.camera_hfov, inp.camera_range
        ),
    }
