"""Progress at race speed: ``progress_speed`` with its speed factor squared, for faster laps.

What it teaches: to lap fast once it laps at all. Each step earns the progress gained since
the last step (scaled so that driving at ``FULL_SPEED`` along the centre line earns 1) times
``(0.5 + speed / FULL_SPEED) ** 2`` (0.25 when crawling, 1 at half speed, 2.25 at
``FULL_SPEED``), scaled down when the car points away from the track a little ahead (by half
at 90 degrees), and nothing while a wheel is off the track.
When to use it: time trials, to clone a model that already drives clean laps
(``racer train --clone NAME --reward progress_speed_race``), or from scratch with time to
spare. A lap at 4 m/s earns 2.25 times one at 2 m/s in all (``progress_speed``: 1.5 times),
so the policy keeps its fast laps; slow, careful driving earns little, so the first clean laps
come later than with ``progress_speed``.
(On re:Invent 2018, camera, grip-matched actions, 30 minutes from scratch on a 2-core AVX2
laptop, ``benchmarks/time_to_lap.py --reward progress_speed_race``: seed 0 first clean laps
after 6 minutes, 5.00 s laps from 9 minutes on, 1.16 x the optimal lap; seed 1 after 13
minutes, 5.67 s. ``progress_speed``: 5.47 s after 3 minutes, and 5.93 s after 9.)

Module-level state: the progress of the previous step. It belongs to one episode, so it is
reset whenever ``steps`` does not increase (a new episode has started). Several environments
in one process each load their own copy of the file, so they do not share this state.
"""

import math

FULL_SPEED = 4.0  # m/s, the speed that earns the whole speed bonus (the car's top speed)
STEP_TIME = 1.0 / 15.0  # seconds per control step (15 steps a simulated second)
LOOK_AHEAD = 3  # waypoints ahead used for the heading bonus

_last = {"steps": None, "progress": 0.0}


def _progress_gained(params):
    steps, progress = params["steps"], params["progress"]
    if _last["steps"] is None or steps <= _last["steps"]:
        # A new episode: nothing gained yet on this step.
        _last["progress"] = progress
    gained = progress - _last["progress"]
    _last["steps"], _last["progress"] = steps, progress
    return gained


def _heading_alignment(params):
    """1 when pointing along the track a few waypoints ahead, 0 when at 90 degrees or more."""
    waypoints = params["waypoints"]
    behind, ahead = params["closest_waypoints"]
    target = waypoints[(ahead + LOOK_AHEAD) % len(waypoints)]
    start = waypoints[behind]
    direction = math.degrees(math.atan2(target[1] - start[1], target[0] - start[0]))
    error = abs((params["heading"] - direction + 180.0) % 360.0 - 180.0)
    return max(0.0, math.cos(math.radians(error)))


def reward_function(params):
    gained = _progress_gained(params)  # keep the state up to date on every step
    if params["is_offtrack"] or not params["all_wheels_on_track"]:
        return 1e-3

    metres = gained / 100.0 * params["track_length"]
    pace = max(0.0, min(metres / (FULL_SPEED * STEP_TIME), 1.5))
    alignment = _heading_alignment(params)
    speed = min(params["speed"] / FULL_SPEED, 1.0) * alignment
    return float(1e-3 + pace * (0.5 + speed) ** 2 * (0.5 + 0.5 * alignment))
