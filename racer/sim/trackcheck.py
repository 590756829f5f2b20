"""Geometric validation of tracks: every check names the file, the point and the problem.

:func:`validate_track` is re-exported by :mod:`racer.sim.trackio`, which calls it on every load.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from racer.sim.geometry import segments_intersect
from racer.sim.track import Track
from racer.sim.types import CarSpec

FloatArray = NDArray[np.float64]

#: Centre-line segments shorter than this (metres) count as zero-length.
MIN_SEGMENT = 1e-6
#: Pairs of segments tested per chunk when looking for crossings (bounds memory use).
_CHUNK_PAIRS = 2_000_000


class TrackError(ValueError):
    """A track file or track geometry is invalid; the message names the file and the problem."""


def validate_track(track: Track, source: str) -> None:
    """Check that a track is well-formed and drivable by the standard car.

    Checks, in order: at least 3 points; finite coordinates; matching array shapes; no
    zero-length centre-line segment (a point that repeats the previous one exactly, centre and
    both borders, is allowed: DeepRacer's files contain such rows and waypoint indices must match
    theirs); an open track does not end where it starts; borders on the correct side of the
    centre line; width everywhere larger than the car's body (:attr:`CarSpec.body_width`); no
    border running backwards against the centre line (folding over itself in a bend too tight
    for the width); no self-crossing of the centre line or of either border; and no crossing
    between the left and right borders.

    Args:
        track: The track to check.
        source: File name (or other origin) quoted at the start of every error message.

    Raises:
        TrackError: On the first problem found.
    """
    for check in _CHECKS:
        problem = check(track)
        if problem:
            raise TrackError(f"{source}: {problem}")


def _check_shapes(track: Track) -> str | None:
    n = len(track.centre)
    if n < 3:
        return f"a track needs at least 3 centre-line points, got {n}"
    for label, arr in (("centre line", track.centre), ("left border", track.left),
                       ("right border", track.right)):  # fmt: skip
        if arr.ndim != 2 or arr.shape[1] != 2:
            return f"{label} must be a list of [x, y] points, got shape {arr.shape}"
        if len(arr) != n:
            return f"{label} has {len(arr)} points but the centre line has {n}"
        bad = np.argwhere(~np.isfinite(arr))
        if len(bad):
            return f"{label} point {int(bad[0, 0])} holds a NaN or infinite coordinate"
    return None


def _check_segments(track: Track) -> str | None:
    seg = _segments(track.centre, track.closed)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    for i in np.flatnonzero(lengths < MIN_SEGMENT).tolist():
        j = (i + 1) % track.num_points
        if _is_repeated_row(track, i, j):
            continue  # DeepRacer files repeat whole rows; keeping them keeps waypoint indices
        return (
            f"zero-length centre-line segment between points {i} and {j}: the centre repeats "
            "but a border does not"
        )
    if not track.closed and np.hypot(*(track.centre[-1] - track.centre[0])) < MIN_SEGMENT:
        return "an open track ends where it starts; mark it closed instead"
    return None


def _is_repeated_row(track: Track, i: int, j: int) -> bool:
    """Whether point ``j`` repeats point ``i`` exactly: centre and both borders."""
    return all(
        bool(np.all(np.abs(arr[j] - arr[i]) < MIN_SEGMENT))
        for arr in (track.centre, track.left, track.right)
    )


def _check_sides(track: Track) -> str | None:
    tangent = _vertex_tangents(track.centre, track.closed)
    for label, border, sign in (("left", track.left, 1.0), ("right", track.right, -1.0)):
        rel = border - track.centre
        side = sign * (tangent[:, 0] * rel[:, 1] - tangent[:, 1] * rel[:, 0])
        wrong = np.flatnonzero(side <= 0.0)
        if len(wrong):
            i = int(wrong[0])
            other = "right" if label == "left" else "left"
            return (
                f"the {label} border at point {i} lies on the {other} of (or on) the centre "
                "line; are the borders swapped or the points in the wrong order?"
            )
    return None


def _check_folds(track: Track) -> str | None:
    """A border segment running against the centre line means the border folds over itself."""
    seg = _segments(track.centre, track.closed)
    for label, border in (("left", track.left), ("right", track.right)):
        along = np.sum(_segments(border, track.closed) * seg, axis=1)
        backwards = np.flatnonzero(along < 0.0)
        if len(backwards):
            i = int(backwards[0])
            return (
                f"the {label} border runs backwards between points {i} and "
                f"{(i + 1) % track.num_points}: the track is too wide for the bend there, so the "
                "border folds over itself"
            )
    return None


def _check_width(track: Track) -> str | None:
    car = CarSpec().body_width
    widths = track.widths
    narrow = np.flatnonzero(widths <= car)
    if len(narrow):
        i = int(narrow[0])
        return (
            f"track width {widths[i]:.3f} m at point {i} is not wider than the car "
            f"({car:.2f} m); every point must be wider"
        )
    return None


def _check_crossings(track: Track) -> str | None:
    for label, line in (("centre line", track.centre), ("left border", track.left),
                        ("right border", track.right)):  # fmt: skip
        hit = find_self_crossing(line, track.closed)
        if hit is not None:
            return f"the {label} crosses itself (segment {hit[0]} crosses segment {hit[1]})"
    hit = find_crossing(track.left, track.right, track.closed)
    if hit is not None:
        return (
            f"the left and right borders cross (left segment {hit[0]} crosses right segment "
            f"{hit[1]})"
        )
    return None


_CHECKS: tuple[Callable[[Track], str | None], ...] = (
    _check_shapes,
    _check_segments,
    _check_sides,
    _check_width,
    _check_folds,
    _check_crossings,
)


# ---------------------------------------------------------------------- geometry helpers
def _segments(points: FloatArray, closed: bool) -> FloatArray:
    nxt = np.roll(points, -1, axis=0) if closed else points[1:]
    cur = points if closed else points[:-1]
    return np.asarray(nxt - cur, dtype=np.float64)


def _vertex_tangents(c: FloatArray, closed: bool) -> FloatArray:
    """Unit tangents at each vertex: the sum of the adjacent unit segment directions."""
    seg = _segments(c, closed)
    unit = seg / np.maximum(np.hypot(seg[:, 0], seg[:, 1]), 1e-12)[:, None]
    if closed:
        tangent = unit + np.roll(unit, 1, axis=0)
    else:
        tangent = np.vstack([unit[:1], unit[1:] + unit[:-1], unit[-1:]])
    return tangent


def _crossing_pairs(
    a: FloatArray, b: FloatArray, closed: bool, skip_adjacent: bool
) -> tuple[int, int] | None:
    sa, sb = _segments(a, closed), _segments(b, closed)
    a0 = a[: len(sa)]
    b0 = b[: len(sb)]
    n, m = len(sa), len(sb)
    rows = max(1, _CHUNK_PAIRS // max(m, 1))
    j = np.arange(m)
    for start in range(0, n, rows):
        i = np.arange(start, min(n, start + rows))
        hit = segments_intersect(
            a0[i, None, :], (a0[i] + sa[i])[:, None, :], b0[None, :, :], (b0 + sb)[None, :, :]
        )
        if skip_adjacent:
            gap = np.abs(i[:, None] - j[None, :])
            if closed:
                gap = np.minimum(gap, n - gap)
            hit &= gap > 1
        found = np.argwhere(hit)
        if len(found):
            return int(i[found[0, 0]]), int(found[0, 1])
    return None


def find_self_crossing(points: FloatArray, closed: bool) -> tuple[int, int] | None:
    """First pair of non-adjacent segments of a polyline that properly cross, if any.

    Args:
        points: (N, 2) polyline vertices.
        closed: Whether the last vertex joins the first.

    Returns:
        The two segment indices, or None when the polyline is simple.
    """
    return _crossing_pairs(points, points, closed, skip_adjacent=True)


def find_crossing(a: FloatArray, b: FloatArray, closed: bool) -> tuple[int, int] | None:
    """First pair of segments, one from each polyline, that properly cross, if any."""
    return _crossing_pairs(a, b, closed, skip_adjacent=False)
