"""A compact state-vector sensor: the car's motion and the shape of the track ahead.

Not a DeepRacer sensor: it lets a small MLP policy learn in seconds, and gives reward and
training experiments a fast baseline to compare the camera against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState


@dataclass(frozen=True)
class StateConfig:
    """Settings of the state vector.

    Attributes:
        lookahead: Distances ahead along the track (metres) at which the track's heading,
            relative to the car's, is reported.
    """

    lookahead: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0)


class StateSensor:
    """Observation: speed, yaw rate, steering, lateral offset and track headings ahead.

    Layout (float32): ``[vx/4, vy, yaw_rate/4, steering/max, offset/half_width,
    sin(heading error), cos(heading error), sin(rel_heading_k)..., ]`` with one entry per
    look-ahead distance; values lie within [-3, 3] in practice and are clipped to [-10, 10].
    """

    def __init__(self, track: Track, spec: CarSpec, config: StateConfig | None = None) -> None:
        self.track = track
        self.spec = spec
        self.config = config or StateConfig()
        self._ahead = np.asarray(self.config.lookahead, dtype=np.float64)
        self.shape: tuple[int, ...] = (7 + len(self._ahead),)
        self.low, self.high = -10.0, 10.0
        self.dtype = np.float32

    def observe(self, car: CarState) -> NDArray[np.float32]:
        """The state vector for ``car``."""
        pt = np.array(car.point_ahead(self.spec.params_point_ahead))
        proj = self.track.project(pt)
        s = float(proj.s[0])
        half = max(float(proj.width[0]) / 2.0, 1e-6)
        headings = self.track.heading_at(np.concatenate([[s], s + self._ahead]))
        rel = np.angle(np.exp(1j * (headings - car.yaw)))
        out = np.empty(self.shape, dtype=np.float32)
        out[0] = car.vx / 4.0
        out[1] = car.vy
        out[2] = car.yaw_rate / 4.0
        out[3] = car.steering / math.radians(self.spec.max_steering_deg)
        out[4] = float(proj.offset[0]) / half
        out[5] = math.sin(rel[0])
        out[6] = math.cos(rel[0])
        out[7:] = np.sin(rel[1:])
        np.clip(out, self.low, self.high, out=out)
        return out
