"""The yardstick: the minimum-time racing line of a closed track for the car's measured limits.

:func:`optimal_lap` finds a path between the borders and a speed profile along it:

1. **Reference line.** The centre line, resampled every ``ds`` metres and lightly smoothed
   (the track files are polylines whose corners would otherwise show up as curvature spikes).
2. **Path.** A lateral offset along the reference line's normals, written as a periodic cubic
   B-spline with a control point every ``control_spacing`` metres. Each control value is kept
   within the borders (less ``margin``) over its whole support, so the B-spline's convex-hull
   property keeps every point of the path inside.
3. **Speed profile** (the classic three passes): the cornering limit
   ``v <= sqrt(a_lat(curvature) / |curvature|)`` capped at top speed (the measured lateral
   limit falls on circles near full lock and vanishes past it, so the path stays
   steerable); a forward pass limited by the measured full-throttle acceleration ``a(v)``
   and a backward pass by the measured braking, each within a friction circle
   (``a_long^2 + a_lat^2 <= a_lat^2`` of that point). Lap time ``T = sum ds / v``.
4. **Optimisation.** Start from the minimum-curvature line (a box-constrained least-squares
   problem on the control values, solved by ADMM, with the curvature linearised about the
   centre line), then lower ``T`` directly by projected gradient descent (central-difference
   gradients, numba-compiled), coarse to fine: control points 1 m apart, then 0.5 m, then
   0.25 m. The coarse stages make the long, sweeping changes (using the track's width through
   a whole bend) that fine control points reach only slowly.

:func:`drive_racing_line` checks the result in the real physics: a pure-pursuit driver follows
the line at its speed profile for one flying lap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from racer.sim.car_limits import CarLimits, measure_limits
from racer.sim.physics import DEFAULT_SPEC, PhysicsConfig, PhysicsWorld
from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState

FloatArray = NDArray[np.float64]

COARSE_STAGES = 2
"""Optimisation stages before the final one, each with control points twice as far apart."""
WHEEL_CLEARANCE = 0.04
"""Gap kept between the outer wheels and the border by the default margin, metres."""


def default_margin(spec: CarSpec = DEFAULT_SPEC) -> float:
    """Half the car's track width plus :data:`WHEEL_CLEARANCE`: all wheels stay inside."""
    return spec.track_width / 2.0 + WHEEL_CLEARANCE


@dataclass(frozen=True, eq=False)
class RacingLine:
    """A path around a closed track with the fastest speed profile the car allows along it.

    Attributes:
        track_name: Name of the track it was computed for.
        points: (N, 2) path of the car's reference point (rear-axle midpoint), in the direction
            of travel; the path closes from the last point to the first.
        offsets: (N,) signed distance of each point from the track's centre line (positive to
            the left), as :meth:`Track.project` measures it.
        centre_s: (N,) distance along the track's centre line of each point's projection.
        speeds: (N,) optimal speed at each point, m/s.
        distances: (N,) distance along the path from its first point, metres.
        curvature: (N,) signed curvature of the path, 1/m (positive = turning left).
        lap_time: Time for one flying lap at the speed profile, seconds.
        centre_lap_time: The same speed model on the (smoothed) centre line, seconds.
        limits: The car limits used.
        margin: Distance kept between the path and the borders, metres.
    """

    track_name: str
    points: FloatArray
    offsets: FloatArray
    centre_s: FloatArray
    speeds: FloatArray
    distances: FloatArray
    curvature: FloatArray
    lap_time: float
    centre_lap_time: float
    limits: CarLimits
    margin: float

    def __post_init__(self) -> None:
        for arr in (self.points, self.offsets, self.centre_s, self.speeds, self.distances):
            arr.setflags(write=False)
        self.curvature.setflags(write=False)

    @property
    def length(self) -> float:
        """Length of the closed path, metres."""
        return float(self.distances[-1] + np.hypot(*(self.points[0] - self.points[-1])))

    @property
    def num_points(self) -> int:
        """Number of path points."""
        return len(self.points)

    @property
    def improvement(self) -> float:
        """Fraction of the centre line's lap time saved, e.g. 0.12 for 12 %."""
        return 1.0 - self.lap_time / self.centre_lap_time

    def speed_at(self, distance: float | FloatArray) -> FloatArray:
        """Optimal speed at ``distance`` metres along the path (wrapped), interpolated."""
        d = np.mod(np.asarray(distance, dtype=np.float64), self.length)
        xp = np.append(self.distances, self.length)
        return np.interp(d, xp, np.append(self.speeds, self.speeds[0]))

    def as_track(self, width: float = 0.3) -> Track:
        """The path as a narrow :class:`Track` (for pure pursuit and projections onto it)."""
        return Track.from_centreline(
            f"{self.track_name}:racing_line", np.asarray(self.points), width, closed=True
        )


def lap_ratio(lap_time: float, racing_line: RacingLine) -> float:
    """A lap time as a multiple of the optimum: 1.0 is perfect, 1.25 is 25 % slower.

    Args:
        lap_time: A lap time, seconds.
        racing_line: The optimum for the same track and car.

    Returns:
        ``lap_time / racing_line.lap_time``.
    """
    return float(lap_time) / racing_line.lap_time


# ---------------------------------------------------------------------- speed model (numba)
@numba.njit(cache=True)
def _curvature_and_steps(px: FloatArray, py: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Three-point (circumscribed circle) curvature at each point and forward step lengths."""
    n = px.shape[0]
    k = np.empty(n)
    ds = np.empty(n)
    for i in range(n):
        a, b = (i - 1) % n, (i + 1) % n
        ax, ay = px[i] - px[a], py[i] - py[a]
        bx, by = px[b] - px[i], py[b] - py[i]
        la = math.sqrt(ax * ax + ay * ay)
        lb = math.sqrt(bx * bx + by * by)
        cx, cy = px[b] - px[a], py[b] - py[a]
        lc = math.sqrt(cx * cx + cy * cy)
        k[i] = 2.0 * (ax * by - ay * bx) / max(la * lb * lc, 1e-12)
        ds[i] = lb
    return k, ds


@numba.njit(cache=True)
def _speed_profile(
    px: FloatArray,
    py: FloatArray,
    top: float,
    acc_v: FloatArray,
    acc_a: FloatArray,
    brake: float,
    lat_k: FloatArray,
    lat_a: FloatArray,
    v: FloatArray,
) -> float:
    """Fill ``v`` with the fastest speeds along the closed path; return the lap time.

    The lateral limit depends on the curvature (``lat_a`` against ``lat_k``); it is also the
    radius of the friction circle that acceleration and braking share with cornering.
    """
    n = px.shape[0]
    k, ds = _curvature_and_steps(px, py)
    grip = np.empty(n)
    start = 0
    for i in range(n):
        ak = abs(k[i])
        grip[i] = np.interp(ak, lat_k, lat_a)
        v[i] = min(top, math.sqrt(grip[i] / ak)) if ak > 1e-9 else top
        if v[i] < v[start]:
            start = i
    for j in range(n):  # forward: acceleration within the friction circle
        i = (start + j) % n
        nxt = (i + 1) % n
        lat = v[i] * v[i] * abs(k[i])
        along = math.sqrt(max(grip[i] * grip[i] - lat * lat, 0.0))
        acc = min(np.interp(v[i], acc_v, acc_a), along)
        v[nxt] = min(v[nxt], math.sqrt(v[i] * v[i] + 2.0 * acc * ds[i]))
    for j in range(n):  # backward: braking within the friction circle
        nxt = (start - j) % n
        i = (nxt - 1) % n
        lat = v[nxt] * v[nxt] * abs(k[nxt])
        dec = min(brake, math.sqrt(max(grip[nxt] * grip[nxt] - lat * lat, 0.0)))
        v[i] = min(v[i], math.sqrt(v[nxt] * v[nxt] + 2.0 * dec * ds[i]))
    t = 0.0
    for i in range(n):
        t += 2.0 * ds[i] / max(v[i] + v[(i + 1) % n], 1e-9)
    return t


@numba.njit(cache=True)
def _path_time(
    ref: FloatArray,
    nrm: FloatArray,
    idx: NDArray[np.int64],
    w: FloatArray,
    c: FloatArray,
    model: tuple[float, FloatArray, FloatArray, float, FloatArray, FloatArray],
    v: FloatArray,
) -> float:
    """Lap time of the path ``ref + (B c) * nrm`` (B given as 4 indices and weights a row)."""
    n = ref.shape[0]
    px = np.empty(n)
    py = np.empty(n)
    for i in range(n):
        a = 0.0
        for q in range(4):
            a += w[i, q] * c[idx[i, q]]
        px[i] = ref[i, 0] + a * nrm[i, 0]
        py[i] = ref[i, 1] + a * nrm[i, 1]
    top, acc_v, acc_a, brake, lat_k, lat_a = model
    return _speed_profile(px, py, top, acc_v, acc_a, brake, lat_k, lat_a, v)


@numba.njit(cache=True)
def _time_gradient(
    ref: FloatArray,
    nrm: FloatArray,
    idx: NDArray[np.int64],
    w: FloatArray,
    c: FloatArray,
    model: tuple[float, FloatArray, FloatArray, float, FloatArray, FloatArray],
    delta: float,
) -> FloatArray:
    """Central-difference gradient of the lap time with respect to the control values."""
    m = c.shape[0]
    v = np.empty(ref.shape[0])
    g = np.empty(m)
    work = c.copy()
    for j in range(m):
        work[j] = c[j] + delta
        up = _path_time(ref, nrm, idx, w, work, model, v)
        work[j] = c[j] - delta
        down = _path_time(ref, nrm, idx, w, work, model, v)
        work[j] = c[j]
        g[j] = (up - down) / (2.0 * delta)
    return g


# ---------------------------------------------------------------------- geometry helpers
def _smooth_periodic(values: FloatArray, sigma_pts: float) -> FloatArray:
    """Gaussian smoothing of a periodic sequence (along axis 0) by FFT."""
    n = len(values)
    freq = np.fft.rfftfreq(n)
    gain = np.exp(-2.0 * (math.pi * freq * sigma_pts) ** 2)
    spectrum = np.fft.rfft(values, axis=0)
    shape = (-1,) + (1,) * (values.ndim - 1)
    return np.fft.irfft(spectrum * gain.reshape(shape), n=n, axis=0)


def _normals(points: FloatArray) -> FloatArray:
    """Unit left normals of a closed path (central differences)."""
    t = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-12)[:, None]
    return np.stack([-t[:, 1], t[:, 0]], axis=1)


def _bspline_basis(n: int, m: int) -> tuple[NDArray[np.int64], FloatArray]:
    """Periodic uniform cubic B-spline: for each of ``n`` samples, 4 control indices, weights."""
    u = np.arange(n) * m / n
    j0 = np.floor(u).astype(np.int64)
    t = u - j0
    w = np.stack(
        [
            (1 - t) ** 3 / 6,
            (3 * t**3 - 6 * t**2 + 4) / 6,
            (-3 * t**3 + 3 * t**2 + 3 * t + 1) / 6,
            t**3 / 6,
        ],
        axis=1,
    )
    idx = (j0[:, None] + np.arange(-1, 3)[None, :]) % m
    return idx, w


def _dense_basis(idx: NDArray[np.int64], w: FloatArray, m: int) -> FloatArray:
    b = np.zeros((len(idx), m))
    np.add.at(b, (np.repeat(np.arange(len(idx)), 4), idx.ravel()), w.ravel())
    return b


@dataclass(frozen=True)
class _Problem:
    """The discretised optimisation problem for one track."""

    ref: FloatArray  # (N, 2) smoothed centre line
    nrm: FloatArray  # (N, 2) its unit left normals
    idx: NDArray[np.int64]  # (N, 4) B-spline control indices
    w: FloatArray  # (N, 4) B-spline weights
    lower: FloatArray  # (M,) control value bounds
    upper: FloatArray
    model: tuple[float, FloatArray, FloatArray, float, FloatArray, FloatArray]

    def path(self, c: FloatArray) -> FloatArray:
        alpha = np.sum(self.w * c[self.idx], axis=1)
        return self.ref + alpha[:, None] * self.nrm

    def time(self, c: FloatArray) -> float:
        v = np.empty(len(self.ref))
        return float(_path_time(self.ref, self.nrm, self.idx, self.w, c, self.model, v))


def _problem(
    track: Track, limits: CarLimits, margin: float, ds: float, control_spacing: float
) -> _Problem:
    n = max(int(math.ceil(track.length / ds)), 64)
    s: FloatArray = np.arange(n, dtype=np.float64) * (track.length / n)
    ref = _smooth_periodic(np.asarray(track.point_at(s)), sigma_pts=0.15 / (track.length / n))
    nrm = _normals(ref)
    proj = track.project(ref)
    lo = -(proj.right_width - margin) - proj.offset
    hi = (proj.left_width - margin) - proj.offset
    if np.any(hi < lo):
        narrow = float(np.min(proj.left_width + proj.right_width))
        raise ValueError(
            f"{track.name}: the track ({narrow:.2f} m at its narrowest) is too narrow for a "
            f"margin of {margin:.2f} m either side"
        )
    m = max(int(round(track.length / control_spacing)), 8)
    idx, w = _bspline_basis(n, m)
    lower, upper = np.full(m, -np.inf), np.full(m, np.inf)
    for q in range(4):  # each control value must fit everywhere its basis function reaches
        np.maximum.at(lower, idx[:, q], np.where(w[:, q] > 0, lo, -np.inf))
        np.minimum.at(upper, idx[:, q], np.where(w[:, q] > 0, hi, np.inf))
    squeezed = lower > upper
    lower[squeezed] = upper[squeezed] = 0.5 * (lower[squeezed] + upper[squeezed])
    v_grid, a_grid = limits.accel_table()
    k_grid, lat_grid = limits.lateral_table()
    model = (limits.top_speed, v_grid, a_grid, limits.max_brake, k_grid, lat_grid)
    return _Problem(ref, nrm, idx, w, lower, upper, model)


def _min_curvature(p: _Problem, iterations: int = 400) -> FloatArray:
    """Control values of the minimum-curvature path: box-constrained least squares by ADMM."""
    n, m = len(p.ref), len(p.lower)
    b = _dense_basis(p.idx, p.w, m)
    d2 = np.roll(np.eye(n), -1, axis=1) - 2 * np.eye(n) + np.roll(np.eye(n), 1, axis=1)
    a = np.vstack([d2 @ (p.nrm[:, :1] * b), d2 @ (p.nrm[:, 1:] * b)])
    r = np.concatenate([d2 @ p.ref[:, 0], d2 @ p.ref[:, 1]])
    h = a.T @ a
    g = a.T @ r
    rho = float(np.trace(h)) / m
    inv = np.linalg.inv(h + rho * np.eye(m))
    z = np.clip(np.zeros(m), p.lower, p.upper)
    u = np.zeros(m)
    for _ in range(iterations):
        x = inv @ (rho * (z - u) - g)
        z = np.clip(x + u, p.lower, p.upper)
        u += x - z
    return z


def _descend(p: _Problem, c: FloatArray, iterations: int, delta: float = 1e-3) -> FloatArray:
    """Projected gradient descent on the lap time with a backtracking step (in metres)."""
    best = p.time(c)
    step = 0.02  # largest move of any control value per iteration, metres
    for _ in range(iterations):
        grad = _time_gradient(p.ref, p.nrm, p.idx, p.w, c, p.model, delta)
        scale = float(np.max(np.abs(grad)))
        if scale == 0.0:
            break
        while step > 1e-4:
            trial = np.clip(c - step * grad / scale, p.lower, p.upper)
            t = p.time(trial)
            if t < best:
                c, best = trial, t
                step *= 1.5
                break
            step *= 0.5
        else:
            break
    return c


def optimal_lap(
    track: Track,
    limits: CarLimits | None = None,
    *,
    margin: float | None = None,
    ds: float = 0.05,
    control_spacing: float = 0.25,
    iterations: int = 50,
) -> RacingLine:
    """The minimum-time racing line of a closed track for the car's limits.

    Args:
        track: A closed track, in its direction of travel.
        limits: Car limits; defaults to :func:`measure_limits` of the default car.
        margin: Distance kept between the path (the rear-axle midpoint) and both borders,
            metres; defaults to :func:`default_margin` (half the car's track width + 4 cm).
        ds: Spacing of the path's points, metres.
        control_spacing: Spacing of the B-spline control points that shape the final path,
            metres. The optimisation starts with control points 4 times further apart and
            halves their spacing twice (coarse to fine: long, sweeping changes first).
        iterations: Gradient steps per stage (0 keeps the minimum-curvature line of the
            coarsest stage).

    Returns:
        The racing line.

    Raises:
        ValueError: For an open track, or a track too narrow for the margin.
    """
    if not track.closed:
        raise ValueError(
            f"{track.name}: optimal_lap needs a closed track (a lap); this one is open"
        )
    lim = limits if limits is not None else measure_limits()
    mar = default_margin() if margin is None else float(margin)
    spacings = [control_spacing * 2**k for k in range(COARSE_STAGES, -1, -1)]
    p = _problem(track, lim, mar, ds, spacings[0])
    centre_time = p.time(np.zeros(len(p.lower)))
    c = _min_curvature(p)
    for k, spacing in enumerate(spacings):
        if k:
            p, c = _refine(track, lim, mar, ds, spacing, p, c)
        c = _descend(p, c, iterations)
    return _racing_line(track, p, c, lim, mar, centre_time)


def _refine(
    track: Track,
    limits: CarLimits,
    margin: float,
    ds: float,
    spacing: float,
    p: _Problem,
    c: FloatArray,
) -> tuple[_Problem, FloatArray]:
    """The problem with finer control points, and the control values that best fit ``c``."""
    alpha = np.sum(p.w * c[p.idx], axis=1)
    fine = _problem(track, limits, margin, ds, spacing)
    basis = _dense_basis(fine.idx, fine.w, len(fine.lower))
    fitted = np.linalg.lstsq(basis, alpha, rcond=None)[0]
    return fine, np.clip(fitted, fine.lower, fine.upper)


def _racing_line(
    track: Track, p: _Problem, c: FloatArray, limits: CarLimits, margin: float, centre: float
) -> RacingLine:
    pts = p.path(c)
    v = np.empty(len(pts))
    t = _speed_profile(pts[:, 0], pts[:, 1], *p.model, v)
    k, steps = _curvature_and_steps(pts[:, 0], pts[:, 1])
    proj = track.project(pts)
    return RacingLine(
        track_name=track.name,
        points=pts,
        offsets=np.asarray(proj.offset, dtype=np.float64),
        centre_s=np.asarray(proj.s, dtype=np.float64),
        speeds=v,
        distances=np.concatenate([[0.0], np.cumsum(steps[:-1])]),
        curvature=k,
        lap_time=float(t),
        centre_lap_time=float(centre),
        limits=limits,
        margin=margin,
    )


# ---------------------------------------------------------------------- check in the physics
@dataclass(frozen=True)
class PursuitResult:
    """One flying lap of a pure-pursuit driver following a racing line in the physics.

    Attributes:
        completed: The lap was finished.
        lap_time: Seconds for the lap (None when not completed).
        optimal_time: The racing line's computed lap time, seconds.
        left_track: All four wheels were outside the borders at some step.
        wheels_off_steps: Control steps with at least one wheel outside the borders.
        steps: Control steps driven.
        max_line_error: Largest distance of the rear axle from the racing line, metres.
    """

    completed: bool
    lap_time: float | None
    optimal_time: float
    left_track: bool
    wheels_off_steps: int
    steps: int
    max_line_error: float

    @property
    def ratio(self) -> float | None:
        """Lap time over the optimum (None when the lap was not completed)."""
        return None if self.lap_time is None else self.lap_time / self.optimal_time


def drive_racing_line(
    track: Track,
    line: RacingLine,
    spec: CarSpec = DEFAULT_SPEC,
    physics: PhysicsConfig = PhysicsConfig(),
    *,
    control_hz: float = 15.0,
    speed_scale: float = 1.0,
    gains: tuple[float, float] = (2.0, 0.5),
    preview_time: float = 0.1,
) -> PursuitResult:
    """Drive one flying lap along ``line`` in the physics at its speed profile.

    The car starts on the line's first point at the line's speed there. Each control step it
    steers with the line's curvature ``preview_time`` seconds ahead (feed-forward, which makes
    up for the 15 Hz control and the steering servo) plus a Stanley correction of its heading
    and lateral errors, and commands the profile's speed ``preview_time`` seconds ahead (the
    speed controller lags behind its command).

    Args:
        track: The track (for the borders).
        line: The racing line to follow.
        spec: The car.
        physics: Physics settings.
        control_hz: Control rate, Hz.
        speed_scale: Multiplies the commanded speeds (1.0 drives the optimum).
        gains: ``(k_lateral, k_heading)``: steering per metre of lateral error per m/s of
            speed (inside an arctangent, as in the Stanley controller), and per radian of
            heading error.
        preview_time: How far ahead, in seconds of travel, curvature and speed are read.

    Returns:
        What happened.
    """
    path = line.as_track()
    wheels = spec.wheel_offsets()
    heading = float(path.heading_at(0.0)[0])
    v0 = float(line.speeds[0]) * speed_scale
    state = CarState(float(line.points[0, 0]), float(line.points[0, 1]), heading, vx=v0)
    travelled, s_prev, off_steps, left, err = 0.0, 0.0, 0, False, 0.0
    max_steps = int(3.0 * line.lap_time / speed_scale * control_hz) + 100
    with PhysicsWorld(spec, physics, control_hz) as world:
        world.reset_car(state)
        for step in range(1, max_steps + 1):
            proj = path.project(np.array([state.x, state.y]))
            s, e = float(proj.s[0]), float(proj.offset[0])
            err = max(err, abs(e))
            steer = _steering(path, line, spec, state, s, e, gains, preview_time)
            speed = float(line.speed_at(s + preview_time * state.speed)) * speed_scale
            # Traction control: ask for no more acceleration than the friction circle leaves.
            a_lat = state.speed * state.yaw_rate
            grip = float(line.limits.lateral_accel_at(a_lat / max(state.speed, 0.1) ** 2))
            spare = math.sqrt(max(grip * grip - a_lat * a_lat, 0.0))
            speed = min(speed, state.speed + preview_time * spare)
            state = world.step(steer, speed)
            inside = track.project(state.body_to_world(wheels)).inside
            off_steps += int(not inside.all())
            left = left or not inside.any()
            s_new = float(path.project(np.array([state.x, state.y])).s[0])
            half = path.length / 2.0
            travelled += (s_new - s_prev + half) % path.length - half
            s_prev = s_new
            if travelled >= path.length:
                over = (travelled - path.length) / max(state.speed, 1e-6)
                lap = step / control_hz - min(over, 1.0 / control_hz)  # finish within the step
                return PursuitResult(True, lap, line.lap_time, left, off_steps, step, err)
    return PursuitResult(False, None, line.lap_time, left, off_steps, max_steps, err)


def _steering(
    path: Track,
    line: RacingLine,
    spec: CarSpec,
    state: CarState,
    s: float,
    lateral_error: float,
    gains: tuple[float, float],
    preview_time: float,
) -> float:
    """Feed-forward curvature steering plus a Stanley correction, radians."""
    v = state.speed
    k_ff = float(
        np.interp(
            (s + preview_time * v) % line.length,
            np.append(line.distances, line.length),
            np.append(line.curvature, line.curvature[0]),
        )
    )
    heading = float(path.heading_at(s)[0])
    heading_error = (state.yaw - heading + math.pi) % (2.0 * math.pi) - math.pi
    k_lat, k_head = gains
    steer = (
        math.atan(spec.wheelbase * k_ff)
        - k_head * heading_error
        - math.atan(k_lat * lateral_error / max(v, 0.5))
    )
    limit = math.radians(spec.max_steering_deg)
    return max(-limit, min(limit, steer))
