"""What a model's ``model_metadata.json`` tells the car: its action space and its sensors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from racer.drive.errors import ModelError
from racer.sim.actions import ActionSpace, ActionSpaceError, action_space_from_metadata

CAMERA = "FRONT_FACING_CAMERA"
STEREO = "STEREO_CAMERAS"
LEGACY_SENSOR_NAMES = {"observation": CAMERA, "left_camera": STEREO}
"""Sensor names of old DeepRacer metadata files."""


@dataclass(frozen=True)
class ModelInfo:
    """A model's metadata, read and checked.

    Attributes:
        metadata: The ``model_metadata.json`` mapping as written.
        action_space: Its action space (discrete list or continuous ranges).
        sensors: Sensor names (legacy names translated); ``FRONT_FACING_CAMERA`` when absent,
            as for the oldest DeepRacer models.
    """

    metadata: dict[str, Any]
    action_space: ActionSpace
    sensors: tuple[str, ...]

    @property
    def discrete(self) -> bool:
        """Whether the network outputs one probability per action of a list."""
        return self.action_space.kind == "discrete"

    @property
    def outputs(self) -> int:
        """Values the network outputs: one per action, or (steering, speed)."""
        return len(self.action_space) if self.discrete else 2  # type: ignore[arg-type]

    def require_one_camera(self) -> None:
        """Check that one front camera is all the model needs.

        Raises:
            ModelError: Stereo cameras, a lidar or any other sensor.
        """
        if self.sensors == (CAMERA,):
            return
        if STEREO in self.sensors:
            raise ModelError(
                "this model was trained with STEREO_CAMERAS (two images as two channels); "
                "racer drive reads one camera, so it cannot drive it"
            )
        others = ", ".join(s for s in self.sensors if s != CAMERA) or "none"
        raise ModelError(
            f"racer drive feeds one front camera, but this model needs sensors {list(self.sensors)}"
            f" (not available: {others})"
        )


def parse_metadata(data: str | dict[str, Any], source: str) -> ModelInfo:
    """Read a ``model_metadata.json`` text or mapping.

    Args:
        data: The JSON text or the parsed mapping.
        source: Where it came from, for error messages.

    Raises:
        ModelError: Not JSON, not an object, no or an invalid ``action_space``.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{source}: model_metadata.json is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{source}: model_metadata.json must be a JSON object")
    if "action_space" not in data:
        raise ModelError(f"{source}: model_metadata.json has no action_space")
    try:
        space = action_space_from_metadata(data["action_space"])
    except ActionSpaceError as exc:
        raise ModelError(f"{source}: model_metadata.json action_space: {exc}") from None
    declared = data.get("action_space_type")
    if declared is not None and declared != space.kind:
        raise ModelError(
            f"{source}: action_space_type says {declared!r} but action_space is {space.kind}"
        )
    raw = data.get("sensor", [CAMERA])
    sensors = tuple(
        LEGACY_SENSOR_NAMES.get(str(s), str(s)) for s in (raw if isinstance(raw, list) else [raw])
    )
    return ModelInfo(metadata=data, action_space=space, sensors=sensors or (CAMERA,))
