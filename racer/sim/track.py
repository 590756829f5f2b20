"""Immutable track geometry: centre line, borders, widths and projection onto the track.

A :class:`Track` is always stored in its direction of travel: ``left`` is the border on the
driver's left. Closed tracks do not repeat their first point; :attr:`Track.waypoints` adds the
repeat for DeepRacer's ``params['waypoints']``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.sim.geometry import project_points

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Projection:
    """Where points lie relative to the track (arrays, one entry per point).

    Attributes:
        s: Distance along the centre line from its first point, metres, in [0, length).
        offset: Signed distance from the centre line, metres, positive to the left.
        segment: Index of the centre-line segment the point projects onto.
        left_width: Distance from the centre line to the left border at ``s``.
        right_width: Distance from the centre line to the right border at ``s``.
    """

    s: FloatArray
    offset: FloatArray
    segment: NDArray[np.int64]
    left_width: FloatArray
    right_width: FloatArray

    @property
    def inside(self) -> NDArray[np.bool_]:
        """Whether each point lies between the two borders."""
        return (self.offset <= self.left_width) & (-self.offset <= self.right_width)

    @property
    def width(self) -> FloatArray:
        """Border-to-border width at each point's projection."""
        return self.left_width + self.right_width


@dataclass(frozen=True, eq=False)
class Track:
    """A validated, immutable race track.

    Build tracks with :func:`racer.sim.trackio.load_track` or :meth:`Track.from_arrays`; the
    constructor trusts its arrays.

    Attributes:
        name: Registry name, e.g. ``"reinvent_base"``.
        display_name: Human name, e.g. ``"re:Invent 2018"``.
        centre: (N, 2) centre-line points in the direction of travel.
        left: (N, 2) left-border points, one per centre point.
        right: (N, 2) right-border points, one per centre point.
        closed: True for a loop (the last point joins the first).
        metadata: Free-form provenance (source, licence, attribution, description).
    """

    name: str
    display_name: str
    centre: FloatArray
    left: FloatArray
    right: FloatArray
    closed: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for arr in (self.centre, self.left, self.right):
            arr.setflags(write=False)
        seg = self._segment_vectors()
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        cum = np.concatenate([[0.0], np.cumsum(seg_len)])
        lw = np.hypot(*(self.left - self.centre).T)
        rw = np.hypot(*(self.right - self.centre).T)
        for name, value in (
            ("_seg", seg),
            ("_seg_len", seg_len),
            ("_cum", cum),
            ("_left_width", lw),
            ("_right_width", rw),
        ):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        name: str,
        centre: FloatArray,
        left: FloatArray,
        right: FloatArray,
        *,
        closed: bool = True,
        display_name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Track:
        """Build a track from border arrays, dropping a repeated closing point.

        Args:
            name: Registry name.
            centre: (N, 2) centre-line points in the direction of travel.
            left: (N, 2) left-border points.
            right: (N, 2) right-border points.
            closed: Whether the track is a loop.
            display_name: Human name; defaults to ``name``.
            metadata: Provenance information.

        Returns:
            The track (not yet validated; see :func:`racer.sim.trackio.validate_track`).
        """
        c = np.asarray(centre, dtype=np.float64)
        l_ = np.asarray(left, dtype=np.float64)
        r = np.asarray(right, dtype=np.float64)
        if closed and len(c) > 2 and np.allclose(c[0], c[-1], atol=1e-9):
            c, l_, r = c[:-1], l_[:-1], r[:-1]
        return cls(
            name=name,
            display_name=display_name or name,
            centre=np.ascontiguousarray(c),
            left=np.ascontiguousarray(l_),
            right=np.ascontiguousarray(r),
            closed=closed,
            metadata=dict(metadata or {}),
        )

    @classmethod
    def from_centreline(
        cls,
        name: str,
        centre: FloatArray,
        width: float | FloatArray,
        *,
        closed: bool = True,
        display_name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Track:
        """Build a track whose borders lie ``width / 2`` either side of the centre line."""
        c = np.asarray(centre, dtype=np.float64)
        if closed and len(c) > 2 and np.allclose(c[0], c[-1], atol=1e-9):
            c = c[:-1]
        normals = _vertex_normals(c, closed)
        half = np.broadcast_to(np.asarray(width, dtype=np.float64) / 2.0, (len(c),))[:, None]
        return cls.from_arrays(
            name,
            c,
            c + normals * half,
            c - normals * half,
            closed=closed,
            display_name=display_name,
            metadata=metadata,
        )

    # ------------------------------------------------------------------ basic facts
    def _segment_vectors(self) -> FloatArray:
        c = self.centre
        nxt = np.roll(c, -1, axis=0) if self.closed else c[1:]
        cur = c if self.closed else c[:-1]
        return np.ascontiguousarray(nxt - cur)

    @property
    def length(self) -> float:
        """Centre-line length in metres (DeepRacer's ``track_length``)."""
        return float(self._cum[-1])  # type: ignore[attr-defined]

    @property
    def num_points(self) -> int:
        """Number of distinct centre-line points."""
        return len(self.centre)

    @property
    def distances(self) -> FloatArray:
        """Distance along the centre line of each centre point, metres."""
        return self._cum[: self.num_points]  # type: ignore[attr-defined]

    @property
    def widths(self) -> FloatArray:
        """Border-to-border width at each centre point, metres."""
        return self._left_width + self._right_width  # type: ignore[attr-defined]

    @property
    def left_widths(self) -> FloatArray:
        """Centre-to-left-border distance at each centre point."""
        return self._left_width  # type: ignore[attr-defined]

    @property
    def right_widths(self) -> FloatArray:
        """Centre-to-right-border distance at each centre point."""
        return self._right_width  # type: ignore[attr-defined]

    @property
    def signed_area(self) -> float:
        """Shoelace area of the centre line: positive when it runs counter-clockwise."""
        x, y = self.centre[:, 0], self.centre[:, 1]
        return float(0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))

    @property
    def direction(self) -> str:
        """``"counterclockwise"`` or ``"clockwise"`` (open tracks: by their signed area)."""
        return "counterclockwise" if self.signed_area >= 0 else "clockwise"

    @property
    def waypoints(self) -> list[tuple[float, float]]:
        """Centre points as DeepRacer passes them: a closed loop repeats its first point."""
        pts = self.centre if not self.closed else np.vstack([self.centre, self.centre[:1]])
        return [(float(x), float(y)) for x, y in pts]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) over both borders."""
        pts = np.vstack([self.left, self.right])
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )

    # ------------------------------------------------------------------ queries
    def project(self, points: FloatArray) -> Projection:
        """Project points onto the centre line.

        Args:
            points: (M, 2) or (2,) positions in the track frame.

        Returns:
            A :class:`Projection` with one entry per point.
        """
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        seg_vec, seg_len, cum = self._seg, self._seg_len, self._cum  # type: ignore[attr-defined]
        s, off, seg, t = project_points(pts, self.centre, seg_vec, seg_len, cum)
        nxt = (seg + 1) % self.num_points
        lw = self._left_width[seg] * (1 - t) + self._left_width[nxt] * t  # type: ignore[attr-defined]
        rw = self._right_width[seg] * (1 - t) + self._right_width[nxt] * t  # type: ignore[attr-defined]
        return Projection(s=s, offset=off, segment=seg, left_width=lw, right_width=rw)

    def point_at(self, s: float | FloatArray, offset: float | FloatArray = 0.0) -> FloatArray:
        """Position at distance ``s`` along the centre line and ``offset`` to its left.

        Args:
            s: Distance(s) along the centre line; wrapped for closed tracks.
            offset: Signed lateral offset(s), positive to the left.

        Returns:
            (2,) or (M, 2) positions.
        """
        s_arr = np.atleast_1d(np.asarray(s, dtype=np.float64))
        seg, t = self._locate(s_arr)
        base = self.centre[seg] + self._seg[seg] * t[:, None]  # type: ignore[attr-defined]
        heading = self.heading_at(s_arr)
        normal = np.stack([-np.sin(heading), np.cos(heading)], axis=1)
        out = base + normal * np.atleast_1d(np.asarray(offset, dtype=np.float64))[:, None]
        return out[0] if np.ndim(s) == 0 else out

    def heading_at(self, s: float | FloatArray) -> FloatArray:
        """Direction of travel (radians, 0 = +x, counter-clockwise) of the segment at ``s``."""
        s_arr = np.atleast_1d(np.asarray(s, dtype=np.float64))
        seg, _ = self._locate(s_arr)
        v = self._seg[seg]  # type: ignore[attr-defined]
        return np.arctan2(v[:, 1], v[:, 0])

    def width_at(self, s: float | FloatArray) -> FloatArray:
        """Border-to-border width at distance ``s``, interpolated between centre points."""
        s_arr = np.atleast_1d(np.asarray(s, dtype=np.float64))
        seg, t = self._locate(s_arr)
        w = self.widths
        return w[seg] * (1 - t) + w[(seg + 1) % self.num_points] * t

    def curvature(self) -> FloatArray:
        """Signed curvature (1/m, positive = turning left) at each centre point."""
        c = self.centre
        prev = np.roll(c, 1, axis=0)
        nxt = np.roll(c, -1, axis=0)
        a = c - prev
        b = nxt - c
        cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        la, lb = np.hypot(*a.T), np.hypot(*b.T)
        lc = np.hypot(*(nxt - prev).T)
        k = 2.0 * cross / np.maximum(la * lb * lc, 1e-12)
        if not self.closed:
            k[0] = k[-1] = 0.0
        return k

    def wrap(self, s: float | FloatArray) -> FloatArray:
        """Wrap distances into [0, length) for closed tracks, clip for open ones."""
        s_arr = np.asarray(s, dtype=np.float64)
        if self.closed:
            return np.mod(s_arr, self.length)
        return np.clip(s_arr, 0.0, self.length)

    def _locate(self, s: FloatArray) -> tuple[NDArray[np.int64], FloatArray]:
        s = self.wrap(s)
        cum = self._cum  # type: ignore[attr-defined]
        nseg = len(self._seg_len)  # type: ignore[attr-defined]
        seg = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, nseg - 1)
        t = (s - cum[seg]) / np.maximum(self._seg_len[seg], 1e-12)  # type: ignore[attr-defined]
        return seg.astype(np.int64), np.clip(t, 0.0, 1.0)

    # ------------------------------------------------------------------ transforms
    def reversed(self) -> Track:
        """The same track driven the other way (left and right borders swap)."""
        if self.closed:
            order = np.r_[0, np.arange(self.num_points - 1, 0, -1)]
        else:
            order = np.arange(self.num_points - 1, -1, -1)
        name = self.name[:-9] if self.name.endswith(":reverse") else f"{self.name}:reverse"
        meta = dict(self.metadata, reversed=not self.metadata.get("reversed", False))
        return Track(
            name=name,
            display_name=(
                self.display_name[: -len(" (reverse)")]
                if self.display_name.endswith(" (reverse)")
                else f"{self.display_name} (reverse)"
            ),
            centre=np.ascontiguousarray(self.centre[order]),
            left=np.ascontiguousarray(self.right[order]),
            right=np.ascontiguousarray(self.left[order]),
            closed=self.closed,
            metadata=meta,
        )


def _vertex_normals(c: FloatArray, closed: bool) -> FloatArray:
    """Unit left-normals at each vertex (average of adjacent segment directions)."""
    if closed:
        fwd = np.roll(c, -1, axis=0) - c
        back = c - np.roll(c, 1, axis=0)
    else:
        fwd = np.vstack([c[1:] - c[:-1], c[-1:] - c[-2:-1]])
        back = np.vstack([c[1:2] - c[0:1], c[1:] - c[:-1]])
    fwd /= np.maximum(np.hypot(*fwd.T), 1e-12)[:, None]
    back /= np.maximum(np.hypot(*back.T), 1e-12)[:, None]
    tangent = fwd + back
    tangent /= np.maximum(np.hypot(*tangent.T), 1e-12)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    # Keep the border offset at `half` from both adjacent segments (miter), bounded at corners.
    cos_half = np.clip(np.sum(normal * np.stack([-fwd[:, 1], fwd[:, 0]], axis=1), axis=1), 0.5, 1)
    return normal / cos_half[:, None]
