"""The sensor registry: DeepRacer's sensor names mapped to racer's sensors.

Every sensor has a ``name``, the ``shape``, ``dtype``, ``low`` and ``high`` of its observations
and ``observe(car, objects) -> ndarray``. Add one with :func:`register_sensor`. Sensors that
domain randomisation can vary (the cameras) also implement :class:`Randomizable`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from racer.sim.camera import Camera, CameraConfig
from racer.sim.lidar import Lidar, LidarConfig, SectorLidar
from racer.sim.perturb import FrameEffects
from racer.sim.randomize import EpisodeRandomization
from racer.sim.state_sensor import StateConfig, StateSensor
from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState


@dataclass(frozen=True)
class SensorConfig:
    """Settings of every sensor kind (each sensor reads its own part)."""

    camera: CameraConfig = field(default_factory=CameraConfig)
    lidar: LidarConfig = field(default_factory=LidarConfig)
    state: StateConfig = field(default_factory=StateConfig)


class Sensor(Protocol):
    """What the environment needs from a sensor."""

    name: str
    shape: tuple[int, ...]
    dtype: Any
    low: float
    high: float

    def observe(self, car: CarState, objects: NDArray[np.float64]) -> NDArray[Any]:
        """One observation for the car among the objects ((K, 7) packed)."""


@runtime_checkable
class Randomizable(Protocol):
    """A sensor whose readings domain randomisation varies (see :mod:`racer.sim.randomize`)."""

    def randomize(self, episode: EpisodeRandomization | None, rng: np.random.Generator) -> None:
        """Apply an episode's draw (None: read exactly as configured)."""


class CameraSensor:
    """Front camera(s): ``(1, H, W)`` or, stereo, ``(2, H, W)`` uint8 gray frames.

    Randomisation moves the camera, recolours the scene and post-processes each frame.
    """

    def __init__(self, name: str, track: Track, spec: CarSpec, config: CameraConfig) -> None:
        self.name = name
        self.camera = Camera(track, config, spec)
        shape = self.camera.observation_shape
        self.shape: tuple[int, ...] = shape if len(shape) == 3 else (1, *shape)
        self.dtype = np.uint8
        self.low, self.high = 0.0, 255.0
        self._effects: FrameEffects | None = None

    def randomize(self, episode: EpisodeRandomization | None, rng: np.random.Generator) -> None:
        """Set the episode's camera pose, scene colours and frame effects (None: none)."""
        cam = self.camera
        if episode is None:
            cam.set_pose_offset()
            cam.set_colors(None)
            self._effects = None
            return
        forward, left, up = episode.camera_offset
        cam.set_pose_offset(episode.camera_pitch_deg, forward, left, up)
        cam.set_colors(episode.style(cam.config.style) if episode.recolors else None)
        self._effects = FrameEffects(episode, rng) if episode.frame_effects else None

    def observe(self, car: CarState, objects: NDArray[np.float64]) -> NDArray[np.uint8]:
        """Render the frame(s)."""
        image = self.camera.render(car, objects)
        if self._effects is not None:
            image = self._effects(image)
        return image.reshape(self.shape)


class LidarSensor:
    """64-beam lidar: distances in metres, clipped to the configured range."""

    def __init__(self, name: str, config: LidarConfig) -> None:
        self.name = name
        self.lidar = Lidar(config)
        self.shape: tuple[int, ...] = (config.beams,)
        self.dtype = np.float32
        self.low, self.high = float(config.min_range), float(config.max_range)

    def observe(self, car: CarState, objects: NDArray[np.float64]) -> NDArray[np.float32]:
        """One scan."""
        return self.lidar.scan(car, objects)


class SectorLidarSensor:
    """Sector lidar: 1.0 for each sector with something nearer than its threshold."""

    def __init__(self, name: str, config: LidarConfig) -> None:
        self.name = name
        self.lidar = SectorLidar(config)
        self.shape: tuple[int, ...] = (self.lidar.sectors,)
        self.dtype = np.float32
        self.low, self.high = 0.0, 1.0

    def observe(self, car: CarState, objects: NDArray[np.float64]) -> NDArray[np.float32]:
        """One sector reading."""
        return self.lidar.scan(car, objects)


class StateVectorSensor:
    """racer's state vector (see :class:`racer.sim.state_sensor.StateSensor`)."""

    def __init__(self, name: str, track: Track, spec: CarSpec, config: StateConfig) -> None:
        self.name = name
        self.sensor = StateSensor(track, spec, config)
        self.shape: tuple[int, ...] = self.sensor.shape
        self.dtype = np.float32
        self.low, self.high = self.sensor.low, self.sensor.high

    def observe(self, car: CarState, objects: NDArray[np.float64]) -> NDArray[np.float32]:
        """The vector."""
        return self.sensor.observe(car)


SensorFactory = Callable[[str, Track, CarSpec, SensorConfig], Sensor]

SENSORS: dict[str, SensorFactory] = {}


def register_sensor(name: str, factory: SensorFactory) -> None:
    """Add a sensor kind under a DeepRacer-style upper-case name."""
    SENSORS[name.upper()] = factory


register_sensor(
    "FRONT_FACING_CAMERA",
    lambda n, t, s, c: CameraSensor(n, t, s, replace(c.camera, stereo=False)),
)
register_sensor(
    "STEREO_CAMERAS",
    lambda n, t, s, c: CameraSensor(n, t, s, replace(c.camera, stereo=True)),
)
register_sensor("LIDAR", lambda n, t, s, c: LidarSensor(n, c.lidar))
register_sensor("SECTOR_LIDAR", lambda n, t, s, c: SectorLidarSensor(n, c.lidar))
register_sensor("STATE", lambda n, t, s, c: StateVectorSensor(n, t, s, c.state))

ALIASES = {
    "CAMERA": "FRONT_FACING_CAMERA",
    "STEREO": "STEREO_CAMERAS",
    "STEREO_CAMERA": "STEREO_CAMERAS",
    "OBSERVATION": "FRONT_FACING_CAMERA",
}


def canonical_sensor(name: str) -> str:
    """DeepRacer's name for a sensor (case and ``-`` forgiven, short aliases accepted).

    Raises:
        ValueError: For an unknown name, with suggestions.
    """
    key = name.strip().upper().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in SENSORS:
        close = difflib.get_close_matches(key, [*SENSORS, *ALIASES], n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ValueError(f"unknown sensor {name!r} (known: {', '.join(SENSORS)}){hint}")
    return key


def make_sensor(name: str, track: Track, spec: CarSpec, config: SensorConfig) -> Sensor:
    """Create the sensor ``name`` for a car on ``track``."""
    key = canonical_sensor(name)
    return SENSORS[key](key, track, spec, config)
