"""Small, fast geometry kernels shared by the simulator (numba-compiled, cached on disk)."""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def _project_points(
    pts: NDArray[np.float64],
    centre: NDArray[np.float64],
    seg: NDArray[np.float64],
    seg_len: NDArray[np.float64],
    cum: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    m = pts.shape[0]
    n = seg.shape[0]
    s_out = np.empty(m)
    off_out = np.empty(m)
    seg_out = np.empty(m, dtype=np.int64)
    t_out = np.empty(m)
    for k in range(m):
        px = pts[k, 0]
        py = pts[k, 1]
        best = 1e300
        best_i = 0
        best_t = 0.0
        for i in range(n):
            dx = seg[i, 0]
            dy = seg[i, 1]
            l2 = dx * dx + dy * dy
            rx = px - centre[i, 0]
            ry = py - centre[i, 1]
            t = (rx * dx + ry * dy) / l2 if l2 > 0 else 0.0
            if t < 0.0:
                t = 0.0
            elif t > 1.0:
                t = 1.0
            ex = rx - t * dx
            ey = ry - t * dy
            d2 = ex * ex + ey * ey
            if d2 < best:
                best = d2
                best_i = i
                best_t = t
        dx = seg[best_i, 0]
        dy = seg[best_i, 1]
        rx = px - centre[best_i, 0]
        ry = py - centre[best_i, 1]
        cross = dx * ry - dy * rx
        d = math.sqrt(best)
        s_out[k] = cum[best_i] + best_t * seg_len[best_i]
        off_out[k] = d if cross >= 0 else -d
        seg_out[k] = best_i
        t_out[k] = best_t
    return s_out, off_out, seg_out, t_out


def project_points(
    pts: NDArray[np.float64],
    centre: NDArray[np.float64],
    seg: NDArray[np.float64],
    seg_len: NDArray[np.float64],
    cum: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Project points onto a polyline given as start points and segment vectors.

    Args:
        pts: (M, 2) points.
        centre: (S, 2) segment start points (S >= number of segments).
        seg: (n, 2) segment vectors.
        seg_len: (n,) segment lengths.
        cum: (n + 1,) cumulative length at each segment start.

    Returns:
        (s, offset, segment, t): distance along, signed offset (left positive), the segment
        index and the fraction along that segment, one entry per point.
    """
    s, off, seg_i, t = _project_points(
        np.ascontiguousarray(pts, dtype=np.float64), centre, seg, seg_len, cum
    )
    return s, off, seg_i, t


def segments_intersect(
    a0: NDArray[np.float64],
    a1: NDArray[np.float64],
    b0: NDArray[np.float64],
    b1: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Whether segments a0-a1 and b0-b1 properly cross (broadcasting over leading axes)."""

    def orient(p: NDArray[np.float64], q: NDArray[np.float64], r: NDArray[np.float64]):  # type: ignore[no-untyped-def]
        return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (
            r[..., 0] - p[..., 0]
        )

    d1 = orient(b0, b1, a0)
    d2 = orient(b0, b1, a1)
    d3 = orient(a0, a1, b0)
    d4 = orient(a0, a1, b1)
    return ((d1 > 0) != (d2 > 0)) & ((d3 > 0) != (d4 > 0)) & (d1 * d2 < 0) & (d3 * d4 < 0)


def wrap_angle(a: float) -> float:
    """Wrap an angle in radians into (-pi, pi]."""
    w = math.fmod(a + math.pi, 2.0 * math.pi)
    if w <= 0.0:
        w += 2.0 * math.pi
    return w - math.pi
