"""Seeded random tracks: smooth closed loops that are valid and drivable by construction.

A shape is a star-shaped curve around the origin whose radius is a short random Fourier series
(so it never crosses itself), stretched and rotated at random. It is scaled to the requested
length and resampled at even spacing. While its tightest bend is below ``min_radius``, or two
distant parts of the track come too close, the shape is smoothed towards an ellipse and then a
circle, which always pass. The same seed always gives the same arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from racer.sim.track import Track
from racer.sim.trackcheck import TrackError, validate_track
from racer.sim.types import CarSpec

FloatArray = NDArray[np.float64]

DEFAULT_WIDTH = 0.76
DEFAULT_MIN_RADIUS = 0.5
DEFAULT_LENGTH = 20.0
#: Target distance between centre-line points, metres.
SPACING = 0.07
#: Grass kept between two parts of the track that are not neighbours along it, metres.
MIN_GAP = 0.2
_DENSE = 4096
_SMOOTHING_STEPS = 40


def generate_track(
    seed: int,
    *,
    width: float = DEFAULT_WIDTH,
    min_radius: float = DEFAULT_MIN_RADIUS,
    approx_length: float = DEFAULT_LENGTH,
    name: str | None = None,
) -> Track:
    """Make a random closed track from a seed.

    Args:
        seed: Any integer; the only source of randomness.
        width: Border-to-border width, metres (wider than the car).
        min_radius: Smallest centre-line turn radius, metres; must exceed ``width / 2``.
        approx_length: Centre-line length, metres (met to within a fraction of a percent).
        name: Registry name; defaults to ``generated:SEED`` plus any non-default option, so
            that :func:`racer.sim.track_registry.get_track` of the name rebuilds the track.

    Returns:
        A validated, counter-clockwise or clockwise closed track.

    Raises:
        ValueError: If the options cannot make a drivable track.
    """
    _check_options(width, min_radius, approx_length)
    rng = np.random.default_rng(seed)
    coeffs, stretch, angle = _random_shape(rng)
    clockwise = bool(rng.random() < 0.5)
    track_name = name or generated_name(seed, width, min_radius, approx_length)
    meta = {
        "description": f"Random track from seed {seed}.",
        "source": "racer.sim.trackgen.generate_track",
        "generator": {
            "seed": seed,
            "width": width,
            "min_radius": min_radius,
            "approx_length": approx_length,
        },
    }
    for step in range(_SMOOTHING_STEPS + 1):
        keep = 1.0 - step / _SMOOTHING_STEPS  # 1 = full shape ... 0 = circle
        # Damp the higher harmonics (the tight bends) faster than the overall outline.
        damped = coeffs * keep ** np.arange(1, len(coeffs) + 1)[:, None]
        centre = _centre_line(damped, 1.0 + (stretch - 1.0) * keep, angle, approx_length)
        if clockwise:
            centre = centre[::-1]
        centre = _start_on_straight(centre)
        track = Track.from_centreline(
            track_name, centre, width, closed=True, display_name=f"Generated {seed}",
            metadata=meta,
        )  # fmt: skip
        if _drivable(track, width, min_radius):
            return track
    raise ValueError(f"could not make a drivable track for seed {seed}")  # pragma: no cover


def generated_name(seed: int, width: float, min_radius: float, approx_length: float) -> str:
    """The registry name of a generated track: ``generated:SEED[:key=value...]``."""
    parts = [f"generated:{seed}"]
    for key, value, default in (
        ("width", width, DEFAULT_WIDTH),
        ("min_radius", min_radius, DEFAULT_MIN_RADIUS),
        ("length", approx_length, DEFAULT_LENGTH),
    ):
        if value != default:
            parts.append(f"{key}={value:g}")
    return ":".join(parts)


def _check_options(width: float, min_radius: float, approx_length: float) -> None:
    car = CarSpec().body_width
    if not all(math.isfinite(v) for v in (width, min_radius, approx_length)):
        raise ValueError("width, min_radius and approx_length must be finite numbers")
    if width <= car:
        raise ValueError(f"width {width:g} m must be larger than the car's {car:g} m")
    if min_radius <= width / 2:
        raise ValueError(
            f"min_radius {min_radius:g} m must be larger than half the width ({width / 2:g} m)"
        )
    if approx_length / (2 * math.pi) < 1.05 * min_radius:
        raise ValueError(
            f"a {approx_length:g} m loop cannot keep every turn radius >= {min_radius:g} m; "
            f"use a length of at least {2.1 * math.pi * min_radius:.1f} m"
        )


def _random_shape(rng: np.random.Generator) -> tuple[FloatArray, float, float]:
    """Fourier coefficients (k, 2) of the relative radius, a stretch factor and a rotation."""
    n_ctrl = int(rng.integers(5, 13))
    base = np.arange(n_ctrl) * 2 * np.pi / n_ctrl
    angles = base + rng.uniform(-0.3, 0.3, n_ctrl) * 2 * np.pi / n_ctrl
    radii = rng.uniform(0.35, 1.0, n_ctrl)
    phi = np.linspace(0.0, 2 * np.pi, _DENSE, endpoint=False)
    order = np.argsort(angles % (2 * np.pi))
    r = np.interp(phi, (angles % (2 * np.pi))[order], radii[order], period=2 * np.pi)
    spectrum = np.fft.rfft(r) / _DENSE
    harmonics = int(rng.integers(3, 8))
    k = np.arange(1, harmonics + 1)
    coeffs = np.stack([2 * spectrum[k].real, -2 * spectrum[k].imag], axis=1)
    coeffs /= max(float(spectrum[0].real), 1e-9)
    stretch = float(rng.uniform(1.0, 1.7))
    angle = float(rng.uniform(0.0, 2 * np.pi))
    return coeffs, stretch, angle


def _centre_line(coeffs: FloatArray, stretch: float, angle: float, length: float) -> FloatArray:
    phi = np.linspace(0.0, 2 * np.pi, _DENSE, endpoint=False)
    k = np.arange(1, len(coeffs) + 1)[:, None]
    r = 1.0 + coeffs[:, 0] @ np.cos(k * phi) + coeffs[:, 1] @ np.sin(k * phi)
    pts = np.stack([r * np.cos(phi) * stretch, r * np.sin(phi)], axis=1)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = pts @ rot.T
    closed = np.vstack([pts, pts[:1]])
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(closed, axis=0).T))])
    closed *= length / cum[-1]
    cum *= length / cum[-1]
    n = max(16, round(length / SPACING))
    s = np.arange(n) * (length / n)
    return np.stack([np.interp(s, cum, closed[:, 0]), np.interp(s, cum, closed[:, 1])], axis=1)


def _start_on_straight(centre: FloatArray) -> FloatArray:
    """Rotate the point order so the lap starts where the line is straightest."""
    probe = Track.from_centreline("probe", centre, 1.0)
    k = np.abs(probe.curvature())
    window = max(3, len(k) // 20)
    smooth = np.convolve(np.concatenate([k, k[:window]]), np.ones(window), "valid")[: len(k)]
    start = (int(np.argmin(smooth)) + window // 2) % len(k)
    return np.roll(centre, -start, axis=0)


def _drivable(track: Track, width: float, min_radius: float) -> bool:
    if np.max(np.abs(track.curvature())) * min_radius > 1.0:
        return False
    if not _clear_of_itself(track.centre, track.length, width):
        return False
    try:
        validate_track(track, track.name)
    except TrackError:
        return False
    return True


def _clear_of_itself(centre: FloatArray, length: float, width: float) -> bool:
    """Whether parts of the loop far apart along it stay ``width + MIN_GAP`` apart in space."""
    n = len(centre)
    d = np.hypot(*(centre[:, None, :] - centre[None, :, :]).transpose(2, 0, 1))
    idx = np.arange(n)
    along = np.abs(idx[:, None] - idx[None, :]) * (length / n)
    along = np.minimum(along, length - along)
    far = along > math.pi * (width / 2 + MIN_GAP) * 1.5
    return bool(np.all(d[far] >= width + MIN_GAP))
