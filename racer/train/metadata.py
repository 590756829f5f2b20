"""DeepRacer's ``model_metadata.json``: written with every run, read from DeepRacer folders.

Schema (version "5")::

    {"action_space": [...] | {"steering_angle": {"low", "high"}, "speed": {"low", "high"}},
     "action_space_type": "discrete" | "continuous",
     "training_algorithm": "clipped_ppo" | "sac",
     "sensor": ["FRONT_FACING_CAMERA", ...],
     "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
     "lidar_config": {...},            # only with LIDAR or SECTOR_LIDAR
     "version": "5"}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from racer.sim.actions import ContinuousActionSpace, action_space_from_metadata
from racer.sim.lidar import LidarConfig
from racer.train.config import ConfigError, TrainConfig

METADATA_FILE = "model_metadata.json"
METADATA_VERSION = "5"
LIDAR_SENSORS = ("LIDAR", "SECTOR_LIDAR")
LEGACY_SENSOR_NAMES = {"observation": "FRONT_FACING_CAMERA", "left_camera": "STEREO_CAMERAS"}
"""Sensor names of old DeepRacer metadata files."""


def lidar_config(sensors: tuple[str, ...]) -> dict[str, Any] | None:
    """DeepRacer's ``lidar_config`` for the sensors, or None without a lidar."""
    lidar = LidarConfig()
    if "SECTOR_LIDAR" in sensors:
        per = max(1, lidar.beams // lidar.sectors)
        return {
            "num_sectors": lidar.sectors,
            "num_values_per_sector": per,
            "clipping_dist": lidar.sector_threshold,
        }
    if "LIDAR" in sensors:
        return {
            "num_sectors": lidar.beams,
            "num_values_per_sector": 1,
            "clipping_dist": lidar.max_range,
        }
    return None


def effective_network(config: TrainConfig) -> str:
    """The network a run really uses: vector-only sensors always get the MLP."""
    images = {"FRONT_FACING_CAMERA", "STEREO_CAMERAS"}
    return config.network if images & set(config.sensors) else "MLP"


def metadata_from_config(config: TrainConfig) -> dict[str, Any]:
    """The ``model_metadata.json`` mapping of a run."""
    space = config.action_space
    meta: dict[str, Any] = {
        "action_space": space.to_metadata(),
        "action_space_type": "continuous"
        if isinstance(space, ContinuousActionSpace)
        else "discrete",
        "training_algorithm": config.algorithm,
        "sensor": list(config.sensors),
        "neural_network": effective_network(config),
        "version": METADATA_VERSION,
    }
    lidar = lidar_config(config.sensors)
    if lidar is not None:
        meta["lidar_config"] = lidar
    return meta


def write_metadata(config: TrainConfig, folder: Path) -> Path:
    """Write ``model_metadata.json`` into a run folder."""
    path = folder / METADATA_FILE
    path.write_text(json.dumps(metadata_from_config(config), indent=2) + "\n")
    return path


def read_metadata(path: Path) -> dict[str, Any]:
    """Read a ``model_metadata.json`` (a file or the folder holding it).

    Raises:
        ConfigError: Missing file or not a JSON object.
    """
    file = path / METADATA_FILE if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{file}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a JSON object")
    return data


def config_fields(meta: dict[str, Any], source: str = METADATA_FILE) -> dict[str, Any]:
    """The :class:`TrainConfig` settings a metadata mapping defines.

    Returns:
        ``action_space``, ``sensors``, ``network`` and ``algorithm`` where present.
    """
    fields: dict[str, Any] = {}
    if "action_space" in meta:
        try:
            fields["action_space"] = action_space_from_metadata(meta["action_space"])
        except ValueError as exc:
            raise ConfigError(f"{source}: action_space: {exc}") from None
        declared = meta.get("action_space_type")
        actual = fields["action_space"].kind
        if declared is not None and declared != actual:
            raise ConfigError(
                f"{source}: action_space_type says {declared!r} but action_space is {actual}"
            )
    if "sensor" in meta:
        sensors = meta["sensor"] if isinstance(meta["sensor"], list) else [meta["sensor"]]
        fields["sensors"] = tuple(LEGACY_SENSOR_NAMES.get(str(s), str(s)) for s in sensors)
    if "neural_network" in meta:
        fields["network"] = str(meta["neural_network"])
    if "training_algorithm" in meta:
        fields["algorithm"] = str(meta["training_algorithm"])
    return fields
