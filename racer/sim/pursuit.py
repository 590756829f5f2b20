"""A scripted pure-pursuit driver that follows a track's centre line.

Used by tests, demos and reward checks: it steers the rear axle toward a point ``lookahead``
metres further along the centre line (pure pursuit: curvature ``2 sin(alpha) / distance``) and
drives either at a fixed speed or at a speed profile ``v = sqrt(a_lat / |curvature|)`` that
brakes ahead of corners.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState

_DEFAULT_SPEC = CarSpec()


class PurePursuitDriver:
    """Pure-pursuit steering with a constant speed or a curvature-based speed profile.

    Args:
        track: The track to follow, in its direction of travel.
        spec: The car (wheelbase, steering and speed limits).
        lookahead: Distance along the centre line from the car's projection to the target
            point, metres.
        speed: A constant commanded speed, m/s; ``None`` uses the speed profile.
        max_lateral_accel: Lateral acceleration the profile plans for, m/s^2; ``None`` means
            60 % of the tyres' grip limit (``0.6 * grip * 9.81``).
        braking: Deceleration the profile plans for ahead of corners, m/s^2; ``None`` means
            half the car's braking limit.
        smoothing: Length of the moving average applied to the centre line's curvature, metres.
    """

    def __init__(
        self,
        track: Track,
        spec: CarSpec = _DEFAULT_SPEC,
        lookahead: float = 0.45,
        speed: float | None = None,
        max_lateral_accel: float | None = None,
        braking: float | None = None,
        smoothing: float = 0.4,
    ) -> None:
        self.track = track
        self.spec = spec
        self.lookahead = lookahead
        self.speed = speed
        self.max_lateral_accel = (
            0.6 * spec.grip * 9.81 if max_lateral_accel is None else max_lateral_accel
        )
        self.braking = 0.5 * spec.max_brake if braking is None else braking
        self.profile = self._speed_profile(smoothing)

    def _speed_profile(self, smoothing: float) -> NDArray[np.float64]:
        """Planned speed at each centre point: cornering limit, then braking ahead of corners."""
        tr, sp = self.track, self.spec
        step = tr.length / tr.num_points
        half = max(1, int(round(smoothing / step / 2)))
        kernel = np.ones(2 * half + 1) / (2 * half + 1)
        k = np.abs(tr.curvature())
        padded = np.pad(k, half, mode="wrap") if tr.closed else np.pad(k, half, mode="edge")
        k = np.convolve(padded, kernel, mode="valid")
        v = np.sqrt(self.max_lateral_accel / np.maximum(k, 1e-9))
        v = np.clip(v, sp.min_speed, sp.max_speed)
        seg = np.diff(np.append(tr.distances, tr.length))
        n = len(v)
        laps = 2 if tr.closed else 1
        for j in range(laps * n - 1, -1, -1):  # backward pass: v_i^2 <= v_{i+1}^2 + 2 a ds
            i, nxt = j % n, (j + 1) % n
            if not tr.closed and i == n - 1:
                continue
            v[i] = min(v[i], math.sqrt(v[nxt] ** 2 + 2.0 * self.braking * seg[i]))
        return v

    def act(self, state: CarState) -> tuple[float, float]:
        """Choose the action for ``state``.

        Args:
            state: The car's state (base = rear-axle midpoint).

        Returns:
            ``(steering_deg, speed)``: steering in degrees (positive = left, clipped to the
            car's limit) and commanded speed in m/s.
        """
        tr, sp = self.track, self.spec
        s = float(tr.project(np.array([state.x, state.y])).s[0])
        tx, ty = tr.point_at(s + self.lookahead)
        dx, dy = tx - state.x, ty - state.y
        c, sn = math.cos(state.yaw), math.sin(state.yaw)
        lx, ly = c * dx + sn * dy, -sn * dx + c * dy
        dist2 = max(lx * lx + ly * ly, 1e-9)
        steer = math.degrees(math.atan(2.0 * sp.wheelbase * ly / dist2))
        steer = max(-sp.max_steering_deg, min(sp.max_steering_deg, steer))
        if self.speed is not None:
            return steer, float(self.speed)
        return steer, self._planned_speed(s, state.speed)

    def _planned_speed(self, s: float, speed: float) -> float:
        """Lowest planned speed over the stretch the car covers before it can react."""
        tr = self.track
        preview = 0.1 + 0.2 * speed
        seg = np.searchsorted(tr.distances, tr.wrap(np.array([s, s + preview])), side="right") - 1
        i0, i1 = int(seg[0]), int(seg[1])
        idx = np.arange(i0, i1 + 1) if i1 >= i0 else np.r_[i0 : tr.num_points, 0 : i1 + 1]
        return float(self.profile[idx].min())
