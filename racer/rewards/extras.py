"""Extras for reward functions that DeepRacer's ``params`` do not carry: the racing line.

A reward file imports what it needs; ``params`` stay exactly DeepRacer's::

    from racer.rewards.extras import racing_line

    def reward_function(params):
        line = racing_line(params)
        closeness = max(0.0, 1.0 - line["distance"] / (0.5 * params["track_width"]))
        return 1e-3 + closeness

:func:`racing_line` recognises the track from ``params`` alone (its ``waypoints`` and
``track_length``), so it works in any process, including training workers. It looks first among
tracks given to :func:`register_track`, then the built-in and user tracks (each also driven in
reverse); a track it does not find (a generated one, say) is rebuilt from the waypoints with the
``track_width`` of the first call. The first call on a track computes its optimal lap
(:func:`racer.sim.racing_line.optimal_lap` for the default car, one to three seconds); later
calls cost a few microseconds.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from racer.sim.racing_line import RacingLine, optimal_lap
from racer.sim.track import Track
from racer.sim.types import CarSpec

LOOKAHEAD = 0.5
"""Default distance ahead along the line for ``heading_ahead``, metres."""

_SPEC = CarSpec()
_LOCK = threading.Lock()
_REGISTERED: list[Track] = []
_CACHE: dict[tuple[Any, ...], _Lookup] = {}


@dataclass(frozen=True)
class _Lookup:
    """A track's racing line and the narrow track built on it (for projections)."""

    name: str
    line: RacingLine
    path: Track


def register_track(track: Track) -> None:
    """Make a track (and it driven in reverse) known to :func:`racing_line` in this process.

    Needed only for tracks that are neither built in nor saved in the user's track folder,
    when their varying width matters (others are rebuilt from the waypoints).
    """
    with _LOCK:
        _REGISTERED.append(track)


def racing_line(params: Mapping[str, Any], lookahead: float = LOOKAHEAD) -> dict[str, Any]:
    """Where the car is relative to the track's optimal racing line.

    The racing line is the path of the car's rear-axle midpoint; the car's own rear axle is
    found from ``params['x'], params['y']`` (0.14 m ahead of it) and ``params['heading']``.

    Args:
        params: DeepRacer's reward params (``waypoints``, ``track_length``, ``track_width``,
            ``x``, ``y`` and ``heading`` are used; nothing is changed).
        lookahead: Distance ahead along the line for ``heading_ahead``, metres.

    Returns:
        A new dict of plain Python values:

        * ``x``, ``y``: the nearest point of the racing line, metres;
        * ``distance``: the car's distance from the line, metres;
        * ``offset``: the same, signed: positive when the car is left of the line;
        * ``is_left_of_line``: ``offset > 0``;
        * ``speed``: the optimal speed at the nearest point, m/s;
        * ``heading``: the line's direction at the nearest point, degrees (DeepRacer's
          convention: 0 = +x, counter-clockwise, in (-180, 180]);
        * ``heading_ahead``: its direction ``lookahead`` metres further on, degrees;
        * ``heading_error``: ``params['heading'] - heading_ahead``, wrapped to (-180, 180];
        * ``curvature``: the line's curvature at the nearest point, 1/m, positive = left;
        * ``line_distance``: distance along the line from its start, metres;
        * ``line_length``, ``lap_time``: the line's length (m) and its optimal lap time (s);
        * ``track_name``: the track recognised, or ``"waypoints"`` when rebuilt from them.
    """
    look = _lookup(params)
    line, path = look.line, look.path
    yaw_deg = float(params["heading"])
    yaw = math.radians(yaw_deg)
    ahead = _SPEC.params_point_ahead
    rear = np.array(
        [float(params["x"]) - ahead * math.cos(yaw), float(params["y"]) - ahead * math.sin(yaw)]
    )
    proj = path.project(rear)
    s, offset = float(proj.s[0]), float(proj.offset[0])
    near = path.point_at(s)
    heading = math.degrees(float(path.heading_at(s)[0]))
    heading_ahead = math.degrees(float(path.heading_at(s + lookahead)[0]))
    curvature = float(
        np.interp(
            s,
            np.append(line.distances, line.length),
            np.append(line.curvature, line.curvature[0]),
        )
    )
    return {
        "x": float(near[0]),
        "y": float(near[1]),
        "distance": abs(offset),
        "offset": offset,
        "is_left_of_line": offset > 0.0,
        "speed": float(line.speed_at(s)),
        "heading": _wrap_deg(heading),
        "heading_ahead": _wrap_deg(heading_ahead),
        "heading_error": _wrap_deg(yaw_deg - heading_ahead),
        "curvature": curvature,
        "line_distance": s,
        "line_length": line.length,
        "lap_time": line.lap_time,
        "track_name": look.name,
    }


def racing_line_of(params: Mapping[str, Any]) -> RacingLine:
    """The whole :class:`RacingLine` of the track ``params`` belong to (cached)."""
    return _lookup(params).line


def _wrap_deg(angle: float) -> float:
    wrapped = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if wrapped == -180.0 else wrapped


def _key(params: Mapping[str, Any]) -> tuple[Any, ...]:
    """A cheap fingerprint of the track: length, point count and a few points."""
    wp = params["waypoints"]
    n = len(wp)
    picks = tuple(tuple(float(v) for v in wp[i]) for i in (0, n // 3, (2 * n) // 3, n - 2))
    return (round(float(params["track_length"]), 6), n, picks)


def _lookup(params: Mapping[str, Any]) -> _Lookup:
    key = _key(params)
    found = _CACHE.get(key)
    if found is not None:
        return found
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            track, name = _identify(params)
            line = optimal_lap(track)
            found = _Lookup(name, line, line.as_track())
            _CACHE[key] = found
    return found


def _candidates() -> list[Track]:
    from racer.sim.track_registry import get_track, list_tracks
    from racer.sim.trackio import TrackError

    tracks = list(_REGISTERED)
    for info in list_tracks():
        try:
            tracks.append(get_track(str(info.path) if info.path else info.name))
        except TrackError:
            continue
    return tracks


def _identify(params: Mapping[str, Any]) -> tuple[Track, str]:
    """The track whose waypoints ``params`` carry, or one rebuilt from them."""
    wp = np.asarray(params["waypoints"], dtype=np.float64)
    length = float(params["track_length"])
    for base in _candidates():
        for track in (base, base.reversed()):
            if abs(track.length - length) > 1e-6:
                continue
            own = np.asarray(track.waypoints)
            if own.shape == wp.shape and np.allclose(own, wp, atol=1e-6):
                return track, track.name
    closed = len(wp) > 2 and bool(np.allclose(wp[0], wp[-1], atol=1e-9))
    rebuilt = Track.from_centreline("waypoints", wp, float(params["track_width"]), closed=closed)
    return rebuilt, "waypoints"
