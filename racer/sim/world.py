"""The race world: one car on a track with the race's objects, stepped at the control rate.

:class:`RaceWorld` joins the physics, the race type and DeepRacer's rules. It knows nothing of
gymnasium: :mod:`racer.env` adapts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from racer.sim.params import ParamsInput, build_params
from racer.sim.perturb import Actuation
from racer.sim.physics import PhysicsConfig, PhysicsWorld
from racer.sim.race import RaceConfig, make_race
from racer.sim.rules import TERMINAL, EpisodeTracker, RulesConfig, Status
from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState, RaceObject, objects_array


@dataclass(frozen=True)
class StartConfig:
    """Where episodes start.

    Attributes:
        round_robin: Each episode starts ``advance_fraction`` of the lap further along
            than the last (DeepRacer's training default).
        advance_fraction: Round-robin step as a fraction of the lap.
        start_fraction: Where the first episode starts, as a fraction of the lap.
        random_start: Start anywhere on the lap, drawn from the episode's seed.
    """

    round_robin: bool = True
    advance_fraction: float = 0.05
    start_fraction: float = 0.0
    random_start: bool = False


@dataclass(frozen=True)
class WorldConfig:
    """Everything the simulator needs besides the track."""

    car: CarSpec = field(default_factory=CarSpec)
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)
    race: RaceConfig = field(default_factory=RaceConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    start: StartConfig = field(default_factory=StartConfig)
    control_hz: float = 15.0


@dataclass(frozen=True)
class StepRecord:
    """What happened in one control step (or at reset, with status ``prepare``).

    Attributes:
        car: The car's state after the step.
        steering_deg: Commanded steering, degrees.
        speed: Commanded speed, m/s.
        steps: Control steps taken in the episode.
        sim_time: Simulated seconds since the episode began, penalties included.
        progress: Percent of the lap done since the start.
        status: The step's status.
        all_wheels_on_track: All four wheels inside the borders.
        is_offtrack: All four wheels outside the borders.
        is_crashed: The car touched an object this step.
        lap_time: Seconds for the lap when the status is ``lap_complete``, else None.
        pause_duration: Penalty seconds added this step (evaluation mode).
        off_track_count: Off-tracks so far this episode.
        crash_count: Collisions so far this episode.
    """

    car: CarState
    steering_deg: float
    speed: float
    steps: int
    sim_time: float
    progress: float
    status: Status
    all_wheels_on_track: bool
    is_offtrack: bool
    is_crashed: bool
    lap_time: float | None = None
    pause_duration: float = 0.0
    off_track_count: int = 0
    crash_count: int = 0

    @property
    def done(self) -> bool:
        """Whether the episode is over."""
        return self.status in TERMINAL


class RaceWorld:
    """A car racing on one track under DeepRacer's rules.

    Args:
        track: The track, in its direction of travel.
        config: Car, physics, race, rules and start settings.
    """

    def __init__(self, track: Track, config: WorldConfig | None = None) -> None:
        self.track = track
        self.config = config or WorldConfig()
        cfg = self.config
        self.spec = cfg.car
        self.dt = 1.0 / cfg.control_hz
        self.physics = PhysicsWorld(cfg.car, cfg.physics, cfg.control_hz)
        self.race = make_race(cfg.race)
        self._moving_objects = cfg.race.race_type.replace("-", "_").lower() == "head_to_bot"
        self._wheels = cfg.car.wheel_offsets()
        self._episode = -1
        self._rng = np.random.default_rng(0)
        self._tracker = EpisodeTracker.start(track.length, 0.0)
        self._objects: tuple[RaceObject, ...] = ()
        self._objects_arr = objects_array([])
        self._actuation: Actuation | None = None
        self.record: StepRecord | None = None

    # ------------------------------------------------------------------ episode control
    def next_start(self) -> float:
        """Distance along the track where the next episode starts."""
        st = self.config.start
        if st.random_start:
            return float(self._rng.uniform(0.0, self.track.length))
        k = max(self._episode, 0) if st.round_robin else 0
        return float(
            self.track.wrap((st.start_fraction + k * st.advance_fraction) * self.track.length)
        )

    def reset(
        self,
        rng: np.random.Generator | None = None,
        start_s: float | None = None,
        *,
        restart: bool = False,
        actuation: Actuation | None = None,
    ) -> StepRecord:
        """Start a new episode.

        Args:
            rng: Random source for this episode (object placement, random starts).
            start_s: Where to start along the track; defaults to the start policy.
            restart: Begin the round-robin schedule again (as after seeding), so that the
                same seed gives the same sequence of episodes.
            actuation: How the car carries out this episode's commands (latency, servo trim
                and gains, see :class:`racer.sim.perturb.Actuation`); None: exactly.

        Returns:
            The ``prepare`` record at the start pose.
        """
        if rng is not None:
            self._rng = rng
        self._actuation = actuation
        self._episode = 0 if restart else self._episode + 1
        s0 = self.next_start() if start_s is None else float(self.track.wrap(start_s))
        self.race.reset(self.track, s0, self._rng)
        self._set_objects()
        car = self._pose_on_centre(s0)
        self.physics.reset_car(car)
        self._tracker = EpisodeTracker.start(self.track.length, self._params_s(car))
        self._sim_time = 0.0
        self._steps = 0
        self._off_tracks = 0
        self._crashes = 0
        self.record = StepRecord(
            car=car,
            steering_deg=0.0,
            speed=0.0,
            steps=0,
            sim_time=0.0,
            progress=0.0,
            status=Status.PREPARE,
            all_wheels_on_track=True,
            is_offtrack=False,
            is_crashed=False,
        )
        return self.record

    def _pose_on_centre(self, s: float, offset: float = 0.0) -> CarState:
        """A car at rest whose params point lies at ``s`` on the track, facing along it."""
        yaw = float(self.track.heading_at(s)[0])
        px, py = self.track.point_at(s, offset)
        ahead = self.spec.params_point_ahead
        return CarState(float(px) - ahead * math.cos(yaw), float(py) - ahead * math.sin(yaw), yaw)

    def _params_s(self, car: CarState) -> float:
        return float(
            self.track.project(np.array(car.point_ahead(self.spec.params_point_ahead))).s[0]
        )

    def _set_objects(self) -> None:
        self._objects = self.race.objects
        self._objects_arr = objects_array(self._objects)
        self.physics.set_objects(self._objects)

    # ------------------------------------------------------------------ stepping
    def step(self, steering_deg: float, speed: float) -> StepRecord:
        """Advance one control step with a commanded steering angle and speed.

        The record keeps the command; with an episode :class:`~racer.sim.perturb.Actuation`
        the car carries out its (delayed, trimmed, scaled) version, clipped to the limits.

        Args:
            steering_deg: Commanded steering, degrees, positive = left (clipped to the car's limit).
            speed: Commanded speed, m/s (clipped to the car's range).

        Returns:
            The step's record.

        Raises:
            RuntimeError: If called before :meth:`reset` or after the episode ended.
        """
        if self.record is None or self.record.done:
            raise RuntimeError("call reset() before step(), and again after an episode ends")
        spec, rules = self.spec, self.config.rules
        steering_deg = min(max(float(steering_deg), -spec.max_steering_deg), spec.max_steering_deg)
        speed = min(max(float(speed), spec.min_speed), spec.max_speed)
        if self._moving_objects:
            self.race.advance(self.dt)
            self._set_objects()
        before = self.physics.car_state
        applied_steering, applied_speed = steering_deg, speed
        if self._actuation is not None:
            applied_steering, applied_speed = self._actuation(steering_deg, speed)
            limit = spec.max_steering_deg
            applied_steering = min(max(applied_steering, -limit), limit)
            applied_speed = min(max(applied_speed, spec.min_speed), spec.max_speed)
        car = self.physics.step(math.radians(applied_steering), applied_speed)
        self._steps += 1
        self._sim_time += self.dt

        pts = np.vstack(
            [np.array(car.point_ahead(spec.params_point_ahead)), car.body_to_world(self._wheels)]
        )
        proj = self.track.project(pts)
        inside = proj.inside[1:]
        all_on, all_off = bool(inside.all()), bool(not inside.any())
        crashed = self.physics.collided() is not None
        self._tracker.update(
            float(proj.s[0]),
            math.hypot(car.x - before.x, car.y - before.y),
            rules,
            self.track.closed,
        )
        status = self._tracker.status(rules, self._steps, offtrack=all_off, crashed=crashed)
        pause = 0.0
        if rules.mode == "evaluation" and status in (Status.OFF_TRACK, Status.CRASHED):
            pause, car = self._penalise(status, float(proj.s[0]))
            status = Status.IN_PROGRESS if self._steps < rules.max_steps else Status.TIME_UP
        elif status is Status.OFF_TRACK:
            self._off_tracks += 1
        elif status is Status.CRASHED:
            self._crashes += 1
        self.record = StepRecord(
            car=car,
            steering_deg=steering_deg,
            speed=speed,
            steps=self._steps,
            sim_time=self._sim_time,
            progress=self._tracker.progress(rules.laps),
            status=status,
            all_wheels_on_track=all_on,
            is_offtrack=all_off,
            is_crashed=crashed,
            lap_time=self._sim_time if status is Status.LAP_COMPLETE else None,
            pause_duration=pause,
            off_track_count=self._off_tracks,
            crash_count=self._crashes,
        )
        return self.record

    def _penalise(self, status: Status, s: float) -> tuple[float, CarState]:
        """Freeze for the penalty and put the car back on the track where it left it."""
        rules = self.config.rules
        offset = 0.0
        if status is Status.CRASHED:
            self._crashes += 1
            pause = rules.collision_penalty
            hit = self.physics.collided()
            if hit is not None and hit < len(self._objects):
                obj = self._objects[hit]
                obj_off = float(self.track.project(np.array([obj.x, obj.y])).offset[0])
                offset = -math.copysign(float(self.track.width_at(s)[0]) / 4.0, obj_off)
        else:
            self._off_tracks += 1
            pause = rules.off_track_penalty
        self._sim_time += pause
        if self._moving_objects:
            self.race.advance(pause)
            self._set_objects()
        car = self._pose_on_centre(s, offset)
        self.physics.reset_car(car)
        self._tracker.relocate(self._params_s(car))
        return pause, car

    # ------------------------------------------------------------------ views
    @property
    def objects(self) -> tuple[RaceObject, ...]:
        """The race's objects now."""
        return self._objects

    @property
    def objects_array(self) -> np.ndarray:
        """Objects packed for the sensors (see :func:`racer.sim.types.objects_array`)."""
        return self._objects_arr

    def params(self, camera_hfov: float = 1.13) -> dict[str, Any]:
        """DeepRacer's reward ``params`` for the current step."""
        rec = self.record
        if rec is None:
            raise RuntimeError("call reset() first")
        return build_params(
            ParamsInput(
                track=self.track,
                spec=self.spec,
                car=rec.car,
                steering_deg=rec.steering_deg,
                speed=rec.speed,
                # DeepRacer counts the episode's first (unrewarded) "prepare" step, so the
                # first reward call sees steps == 2.
                steps=rec.steps + 1,
                progress=rec.progress,
                all_wheels_on_track=rec.all_wheels_on_track,
                is_offtrack=rec.is_offtrack,
                is_crashed=rec.is_crashed,
                is_reversed=bool(self.track.metadata.get("reversed", False)),
                objects=self._objects,
                sim_time=rec.sim_time,
                camera_hfov=camera_hfov,
            )
        )

    def close(self) -> None:
        """Release the physics client."""
        self.physics.close()
