"""The environment's typed, frozen configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from racer.sim.actions import ActionSpace, DiscreteActionSpace
from racer.sim.randomize import RandomizationConfig
from racer.sim.sensors import SensorConfig
from racer.sim.world import WorldConfig


@dataclass(frozen=True)
class EnvConfig:
    """Everything a racer environment is made of.

    Attributes:
        track: Track name (built-in, user, ``generated:SEED``), or a track file path.
        reverse: Drive the track against its waypoint order.
        sensors: Sensor names: DeepRacer's ``FRONT_FACING_CAMERA``, ``STEREO_CAMERAS``,
            ``LIDAR``, ``SECTOR_LIDAR``, or racer's ``STATE`` vector. One sensor gives a Box
            observation; several give a Dict keyed by sensor name.
        action_space: Discrete list or continuous ranges.
        reward_function: Path of a reward ``.py`` file or the name of a shipped example.
        world: Car, physics, race type, rules and start settings.
        sensor_config: Camera, lidar and state-vector settings.
        info_reward_params: Put the reward ``params`` dict into each step's ``info``.
        track_pool: Tracks to draw each episode's track from (seeded); empty: always ``track``.
        randomization: Domain randomisation of the camera image and the car's actuation,
            drawn per episode from the env's seeded RNG (see ``docs/sim-to-real.md``); off
            by default.
    """

    track: str = "reinvent_base"
    reverse: bool = False
    sensors: tuple[str, ...] = ("FRONT_FACING_CAMERA",)
    action_space: ActionSpace = field(default_factory=DiscreteActionSpace.default)
    reward_function: str = "follow_centerline"
    world: WorldConfig = field(default_factory=WorldConfig)
    sensor_config: SensorConfig = field(default_factory=SensorConfig)
    info_reward_params: bool = False
    track_pool: tuple[str, ...] = ()
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)
