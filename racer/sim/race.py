"""Race types: time trial, object avoidance (boxes) and head-to-bot (scripted bot cars).

Each race type is a registered class that places and moves the race's objects. Add one with
:func:`register_race_type`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from racer.sim.track import Track
from racer.sim.types import RaceObject

BOX_LENGTH = 0.24
BOX_WIDTH = 0.39
BOX_HEIGHT = 0.2
BOT_LENGTH = 0.32
BOT_WIDTH = 0.2
BOT_HEIGHT = 0.14
BOT_SHADE = 160  # camera gray of bot cars; boxes are lighter (200), see racer.sim.topdown


@dataclass(frozen=True)
class ObstacleConfig:
    """Boxes for object avoidance.

    Attributes:
        count: Number of boxes, 1-6.
        randomize: New random places (and lanes) each episode instead of fixed ones.
        positions: Fixed places as (fraction of the lap, lane) pairs, lane ``"left"`` or
            ``"right"``; empty means evenly spaced, alternating lanes.
        min_gap: Smallest distance along the track between random boxes, metres.
    """

    count: int = 3
    randomize: bool = False
    positions: tuple[tuple[float, str], ...] = ()
    min_gap: float = 2.0


@dataclass(frozen=True)
class BotConfig:
    """Scripted bot cars for head-to-bot.

    Attributes:
        count: Number of bots, 1-6.
        speed: Bot speed, m/s (0.2-6).
        lane_change: Whether bots change lanes.
        lane_change_interval: Seconds between lane changes, per bot (jittered).
        lane_change_time: Seconds a lane change takes.
    """

    count: int = 3
    speed: float = 1.0
    lane_change: bool = False
    lane_change_interval: float = 5.0
    lane_change_time: float = 1.0


@dataclass(frozen=True)
class RaceConfig:
    """Which race and its settings."""

    race_type: str = "time_trial"
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)
    bots: BotConfig = field(default_factory=BotConfig)


class RaceError(ValueError):
    """An invalid race configuration."""


class RaceType(Protocol):
    """Places and moves a race's objects."""

    def reset(self, track: Track, start_s: float, rng: np.random.Generator) -> None:
        """Place objects for an episode starting at ``start_s``."""

    def advance(self, dt: float) -> None:
        """Move objects forward by ``dt`` seconds."""

    @property
    def objects(self) -> tuple[RaceObject, ...]:
        """Current objects."""


def lane_offset(track: Track, s: float, lane: str) -> float:
    """Offset of the middle of the left or right lane at ``s`` (positive = left)."""
    w = float(track.width_at(s)[0])
    return w / 4.0 if lane == "left" else -w / 4.0


class TimeTrial:
    """No objects: the car races the clock."""

    def __init__(self, config: RaceConfig) -> None:
        self.config = config

    def reset(self, track: Track, start_s: float, rng: np.random.Generator) -> None:
        """Nothing to place."""

    def advance(self, dt: float) -> None:
        """Nothing moves."""

    @property
    def objects(self) -> tuple[RaceObject, ...]:
        """No objects."""
        return ()


class ObjectAvoidance:
    """1-6 static boxes at fixed or random places, in either lane."""

    def __init__(self, config: RaceConfig) -> None:
        cfg = config.obstacles
        if not 1 <= cfg.count <= 6:
            raise RaceError(f"object avoidance takes 1-6 boxes, got {cfg.count}")
        for frac, lane in cfg.positions:
            if lane not in ("left", "right") or not 0.0 <= frac < 1.0:
                raise RaceError(
                    f"box position ({frac}, {lane!r}) needs 0 <= fraction < 1 and a lane"
                )
        self.config = cfg
        self._objects: tuple[RaceObject, ...] = ()
        self._fixed: tuple[RaceObject, ...] | None = None
        self._fixed_track: Track | None = None

    def _place(self, track: Track, fracs: list[float], lanes: list[str]) -> tuple[RaceObject, ...]:
        out = []
        for frac, lane in zip(fracs, lanes, strict=True):
            s = float(track.wrap(frac * track.length))
            x, y = track.point_at(s, lane_offset(track, s, lane))
            yaw = float(track.heading_at(s)[0])
            out.append(
                RaceObject("box", float(x), float(y), yaw, BOX_LENGTH, BOX_WIDTH, BOX_HEIGHT)
            )
        return tuple(out)

    def reset(self, track: Track, start_s: float, rng: np.random.Generator) -> None:
        """Place the boxes: fixed places once per track, random ones each episode."""
        cfg = self.config
        if cfg.randomize:
            self._objects = self._random(track, start_s, rng)
            return
        if self._fixed is None or self._fixed_track is not track:
            if cfg.positions:
                fracs = [p[0] for p in cfg.positions][: cfg.count]
                lanes = [p[1] for p in cfg.positions][: cfg.count]
            else:
                fracs = [(i + 0.5) / cfg.count for i in range(cfg.count)]
                lanes = ["left" if i % 2 == 0 else "right" for i in range(cfg.count)]
            self._fixed = self._place(track, fracs, lanes)
            self._fixed_track = track
        self._objects = self._fixed

    def _random(
        self, track: Track, start_s: float, rng: np.random.Generator
    ) -> tuple[RaceObject, ...]:
        cfg = self.config
        gap = min(cfg.min_gap, track.length / (cfg.count + 1))
        # Keep 1.5 m clear ahead of the start so the car can react.
        clear = min(1.5, track.length / (cfg.count + 2))
        usable = track.length - clear - gap
        base = np.sort(rng.uniform(0.0, max(usable - gap * (cfg.count - 1), 0.0), cfg.count))
        dists = start_s + clear + base + gap * np.arange(cfg.count)
        lanes = ["left" if b else "right" for b in rng.integers(0, 2, cfg.count)]
        return self._place(track, list(dists / track.length), lanes)

    def advance(self, dt: float) -> None:
        """Boxes do not move."""

    @property
    def objects(self) -> tuple[RaceObject, ...]:
        """The boxes."""
        return self._objects


@dataclass
class _Bot:
    s: float
    lane: float  # current offset as a fraction of the half width, -0.5 right .. +0.5 left
    target: float
    next_change: float


class HeadToBot:
    """1-6 scripted bot cars driving their lane at a set speed, optionally changing lanes."""

    def __init__(self, config: RaceConfig) -> None:
        cfg = config.bots
        if not 1 <= cfg.count <= 6:
            raise RaceError(f"head-to-bot takes 1-6 bot cars, got {cfg.count}")
        if not 0.2 <= cfg.speed <= 6.0:
            raise RaceError(f"bot speed must be 0.2-6 m/s, got {cfg.speed}")
        self.config = cfg
        self._track: Track | None = None
        self._bots: list[_Bot] = []
        self._rng = np.random.default_rng(0)
        self._time = 0.0

    def reset(self, track: Track, start_s: float, rng: np.random.Generator) -> None:
        """Spread the bots evenly ahead of the start, alternating lanes."""
        cfg = self.config
        self._track = track
        self._rng = rng
        self._time = 0.0
        spacing = track.length / (cfg.count + 1)
        self._bots = []
        for i in range(cfg.count):
            lane = 0.5 if i % 2 == 0 else -0.5
            first = (
                cfg.lane_change_interval * (0.5 + rng.uniform()) if cfg.lane_change else math.inf
            )
            self._bots.append(_Bot(start_s + spacing * (i + 1), lane, lane, first))

    def advance(self, dt: float) -> None:
        """Drive every bot ``dt`` seconds along its lane."""
        cfg = self.config
        self._time += dt
        rate = dt / max(cfg.lane_change_time, 1e-6)
        for bot in self._bots:
            bot.s += cfg.speed * dt
            if self._time >= bot.next_change:
                bot.target = -bot.target
                bot.next_change = self._time + cfg.lane_change_interval * (
                    0.75 + 0.5 * self._rng.uniform()
                )
            if bot.lane != bot.target:
                step = math.copysign(min(rate, abs(bot.target - bot.lane)), bot.target - bot.lane)
                bot.lane += step

    @property
    def objects(self) -> tuple[RaceObject, ...]:
        """The bot cars' current poses."""
        track = self._track
        if track is None:
            return ()
        out = []
        for bot in self._bots:
            s = float(track.wrap(bot.s))
            w = float(track.width_at(s)[0])
            x, y = track.point_at(s, bot.lane * w / 2.0)
            yaw = float(track.heading_at(s)[0])
            out.append(
                RaceObject(
                    "bot",
                    float(x),
                    float(y),
                    yaw,
                    BOT_LENGTH,
                    BOT_WIDTH,
                    BOT_HEIGHT,
                    speed=self.config.speed,
                    shade=BOT_SHADE,
                )
            )
        return tuple(out)


RACE_TYPES: dict[str, Callable[[RaceConfig], RaceType]] = {}


def register_race_type(name: str, factory: Callable[[RaceConfig], RaceType]) -> None:
    """Add a race type under ``name``."""
    RACE_TYPES[name] = factory


register_race_type("time_trial", TimeTrial)
register_race_type("object_avoidance", ObjectAvoidance)
register_race_type("head_to_bot", HeadToBot)


def normalise_race_type(name: str) -> str:
    """Accept ``time-trial``, ``TIME_TRIAL`` and the like."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def make_race(config: RaceConfig) -> RaceType:
    """Create the race type named in ``config``.

    Raises:
        RaceError: For an unknown name, with suggestions.
    """
    name = normalise_race_type(config.race_type)
    if name not in RACE_TYPES:
        close = difflib.get_close_matches(name, list(RACE_TYPES), n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise RaceError(
            f"unknown race type {config.race_type!r} (known: {', '.join(RACE_TYPES)}){hint}"
        )
    return RACE_TYPES[name](config)
