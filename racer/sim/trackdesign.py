"""Hand-designed tracks built from straights and arcs, and the recipes of racer's own tracks.

A design is a list of pieces: ``Straight(length)`` or ``Arc(radius, degrees)`` (positive degrees
turn left). The curvature profile is smoothed a little so that bends ease in and out, the
heading is integrated, and two chosen straights are lengthened or shortened until the loop
closes. Regenerate the shipped files with ``python -m racer.sim.trackdesign tracks``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.sim.track import Track

FloatArray = NDArray[np.float64]
_DS = 0.01  # integration step, metres
_EASE = 0.12  # standard deviation of the curvature smoothing, metres


@dataclass(frozen=True)
class Straight:
    """A straight piece; ``free`` straights are resized to close the loop."""

    length: float
    free: bool = False


@dataclass(frozen=True)
class Arc:
    """A constant-radius bend; positive ``degrees`` turn left."""

    radius: float
    degrees: float


Piece = Straight | Arc


@dataclass(frozen=True)
class Design:
    """A track recipe.

    Attributes:
        name: Registry name.
        display_name: Human name.
        width: Border-to-border width, metres.
        pieces: The pieces in driving order; total turning must be +360 degrees.
        description: One or two sentences for the metadata.
        spacing: Distance between centre-line points, metres.
    """

    name: str
    display_name: str
    width: float
    pieces: tuple[Piece, ...]
    description: str
    spacing: float = 0.06


def build(design: Design) -> Track:
    """Turn a design into a closed, counter-clockwise track starting on its first piece.

    Raises:
        ValueError: If the pieces do not turn a full left circle or the loop cannot close.
    """
    turn = sum(p.degrees for p in design.pieces if isinstance(p, Arc))
    if abs(turn - 360.0) > 1e-9:
        raise ValueError(f"{design.name}: pieces turn {turn} degrees, not 360")
    free = [i for i, p in enumerate(design.pieces) if isinstance(p, Straight) and p.free]
    if len(free) != 2:
        raise ValueError(f"{design.name}: mark exactly two straights free=True")
    lengths = np.array([design.pieces[i].length for i in free])  # type: ignore[union-attr]
    for _ in range(5):
        pts, directions = _trace(_resized(design, free, lengths), free)
        # Lengthening a straight by d moves every later point by d along that straight.
        lengths = lengths + np.linalg.solve(directions.T, pts[0] - pts[-1])
    if np.any(lengths < 0.05):
        raise ValueError(f"{design.name}: the loop only closes with negative straights")
    pts, _ = _trace(_resized(design, free, lengths), free)
    # Spread the last few millimetres of gap (from the integration grid) along the lap.
    ramp = np.linspace(0.0, 1.0, len(pts))[:, None]
    pts = (pts - ramp * (pts[-1] - pts[0]))[:-1]
    # Smoothing lets the last bend lean into the first straight; turn the start back to +x.
    first = pts[min(len(pts) - 1, round(0.4 * _length(design.pieces[0]) / _DS))] - pts[0]
    a = -math.atan2(first[1], first[0])
    pts = pts @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    centre = _resample(pts, design.spacing)
    return Track.from_centreline(
        design.name,
        centre,
        design.width,
        closed=True,
        display_name=design.display_name,
        metadata=_metadata(design),
    )


def _length(piece: Piece) -> float:
    if isinstance(piece, Straight):
        return piece.length
    return piece.radius * math.radians(abs(piece.degrees))


def _resized(design: Design, free: list[int], lengths: FloatArray) -> tuple[Piece, ...]:
    pieces = list(design.pieces)
    for i, length in zip(free, lengths, strict=True):
        pieces[i] = Straight(float(length), free=True)
    return tuple(pieces)


def _trace(pieces: tuple[Piece, ...], free: list[int]) -> tuple[FloatArray, FloatArray]:
    """Integrate the smoothed curvature profile.

    Returns:
        The points (including the closing point) and the unit direction at the middle of each
        free straight.
    """
    kappa: list[FloatArray] = []
    middles: list[int] = []
    for i, p in enumerate(pieces):
        if isinstance(p, Straight):
            n = max(1, round(p.length / _DS))
            kappa.append(np.zeros(n))
        else:
            arc_len = p.radius * math.radians(abs(p.degrees))
            n = max(1, round(arc_len / _DS))
            kappa.append(np.full(n, math.radians(p.degrees) / (n * _DS)))
        if i in free:
            middles.append(sum(len(k) for k in kappa) - n // 2)
    k = _smooth_periodic(np.concatenate(kappa), _EASE / _DS)
    heading = np.concatenate([[0.0], np.cumsum(k * _DS)])
    # Guard against round-off: the heading must turn exactly one full circle.
    heading *= 2 * math.pi / heading[-1]
    mid = 0.5 * (heading[1:] + heading[:-1])
    steps = np.stack([np.cos(mid), np.sin(mid)], axis=1) * _DS
    pts = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)])
    directions = np.stack([np.cos(mid[middles]), np.sin(mid[middles])], axis=1)
    return pts, directions


def _smooth_periodic(values: FloatArray, sigma: float) -> FloatArray:
    n = len(values)
    freq = np.fft.rfftfreq(n)
    kernel = np.exp(-0.5 * (2 * math.pi * freq * sigma) ** 2)
    return np.fft.irfft(np.fft.rfft(values) * kernel, n)


def _resample(pts: FloatArray, spacing: float) -> FloatArray:
    closed = np.vstack([pts, pts[:1]])
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(closed, axis=0).T))])
    n = max(16, round(cum[-1] / spacing))
    s = np.arange(n) * (cum[-1] / n)
    return np.stack([np.interp(s, cum, closed[:, 0]), np.interp(s, cum, closed[:, 1])], axis=1)


def _metadata(design: Design) -> dict[str, Any]:
    return {
        "description": design.description,
        "source": "designed for racer; recipe in racer/sim/trackdesign.py",
        "licence": "Apache-2.0",
        "attribution": "racer contributors",
        "designed_width": design.width,
    }


# ---------------------------------------------------------------------- racer's own tracks
RACER_CIRCUIT = Design(
    name="racer_circuit",
    display_name="Racer Circuit",
    width=0.9,
    pieces=(
        Straight(3.5),
        Arc(1.2, 90),
        Straight(3.5, free=True),
        Arc(0.6, 180),
        Straight(0.6),
        Arc(0.9, -90),
        Arc(0.8, 35),
        Arc(0.8, -70),
        Arc(0.8, 35),
        Straight(0.8, free=True),
        Arc(1.3, 90),
        Straight(0.8),
        Arc(1.3, 90),
    ),
    description=(
        "A flowing circuit: a start straight into a fast left, a long back straight, a tight "
        "0.6 m hairpin, a right-hander and a chicane, then two wide bends back to the line. "
        "0.9 m wide."
    ),
)

PRACTICE_LOOP = Design(
    name="practice_loop",
    display_name="Practice Loop",
    width=1.067,
    pieces=(
        Straight(2.5, free=True),
        Arc(1.5, 90),
        Straight(1.0, free=True),
        Arc(1.5, 90),
        Straight(2.0),
        Arc(1.2, 60),
        Arc(1.5, -30),
        Arc(1.2, 60),
        Straight(0.8),
        Arc(1.5, 90),
    ),
    description=(
        "A short, wide beginner loop: gentle bends of 1.2 m radius or more and one soft "
        "S-bend. 1.07 m wide, good for a first model."
    ),
)

OWN_DESIGNS = {d.name: d for d in (RACER_CIRCUIT, PRACTICE_LOOP)}


def main(argv: list[str]) -> int:
    """Write racer's own tracks as JSON into the folder given as the only argument."""
    from racer.sim.trackio import save_track

    if len(argv) != 1:
        print("usage: python -m racer.sim.trackdesign OUT_DIR", file=sys.stderr)
        return 2
    for design in OWN_DESIGNS.values():
        print(save_track(build(design), Path(argv[0]) / f"{design.name}.json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
