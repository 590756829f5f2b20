"""``racer reward check``: run a reward function through a scripted lap, before training on it.

DeepRacer's "validate" button only called the function once with made-up params. This check
drives the car *kinematically* (poses placed along the track, no physics) at a chosen speed and
control rate through a set of situations, builds real params for each step with
:func:`racer.sim.params.build_params`, and calls the reward function:

========================  ===================================================================
situation                 what the car does
========================  ===================================================================
``centre``                a lap on the centre line, heading along the track
``left_border``           a lap with its left wheels just inside the left border
``right_border``          a lap with its right wheels just inside the right border
``weaving``               a lap swerving from side to side, heading up to 20 degrees off
``off_track``             beside the track, all wheels outside (``is_offtrack`` True)
``wrong_way``             on the centre line, driving against the direction of travel
``reversed_track``        a lap of the track raced in reverse (``is_reversed`` True)
``objects_avoiding``      boxes in alternating lanes; the car drives in the free lane
``objects_blocked``       the same boxes; the car stays in the next box's lane
``crashed``               touching a box (``is_crashed`` True)
========================  ===================================================================

Each situation is a new episode (``steps`` restarts at 2, the first step DeepRacer rewards).
The report holds per-situation statistics, the first error of each situation (with file and
line) and warnings about rewards that cannot teach what their author wants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from racer.rewards.loader import RewardFunction, RewardFunctionError, load_reward_function
from racer.sim.params import ParamsInput, build_params
from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState, RaceObject

FloatArray = NDArray[np.float64]

BOX_LENGTH = 0.24
BOX_WIDTH = 0.39
BOX_HEIGHT = 0.2
NUM_BOXES = 4
BORDER_MARGIN = 0.03  # wheel-to-border gap in the border situations, metres
OFF_TRACK_GAP = 0.25  # car centre beyond the border in the off-track situation, metres
MAX_STEPS = 3000  # per situation


@dataclass(frozen=True)
class SituationStats:
    """Rewards collected in one situation.

    Attributes:
        name: Situation name, e.g. ``"centre"``.
        description: What the car does in it.
        count: Rewards collected (steps before the first error).
        minimum: Smallest reward, or None without any.
        mean: Mean reward, or None.
        maximum: Largest reward, or None.
        zero_fraction: Fraction of rewards equal to 0.
        negative_fraction: Fraction of rewards below 0.
        error: The first error's message (names file and line), or None.
        error_line: Line in the reward file of the first error, if known.
    """

    name: str
    description: str
    count: int
    minimum: float | None
    mean: float | None
    maximum: float | None
    zero_fraction: float
    negative_fraction: float
    error: str | None = None
    error_line: int | None = None


@dataclass(frozen=True)
class CheckReport:
    """The result of :func:`check_reward`.

    Attributes:
        reward_path: The reward file.
        track_name: The track driven.
        speed: Commanded speed of the scripted laps, m/s.
        rate_hz: Control steps per second.
        situations: Statistics per situation, in the order they ran.
        warnings: Sanity warnings in plain words.
    """

    reward_path: Path
    track_name: str
    speed: float
    rate_hz: float
    situations: tuple[SituationStats, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def errors(self) -> list[tuple[str, str]]:
        """``(situation, message)`` for every situation that stopped on an error."""
        return [(s.name, s.error) for s in self.situations if s.error is not None]

    @property
    def ok(self) -> bool:
        """True when no situation raised an error (warnings allowed)."""
        return not self.errors

    def situation(self, name: str) -> SituationStats:
        """Statistics of one situation by name."""
        for s in self.situations:
            if s.name == name:
                return s
        raise KeyError(f"no situation {name!r}; have {[s.name for s in self.situations]}")


@dataclass(frozen=True)
class _Step:
    car: CarState
    steering_deg: float
    travelled: float
    crashed: bool = False


@dataclass(frozen=True)
class _Situation:
    name: str
    description: str
    track: Track
    steps: list[_Step]
    objects: tuple[RaceObject, ...] = ()
    is_reversed: bool = False
    only_off_track: bool = False


# ---------------------------------------------------------------------------------- geometry
def _steering(track: Track, s: FloatArray, wheelbase: float) -> FloatArray:
    """Commanded steering (degrees) that follows the centre line's curvature at ``s``."""
    h = 0.25
    turn = track.heading_at(s + h) - track.heading_at(s - h)
    turn = (turn + np.pi) % (2 * np.pi) - np.pi
    return np.clip(np.degrees(np.arctan(wheelbase * turn / (2 * h))), -30.0, 30.0)


def _widths(track: Track, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    proj = track.project(track.point_at(s))
    return proj.left_width, proj.right_width


def _poses(
    track: Track,
    s: FloatArray,
    offset: FloatArray,
    dyaw: FloatArray | float,
    steering: FloatArray,
    travelled: FloatArray,
) -> list[_Step]:
    pos = track.point_at(s, offset)
    yaw = track.heading_at(s) + dyaw
    return [
        _Step(CarState(float(p[0]), float(p[1]), float(a)), float(st), float(tr))
        for p, a, st, tr in zip(pos, yaw, steering, travelled, strict=True)
    ]


# ---------------------------------------------------------------------------------- situations
def _lap_samples(track: Track, speed: float, rate_hz: float) -> tuple[FloatArray, FloatArray]:
    """Distances along one lap at the scripted speed, and the distance travelled at each."""
    ds = speed / rate_hz
    n = min(max(int(track.length / ds), 2), MAX_STEPS)
    travelled = ds * np.arange(1, n + 1, dtype=np.float64)
    s = travelled % track.length if track.closed else np.minimum(travelled, track.length)
    return np.asarray(s, dtype=np.float64), travelled


def _lap_situations(track: Track, spec: CarSpec, speed: float, rate_hz: float) -> list[_Situation]:
    s, travelled = _lap_samples(track, speed, rate_hz)
    steer = _steering(track, s, spec.wheelbase)
    lw, rw = _widths(track, s)
    half_car = spec.track_width / 2.0
    zero = np.zeros_like(s)
    wave = np.sin(2 * np.pi * travelled / 2.0)
    side = np.where(np.floor(travelled / 1.5) % 2 == 0, 1.0, -1.0)
    rev = track.reversed()
    rs, rtrav = _lap_samples(rev, speed, rate_hz)
    wrong_s = (-travelled) % track.length if track.closed else np.maximum(-travelled, 0.0)
    return [
        _Situation(
            "centre", "on the centre line", track, _poses(track, s, zero, 0.0, steer, travelled)
        ),
        _Situation(
            "left_border",
            "left wheels just inside the left border",
            track,
            _poses(track, s, lw - half_car - BORDER_MARGIN, 0.0, steer, travelled),
        ),
        _Situation(
            "right_border",
            "right wheels just inside the right border",
            track,
            _poses(track, s, -(rw - half_car - BORDER_MARGIN), 0.0, steer, travelled),
        ),
        _Situation(
            "weaving",
            "swerving side to side, heading up to 20 deg off",
            track,
            _poses(
                track,
                s,
                0.4 * lw * wave,
                np.radians(20.0) * np.cos(2 * np.pi * travelled / 2.0),
                steer + 20.0 * np.cos(2 * np.pi * travelled / 2.0),
                travelled,
            ),
        ),
        _Situation(
            "off_track",
            "beside the track, all wheels outside",
            track,
            _poses(
                track,
                s,
                side * (np.where(side > 0, lw, rw) + OFF_TRACK_GAP),
                0.0,
                steer,
                travelled,
            ),
            only_off_track=True,
        ),
        _Situation(
            "wrong_way",
            "driving against the direction of travel",
            track,
            _poses(track, wrong_s, zero, np.pi, -steer, -travelled),
        ),
        _Situation(
            "reversed_track",
            "racing the track in reverse (is_reversed)",
            rev,
            _poses(rev, rs, np.zeros_like(rs), 0.0, _steering(rev, rs, spec.wheelbase), rtrav),
            is_reversed=True,
        ),
    ]


def _boxes(track: Track) -> tuple[tuple[RaceObject, ...], FloatArray, FloatArray]:
    """Boxes evenly spaced along the lap in alternating lanes; their s and lane offsets."""
    s = track.length * (np.arange(NUM_BOXES) + 0.5) / NUM_BOXES
    lw, rw = _widths(track, s)
    lane = np.where(np.arange(NUM_BOXES) % 2 == 0, lw / 2.0, -rw / 2.0)
    pos = track.point_at(s, lane)
    yaw = track.heading_at(s)
    boxes = tuple(
        RaceObject("box", float(p[0]), float(p[1]), float(a), BOX_LENGTH, BOX_WIDTH, BOX_HEIGHT)
        for p, a in zip(pos, yaw, strict=True)
    )
    return boxes, s, lane


def _object_situations(
    track: Track, spec: CarSpec, speed: float, rate_hz: float
) -> list[_Situation]:
    boxes, box_s, box_lane = _boxes(track)
    s, travelled = _lap_samples(track, speed, rate_hz)
    steer = _steering(track, s, spec.wheelbase)
    nxt = np.searchsorted(box_s, s, side="right") % NUM_BOXES
    front = spec.body_length - spec.rear_overhang  # base to front bumper
    gap = (box_s[nxt] - s) % track.length - BOX_LENGTH / 2.0 - front
    keep = gap > 0.3
    crash_s = (box_s - BOX_LENGTH / 2.0 - front - 0.01) % track.length
    crash_s = np.repeat(crash_s, 5)
    crash_lane = np.repeat(box_lane, 5)
    crash_steps = _poses(track, crash_s, crash_lane, 0.0, np.zeros_like(crash_s), crash_s)
    return [
        _Situation(
            "objects_avoiding",
            f"{NUM_BOXES} boxes; driving in the free lane",
            track,
            _poses(track, s, -0.7 * box_lane[nxt], 0.0, steer, travelled),
            objects=boxes,
        ),
        _Situation(
            "objects_blocked",
            "staying in the next box's lane",
            track,
            _poses(track, s[keep], box_lane[nxt][keep], 0.0, steer[keep], travelled[keep]),
            objects=boxes,
        ),
        _Situation(
            "crashed",
            "touching a box (is_crashed)",
            track,
            [_Step(st.car, 0.0, st.travelled, crashed=True) for st in crash_steps],
            objects=boxes,
        ),
    ]


# ---------------------------------------------------------------------------------- running
def _wheel_flags(sit: _Situation, spec: CarSpec) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(all wheels on track, all wheels off track) for every step of a situation."""
    if not sit.steps:
        empty = np.zeros(0, dtype=bool)
        return empty, empty
    offsets = spec.wheel_offsets()
    wheels = np.vstack([st.car.body_to_world(offsets) for st in sit.steps])
    inside = sit.track.project(wheels).inside.reshape(len(sit.steps), len(offsets))
    on: NDArray[np.bool_] = np.all(inside, axis=1)
    off: NDArray[np.bool_] = ~np.any(inside, axis=1)
    return on, off


def _run_situation(
    rf: RewardFunction, sit: _Situation, spec: CarSpec, speed: float, rate_hz: float
) -> SituationStats:
    on_track, off_track = _wheel_flags(sit, spec)
    rewards: list[float] = []
    error: RewardFunctionError | None = None
    step = 2
    for st, on, off in zip(sit.steps, on_track, off_track, strict=True):
        if sit.only_off_track and not off:
            continue
        inp = ParamsInput(
            track=sit.track,
            spec=spec,
            car=st.car,
            steering_deg=st.steering_deg,
            speed=speed,
            steps=step,
            progress=float(np.clip(100.0 * st.travelled / sit.track.length, -100.0, 100.0)),
            all_wheels_on_track=bool(on),
            is_offtrack=bool(off),
            is_crashed=st.crashed,
            is_reversed=sit.is_reversed,
            objects=sit.objects,
            sim_time=step / rate_hz,
        )
        try:
            rewards.append(rf(build_params(inp), step))
        except RewardFunctionError as exc:
            error = exc
            break
        step += 1
    return _stats(sit, rewards, error)


def _stats(
    sit: _Situation, rewards: list[float], error: RewardFunctionError | None
) -> SituationStats:
    r = np.asarray(rewards, dtype=np.float64)
    have = len(r) > 0
    return SituationStats(
        name=sit.name,
        description=sit.description,
        count=len(r),
        minimum=float(r.min()) if have else None,
        mean=float(r.mean()) if have else None,
        maximum=float(r.max()) if have else None,
        zero_fraction=float(np.mean(r == 0.0)) if have else 0.0,
        negative_fraction=float(np.mean(r < 0.0)) if have else 0.0,
        error=str(error) if error is not None else None,
        error_line=error.line if error is not None else None,
    )


# ---------------------------------------------------------------------------------- warnings
_COMPARISONS: tuple[tuple[str, str, str], ...] = (
    (
        "off_track",
        "centre",
        "reward off-track (mean {a:.4g}) is higher than on the centre line"
        " (mean {b:.4g}): the car will learn to leave the track",
    ),
    (
        "wrong_way",
        "centre",
        "reward for driving the wrong way (mean {a:.4g}) is higher than for"
        " driving forward on the centre line (mean {b:.4g})",
    ),
    (
        "crashed",
        "objects_avoiding",
        "reward after a crash (mean {a:.4g}) is higher than while"
        " avoiding the boxes (mean {b:.4g})",
    ),
)


def _higher(a: float, b: float) -> bool:
    """``a`` is clearly above ``b`` (by more than 1 % of ``|b|``; ties are not warned about)."""
    return a > b + 0.01 * abs(b) + 1e-12


def _warnings(situations: list[SituationStats]) -> list[str]:
    by_name = {s.name: s for s in situations}
    out: list[str] = []
    values = [(s.minimum, s.maximum) for s in situations if s.count]
    if values:
        lo = min(v[0] for v in values if v[0] is not None)
        hi = max(v[1] for v in values if v[1] is not None)
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            out.append(
                f"reward is constant ({hi:g}) in every situation checked: it cannot teach anything"
            )
    for worse, better, text in _COMPARISONS:
        a, b = by_name.get(worse), by_name.get(better)
        if a and b and a.mean is not None and b.mean is not None and _higher(a.mean, b.mean):
            out.append(text.format(a=a.mean, b=b.mean))
    centre = by_name.get("centre")
    if centre and centre.count and centre.zero_fraction == 1.0:
        out.append("reward is 0 at every step on the centre line")
    return out


def check_reward(
    reward: str | Path | RewardFunction,
    track: Track,
    *,
    speed: float = 1.0,
    rate_hz: float = 15.0,
    spec: CarSpec | None = None,
    progress: Callable[[str], None] | None = None,
) -> CheckReport:
    """Drive scripted laps through every situation and collect reward statistics.

    Args:
        reward: A reward file or an already loaded reward function.
        track: The track to drive.
        speed: Commanded speed of the scripted laps, m/s.
        rate_hz: Control steps per simulated second.
        spec: The car (default :class:`CarSpec`).
        progress: Called with each situation's name before it runs.

    Returns:
        The report; ``report.ok`` is False when any situation raised an error.

    Raises:
        RewardLoadError: The reward file cannot be loaded.
    """
    if speed <= 0 or rate_hz <= 0:
        raise ValueError(f"speed and rate_hz must be positive, got {speed} and {rate_hz}")
    rf = reward if isinstance(reward, RewardFunction) else load_reward_function(reward)
    car = spec or CarSpec()
    situations = _lap_situations(track, car, speed, rate_hz)
    situations += _object_situations(track, car, speed, rate_hz)
    stats: list[SituationStats] = []
    for sit in situations:
        if progress is not None:
            progress(sit.name)
        stats.append(_run_situation(rf, sit, car, speed, rate_hz))
    return CheckReport(
        reward_path=rf.path,
        track_name=track.name,
        speed=speed,
        rate_hz=rate_hz,
        situations=tuple(stats),
        warnings=tuple(_warnings(stats)),
    )


__all__ = ["CheckReport", "SituationStats", "check_reward"]
