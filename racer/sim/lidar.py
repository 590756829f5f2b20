"""DeepRacer's lidar: 64 beams over +-150 degrees, and the 8-sector variant.

Beams are 2D rays from the sensor (mounted ``forward`` metres ahead of the base, ``lateral`` to
the left) against the footprints of obstacle boxes and bot cars (oriented rectangles, the rows of
:func:`racer.sim.types.objects_array`). Distances are clipped to ``[min_range, max_range]`` as in
DeepRacer's network input; a beam that hits nothing reads ``max_range``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from racer.sim.types import CarState

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]


@dataclass(frozen=True)
class LidarConfig:
    """Lidar geometry and range.

    Attributes:
        beams: Number of beams, spread evenly from ``-fov / 2`` (right) to ``+fov / 2`` (left).
        fov_deg: Angular span, degrees (DeepRacer: 300).
        min_range: Readings below this are raised to it, metres.
        max_range: Readings above this, and misses, read this, metres.
        forward: Sensor position ahead of the base (rear-axle midpoint), metres (default: the
            body's centre).
        lateral: Sensor position to the left of the centre line of the car, metres.
        sectors: Number of sectors of :class:`SectorLidar`.
        sector_threshold: A sector reads 1 if any of its beams is nearer than this, metres.
    """

    beams: int = 64
    fov_deg: float = 300.0
    min_range: float = 0.15
    max_range: float = 1.0
    forward: float = 0.085
    lateral: float = 0.0
    sectors: int = 8
    sector_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.beams < 1 or self.beams % self.sectors:
            raise ValueError(f"beams ({self.beams}) must be a positive multiple of sectors")
        if not 0.0 <= self.min_range < self.max_range:
            raise ValueError("need 0 <= min_range < max_range")

    @property
    def angles(self) -> FloatArray:
        """(beams,) beam angles relative to the car's heading, radians, right to left."""
        half = math.radians(self.fov_deg) / 2.0
        return np.linspace(-half, half, self.beams)


@numba.njit(cache=True, fastmath=True)
def _scan(
    ox: float,
    oy: float,
    yaw: float,
    angles: FloatArray,
    objects: FloatArray,
    max_range: float,
    min_range: float,
) -> Float32Array:
    """Clipped distance along each beam to the nearest object footprint (slab test in 2D)."""
    n = angles.shape[0]
    out = np.empty(n, dtype=np.float32)
    for b in range(n):
        a = yaw + angles[b]
        dx = math.cos(a)
        dy = math.sin(a)
        best = max_range
        for k in range(objects.shape[0]):
            co = math.cos(objects[k, 2])
            so = math.sin(objects[k, 2])
            rx = ox - objects[k, 0]
            ry = oy - objects[k, 1]
            px = co * rx + so * ry
            py = -so * rx + co * ry
            ddx = co * dx + so * dy
            ddy = -so * dx + co * dy
            hl = objects[k, 3]
            hw = objects[k, 4]
            t0 = -1e30
            t1 = 1e30
            if abs(ddx) < 1e-12:
                if abs(px) > hl:
                    continue
            else:
                ta = (-hl - px) / ddx
                tb = (hl - px) / ddx
                t0 = max(t0, min(ta, tb))
                t1 = min(t1, max(ta, tb))
            if abs(ddy) < 1e-12:
                if abs(py) > hw:
                    continue
            else:
                ta = (-hw - py) / ddy
                tb = (hw - py) / ddy
                t0 = max(t0, min(ta, tb))
                t1 = min(t1, max(ta, tb))
            if t0 > t1 or t1 < 0.0:
                continue
            t = max(t0, 0.0)  # a sensor inside a footprint reads 0 (then min_range)
            best = min(best, t)
        out[b] = max(best, min_range)
    return out


class Lidar:
    """A 2D lidar on the car.

    Args:
        config: Geometry and range.
    """

    def __init__(self, config: LidarConfig | None = None) -> None:
        self.config = config if config is not None else LidarConfig()
        self._angles = np.ascontiguousarray(self.config.angles)

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """``(beams,)``."""
        return (self.config.beams,)

    def scan(self, state: CarState, objects: FloatArray | None = None) -> Float32Array:
        """Distances along each beam, right to left.

        Args:
            state: The car.
            objects: (K, 7) objects from :func:`racer.sim.types.objects_array`.

        Returns:
            float32 ``(beams,)`` distances in ``[min_range, max_range]``, metres.
        """
        cfg = self.config
        c, s = math.cos(state.yaw), math.sin(state.yaw)
        ox = state.x + c * cfg.forward - s * cfg.lateral
        oy = state.y + s * cfg.forward + c * cfg.lateral
        objs = _EMPTY if objects is None else np.asarray(objects, dtype=np.float64)
        return _scan(ox, oy, state.yaw, self._angles, objs, cfg.max_range, cfg.min_range)


class SectorLidar:
    """DeepRacer's sector lidar: one flag per sector, 1.0 if anything is near in it.

    The beams of :class:`Lidar` are grouped, right to left, into ``config.sectors`` equal sectors.

    Args:
        config: Geometry, range and sector settings.
    """

    def __init__(self, config: LidarConfig | None = None) -> None:
        self.config = config if config is not None else LidarConfig()
        self.lidar = Lidar(self.config)

    @property
    def sectors(self) -> int:
        """Number of sectors."""
        return self.config.sectors

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """``(sectors,)``."""
        return (self.config.sectors,)

    def scan(self, state: CarState, objects: FloatArray | None = None) -> Float32Array:
        """Sector flags, right to left.

        Args:
            state: The car.
            objects: (K, 7) objects from :func:`racer.sim.types.objects_array`.

        Returns:
            float32 ``(sectors,)`` of 0.0 or 1.0.
        """
        cfg = self.config
        ranges = self.lidar.scan(state, objects).reshape(cfg.sectors, -1)
        return (ranges.min(axis=1) < cfg.sector_threshold).astype(np.float32)


_EMPTY = np.zeros((0, 7))
