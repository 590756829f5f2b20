"""Servo calibration: steering and throttle commands as PWM pulse widths.

A calibration file (YAML or JSON) gives, per channel, the pulse widths in microseconds at the
two ends and at the centre, and whether the channel is inverted::

    steering:   # command -1 (full right) .. +1 (full left)
      min: 1100
      center: 1500
      max: 1900
      invert: false
    throttle:   # command 0 (stop) .. 1 (full max-speed %); center is neutral
      min: 1300
      center: 1500
      max: 1700
      invert: false

A command ``v`` in [-1, 1] becomes ``center + v * (max - center)`` for ``v >= 0`` and
``center + v * (center - min)`` below zero, after ``v -> -v`` when ``invert`` is true: so +1
goes to ``max`` (or to ``min`` inverted) and the two halves may differ in length, as real
servos and speed controllers often need. ``centre`` is accepted for ``center``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from racer.drive.commands import CarCommand
from racer.drive.errors import ServoError

CHANNELS = ("steering", "throttle")
KEYS = ("min", "center", "max", "invert")
ALIASES = {"centre": "center"}


@dataclass(frozen=True)
class ServoChannel:
    """One channel's pulse widths, microseconds.

    Attributes:
        min: Pulse at command -1 (or +1 when inverted).
        center: Pulse at command 0.
        max: Pulse at command +1 (or -1 when inverted).
        invert: Swap the two directions.
    """

    min: float
    center: float
    max: float
    invert: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.min < self.center < self.max:
            raise ValueError(
                f"needs 0 < min < center < max, got min {self.min:g}, center {self.center:g}, "
                f"max {self.max:g}"
            )

    def pulse(self, value: float) -> int:
        """The pulse width, whole microseconds, of a command in [-1, 1] (clipped)."""
        v = min(1.0, max(-1.0, float(value)))
        if self.invert:
            v = -v
        span = self.max - self.center if v >= 0 else self.center - self.min
        return round(self.center + v * span)


@dataclass(frozen=True)
class ServoCalibration:
    """Both channels of a car.

    Attributes:
        steering: The steering servo (+1 = full left before inversion).
        throttle: The speed controller (0 = neutral, 1 = full forward before inversion).
    """

    steering: ServoChannel
    throttle: ServoChannel

    def pwm(self, command: CarCommand) -> tuple[int, int]:
        """(steering, throttle) pulse widths of a command, microseconds."""
        return self.steering.pulse(command.steering), self.throttle.pulse(command.throttle)


def _channel(name: str, data: Any, source: Path) -> ServoChannel:
    where = f"{source}: {name}"
    if not isinstance(data, dict):
        raise ServoError(f"{where}: expected a mapping of {', '.join(KEYS)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        real = ALIASES.get(str(key), str(key))
        if real not in KEYS:
            close = difflib.get_close_matches(str(key), [*KEYS, *ALIASES], n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ServoError(f"{where}: unknown key {key!r}{hint}; known: {', '.join(KEYS)}")
        values[real] = value
    missing = [k for k in ("min", "center", "max") if k not in values]
    if missing:
        raise ServoError(f"{where}: missing {', '.join(missing)}")
    for key in ("min", "center", "max"):
        if isinstance(values[key], bool) or not isinstance(values[key], int | float):
            got = values[key]
            raise ServoError(f"{where}.{key}: expected a number (microseconds), got {got!r}")
    invert = values.get("invert", False)
    if not isinstance(invert, bool):
        raise ServoError(f"{where}.invert: expected true or false, got {invert!r}")
    try:
        return ServoChannel(
            float(values["min"]), float(values["center"]), float(values["max"]), invert
        )
    except ValueError as exc:
        raise ServoError(f"{where}: {exc}") from None


def load_servo(path: str | Path) -> ServoCalibration:
    """Read a calibration file (YAML or JSON; see the module docstring).

    Raises:
        ServoError: Missing or unreadable file, a missing channel or key, an unknown key, a
            value that is not a number, or pulse widths out of order.
    """
    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text())
    except FileNotFoundError:
        raise ServoError(f"{source}: no such servo calibration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ServoError(f"{source}: cannot read it: {exc}") from None
    except yaml.YAMLError as exc:
        raise ServoError(f"{source}: not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ServoError(f"{source}: expected a mapping with {' and '.join(CHANNELS)}")
    unknown = [k for k in data if k not in CHANNELS]
    if unknown:
        raise ServoError(f"{source}: unknown section {unknown[0]!r}; known: {', '.join(CHANNELS)}")
    missing = [c for c in CHANNELS if c not in data]
    if missing:
        raise ServoError(f"{source}: missing {' and '.join(missing)}")
    return ServoCalibration(
        steering=_channel("steering", data["steering"], source),
        throttle=_channel("throttle", data["throttle"], source),
    )
