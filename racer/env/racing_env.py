"""The gymnasium adapter over :class:`racer.sim.world.RaceWorld`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from racer.env.config import EnvConfig
from racer.rewards.loader import load_reward_function
from racer.sim.actions import ContinuousActionSpace, DiscreteActionSpace
from racer.sim.perturb import Actuation
from racer.sim.race import RaceConfig
from racer.sim.randomize import EpisodeRandomization, RandomizationConfig
from racer.sim.rules import RulesConfig, Status
from racer.sim.sensors import Randomizable, Sensor, make_sensor
from racer.sim.topdown import render_topdown
from racer.sim.track import Track
from racer.sim.track_registry import get_track
from racer.sim.world import RaceWorld

RewardFn = Callable[[dict[str, Any], int], float]


def _resolve_reward(spec: str) -> RewardFn:
    path = Path(spec)
    if path.suffix != ".py" or not path.exists():
        from racer.rewards.library import example_path

        path = example_path(spec)
    return load_reward_function(path)


class RacingEnv(gym.Env[Any, Any]):
    """A 1/18-scale car racing on a DeepRacer-style track.

    **Action space**: ``Discrete(N)`` for DeepRacer's action list (action *i* = the list's
    *i*-th (steering, speed)), or ``Box(-1, 1, (2,))`` rescaled to the continuous ranges.

    **Observation space**: one sensor gives its Box (camera ``(1, 120, 160)`` uint8, stereo
    ``(2, 120, 160)`` uint8, lidar ``(64,)`` float32 in metres, sector lidar ``(8,)`` float32 of
    0/1, state vector float32); several sensors give a Dict keyed by sensor name.

    **Reward**: the reward function called with DeepRacer's ``params`` after every step.

    **Termination**: DeepRacer's statuses ``off_track``, ``crashed``, ``immobilized``,
    ``reversed`` and ``lap_complete`` terminate; ``time_up`` (the step cap) truncates. In
    evaluation mode off-tracks and crashes cost a time penalty instead of ending the episode.

    **Info**: ``status``, ``progress``, ``steps``, ``sim_time``, ``lap_time`` (or None),
    ``speed``, ``steering_angle`` (both commanded), ``x``, ``y``, ``heading`` (DeepRacer's
    params point and yaw in degrees), ``closest_waypoint``, ``track_length``,
    ``all_wheels_on_track``, ``pause_duration``, ``off_track_count``, ``crash_count`` — the
    simtrace columns — and, with ``info_reward_params=True``, ``reward_params`` (the dict the
    reward function saw; off by default to keep vectorised envs cheap).

    **Track pool**: with ``track_pool`` set, each reset draws the episode's track from the
    pool (seeded), so a policy can learn to drive tracks it has never seen.

    **Domain randomisation**: with ``randomization`` on, each reset draws the episode's
    camera and actuation variations (:attr:`randomization`) from a generator spawned off
    ``np_random``, so the race's own draws stay as they were and the same seed gives the
    same episodes. ``info`` keeps the commanded steering and speed.

    **Versions**: v0 — first release.

    Args:
        config: A full :class:`EnvConfig`; keyword overrides apply on top.
        render_mode: ``"rgb_array"`` for a top-down view, or None.
        reward_function: A callable ``(params, step) -> float`` to use instead of a file.
        **overrides: Any :class:`EnvConfig` field, plus ``race_type`` and ``mode``
            (``"training"`` or ``"evaluation"``) as shortcuts.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}

    def __init__(
        self,
        config: EnvConfig | None = None,
        render_mode: str | None = None,
        reward_function: RewardFn | str | None = None,
        **overrides: Any,
    ) -> None:
        self.config = _with_overrides(config or EnvConfig(), overrides, reward_function)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        cfg = self.config
        self._stages: dict[str, tuple[Track, RaceWorld, list[Sensor]]] = {}
        self._use_stage(cfg.track)
        self.reward_fn: RewardFn = (
            reward_function if callable(reward_function) else _resolve_reward(cfg.reward_function)
        )
        self._actions = cfg.action_space
        self._hfov = cfg.sensor_config.camera.hfov
        self.action_space = _action_space(cfg.action_space)
        self.observation_space = _observation_space(self._sensors)
        self.randomization: EpisodeRandomization | None = None  # this episode's draw

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode.

        A seed restarts the round-robin schedule of start positions, so the same seed gives
        the same sequence of episodes. ``options={"start_s": metres}`` overrides the start.
        """
        super().reset(seed=seed)
        pool = self.config.track_pool
        if pool:
            self._use_stage(pool[int(self.np_random.integers(len(pool)))])
        start = None if options is None else options.get("start_s")
        actuation = self._randomize()
        self.world.reset(
            self.np_random, start_s=start, restart=seed is not None, actuation=actuation
        )
        return self._observe(), self._info(self.world.params(self._hfov))

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Apply one action for one control step (1/15 s by default)."""
        steering, speed = self._actions.decode(action)
        rec = self.world.step(steering, speed)
        params = self.world.params(self._hfov)
        reward = float(self.reward_fn(params, rec.steps))
        terminated = rec.done and rec.status is not Status.TIME_UP
        truncated = rec.status is Status.TIME_UP
        return self._observe(), reward, terminated, truncated, self._info(params)

    def render(self) -> np.ndarray | None:
        """A top-down RGB view of the track, the car and the objects."""
        if self.render_mode != "rgb_array" or self.world.record is None:
            return None
        return render_topdown(self.track, self.world.record.car, self.world.objects_array)

    def close(self) -> None:
        """Release the simulator(s)."""
        for _, world, _ in self._stages.values():
            world.close()

    def _randomize(self) -> Actuation | None:
        """Draw the episode's randomisation, set up the sensors; return the car's actuation."""
        config = self.config.randomization
        if not config.enabled:
            return None
        rng = self.np_random.spawn(1)[0]  # leaves np_random's own sequence untouched
        episode = self.randomization = config.draw(rng)
        for sensor in self._sensors:
            if isinstance(sensor, Randomizable):
                sensor.randomize(episode, rng)
        return Actuation(episode) if episode.actuation else None

    def _use_stage(self, name: str) -> None:
        """Switch to the track ``name`` (its world and sensors are built once, then kept)."""
        if name not in self._stages:
            cfg = self.config
            track = get_track(name)
            track = track.reversed() if cfg.reverse else track
            sensors: list[Sensor] = [
                make_sensor(s, track, cfg.world.car, cfg.sensor_config) for s in cfg.sensors
            ]
            self._stages[name] = (track, RaceWorld(track, cfg.world), sensors)
        self.track, self.world, self._sensors = self._stages[name]

    # ------------------------------------------------------------------ helpers
    def _observe(self) -> Any:
        rec = self.world.record
        assert rec is not None
        objs = self.world.objects_array
        if len(self._sensors) == 1:
            return self._sensors[0].observe(rec.car, objs)
        return {s.name: s.observe(rec.car, objs) for s in self._sensors}

    def _info(self, params: dict[str, Any]) -> dict[str, Any]:
        rec = self.world.record
        assert rec is not None
        x, y = params["x"], params["y"]
        behind, ahead = params["closest_waypoints"]
        wps = params["waypoints"]
        d_behind = (wps[behind][0] - x) ** 2 + (wps[behind][1] - y) ** 2
        d_ahead = (wps[ahead][0] - x) ** 2 + (wps[ahead][1] - y) ** 2
        info = {
            "status": str(rec.status),
            "progress": rec.progress,
            "steps": rec.steps,
            "sim_time": rec.sim_time,
            "lap_time": rec.lap_time,
            "speed": rec.speed,
            "steering_angle": rec.steering_deg,
            "x": x,
            "y": y,
            "heading": params["heading"],
            "closest_waypoint": behind if d_behind <= d_ahead else ahead,
            "track_length": params["track_length"],
            "all_wheels_on_track": rec.all_wheels_on_track,
            "pause_duration": rec.pause_duration,
            "off_track_count": rec.off_track_count,
            "crash_count": rec.crash_count,
        }
        if self.config.info_reward_params:
            info["reward_params"] = params
        return info


def _with_overrides(
    config: EnvConfig, overrides: dict[str, Any], reward: RewardFn | str | None
) -> EnvConfig:
    """Apply keyword overrides, including the ``race_type`` and ``mode`` shortcuts."""
    world = config.world
    if "race_type" in overrides:
        world = dataclasses.replace(
            world, race=dataclasses.replace(world.race, race_type=overrides.pop("race_type"))
        )
    if "race" in overrides:
        race = overrides.pop("race")
        world = dataclasses.replace(
            world, race=race if isinstance(race, RaceConfig) else RaceConfig(**race)
        )
    if "mode" in overrides:
        mode = overrides.pop("mode")
        world = dataclasses.replace(world, rules=dataclasses.replace(world.rules, mode=mode))
    if "rules" in overrides:
        rules = overrides.pop("rules")
        world = dataclasses.replace(
            world, rules=rules if isinstance(rules, RulesConfig) else RulesConfig(**rules)
        )
    if "track_pool" in overrides:
        overrides["track_pool"] = tuple(overrides["track_pool"])
    if isinstance(overrides.get("randomization"), dict):
        overrides["randomization"] = RandomizationConfig.from_mapping(overrides["randomization"])
    if isinstance(overrides.get("sensors"), str):
        overrides["sensors"] = (overrides["sensors"],)
    elif "sensors" in overrides:
        overrides["sensors"] = tuple(overrides["sensors"])
    if isinstance(reward, str):
        overrides["reward_function"] = reward
    known = {f.name for f in dataclasses.fields(EnvConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown environment option(s): {', '.join(sorted(unknown))}")
    return dataclasses.replace(config, world=world, **overrides)


def _action_space(actions: DiscreteActionSpace | ContinuousActionSpace) -> spaces.Space[Any]:
    if isinstance(actions, DiscreteActionSpace):
        return spaces.Discrete(len(actions))
    return spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)


def _observation_space(sensors: list[Sensor]) -> spaces.Space[Any]:
    boxes: dict[str, spaces.Space[Any]] = {
        s.name: spaces.Box(low=s.low, high=s.high, shape=s.shape, dtype=s.dtype) for s in sensors
    }
    if len(boxes) == 1:
        return next(iter(boxes.values()))
    return spaces.Dict(boxes)
