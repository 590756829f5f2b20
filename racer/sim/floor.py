"""The track's floor as a raster: colour and gray textures with a mip pyramid, built once per track.

The floor is a flat, axis-aligned rectangle covering the track's bounds plus a margin, painted with
OpenCV: carpet everywhere, the track surface between the borders, white border lines and a dashed
centre line. A low wall may stand on the rectangle's edge. Both the fast camera
(:mod:`racer.sim.camera`) and the pybullet reference (:mod:`racer.sim.reference_render`) read the
same raster, so they see the same scene.

Texture rows run from the floor's north edge (largest y) down, so a saved PNG looks like a map.

For colour randomisation, :func:`build_coverage` paints once per track how much of each texel is
carpet, border and centre line (the rest is track surface); :func:`recolor` turns that into the
textures of any other colours in one linear OpenCV pass (painting with anti-aliasing and the
box-filtered pyramid are linear, so this equals repainting, up to rounding).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from racer.sim.track import Track

BGR = tuple[int, int, int]
UInt8Array = NDArray[np.uint8]


def bgr_to_gray(color: BGR) -> int:
    """Gray level of a BGR colour with OpenCV's ``COLOR_BGR2GRAY`` weights."""
    px = np.array([[color]], dtype=np.uint8)
    return int(cv2.cvtColor(px, cv2.COLOR_BGR2GRAY)[0, 0])


@dataclass(frozen=True)
class FloorStyle:
    """How the floor, the lines and the surroundings look (colours are BGR, 0-255).

    Attributes:
        resolution: Metres per texel of the finest texture level.
        margin: Floor extent beyond the track's borders, metres; the wall stands there.
        wall_height: Height of the wall around the floor, metres (0 = no wall, endless carpet).
        border_width: Width of the white border lines, metres (centred on the borders).
        centre_width: Width of the centre-line dashes, metres.
        dash_length: Length of one centre-line dash, metres.
        dash_gap: Gap between dashes, metres.
        carpet: Off-track floor colour.
        surface: Track surface colour.
        border: Border line colour.
        centre: Centre-line colour.
        wall: Wall colour.
        sky: Colour of everything above the wall and the horizon.
        mip_levels: Number of texture pyramid levels (level k has texels ``2**k`` times larger).
    """

    resolution: float = 0.01
    margin: float = 1.0
    wall_height: float = 0.5
    border_width: float = 0.05
    centre_width: float = 0.04
    dash_length: float = 0.15
    dash_gap: float = 0.15
    carpet: BGR = (92, 128, 104)
    surface: BGR = (62, 64, 66)
    border: BGR = (245, 245, 245)
    centre: BGR = (40, 200, 235)
    wall: BGR = (150, 152, 160)
    sky: BGR = (235, 215, 200)
    mip_levels: int = 6


@dataclass(frozen=True, eq=False)
class Floor:
    """A rasterised floor: one colour image and a gray mip pyramid packed for numba kernels.

    Attributes:
        style: The style it was painted with.
        x0: World x of the texture's west edge, metres.
        y0: World y of the texture's south edge, metres.
        x1: World x of the east edge.
        y1: World y of the north edge.
        color: (rows, cols, 3) BGR uint8, level 0.
        gray_levels: Flat uint8 gray pyramid, levels one after another.
        color_levels: Flat uint8 BGR pyramid (3 values per texel), same layout.
        level_offset: (L,) texel offset of each level in the flat arrays.
        level_rows: (L,) rows of each level.
        level_cols: (L,) columns of each level.
    """

    style: FloorStyle
    x0: float
    y0: float
    x1: float
    y1: float
    color: UInt8Array
    gray_levels: UInt8Array
    color_levels: UInt8Array
    level_offset: NDArray[np.int64]
    level_rows: NDArray[np.int64]
    level_cols: NDArray[np.int64]

    @property
    def gray(self) -> UInt8Array:
        """(rows, cols) gray level-0 texture (``COLOR_BGR2GRAY`` of :attr:`color`)."""
        r, c = int(self.level_rows[0]), int(self.level_cols[0])
        return self.gray_levels[: r * c].reshape(r, c)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the floor rectangle, metres."""
        return (self.x0, self.y0, self.x1, self.y1)

    def world_to_texel(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map (M, 2) world points to (M, 2) level-0 texel coordinates (col, row), edges at 0."""
        res = self.style.resolution
        pts = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        return np.stack([(pts[:, 0] - self.x0) / res, (self.y1 - pts[:, 1]) / res], axis=1)


def _to_px(floor_x0: float, floor_y1: float, res: float, pts: NDArray[np.float64]) -> NDArray:
    """World points to OpenCV fixed-point (shift 4) pixel coordinates, texel centres at +0.5."""
    cols = (pts[:, 0] - floor_x0) / res - 0.5
    rows = (floor_y1 - pts[:, 1]) / res - 0.5
    return np.round(np.stack([cols, rows], axis=1) * 16).astype(np.int32)


def _dash_segments(track: Track, style: FloorStyle) -> list[NDArray[np.float64]]:
    """Centre-line dashes as polylines (each a (M, 2) world array)."""
    period = style.dash_length + style.dash_gap
    n_dash = max(1, int(track.length // period)) if track.closed else int(track.length // period)
    dashes = []
    for k in range(n_dash + 1):
        start = k * period
        stop = min(start + style.dash_length, track.length)
        if stop <= start:
            continue
        s = np.linspace(start, stop, max(2, int((stop - start) / 0.02) + 1))
        dashes.append(track.point_at(s))
    return dashes


def paint_floor(track: Track, style: FloorStyle = FloorStyle()) -> UInt8Array:
    """Paint the floor's level-0 BGR image (rows from north to south).

    Args:
        track: The track.
        style: Colours, line widths, margin and resolution.

    Returns:
        (rows, cols, 3) uint8 BGR image covering the track bounds plus ``style.margin``.
    """
    xmin, ymin, xmax, ymax = track.bounds
    res = style.resolution
    x0, y1 = xmin - style.margin, ymax + style.margin
    cols = int(math.ceil((xmax + style.margin - x0) / res))
    rows = int(math.ceil((y1 - (ymin - style.margin)) / res))
    img = np.empty((rows, cols, 3), np.uint8)
    img[:] = style.carpet
    left = _to_px(x0, y1, res, track.left)
    right = _to_px(x0, y1, res, track.right)
    n = len(left)
    last = n if track.closed else n - 1
    for i in range(last):
        j = (i + 1) % n
        quad = np.array([left[i], left[j], right[j], right[i]])
        cv2.fillPoly(img, [quad], style.surface, cv2.LINE_8, shift=4)
    for border in (left, right):
        thick = max(1, round(style.border_width / res))
        cv2.polylines(img, [border], track.closed, style.border, thick, cv2.LINE_AA, shift=4)
    thick = max(1, round(style.centre_width / res))
    for dash in _dash_segments(track, style):
        cv2.polylines(img, [_to_px(x0, y1, res, dash)], False, style.centre, thick, cv2.LINE_AA, 4)
    return img


def _pyramid(img: UInt8Array, levels: int) -> list[UInt8Array]:
    """Box-filtered pyramid: level k+1 texel i averages level-k texels 2i and 2i+1."""
    out = [img]
    for _ in range(1, levels):
        prev = out[-1]
        r, c = prev.shape[:2]
        if r < 2 or c < 2:
            break
        small = cv2.resize(prev, (c // 2, r // 2), interpolation=cv2.INTER_AREA)
        out.append(np.asarray(small, dtype=np.uint8))
    return out


@functools.lru_cache(maxsize=16)
def build_floor(track: Track, style: FloorStyle = FloorStyle()) -> Floor:
    """Rasterise a track's floor (cached per track object and style).

    Args:
        track: The track.
        style: How it looks.

    Returns:
        The :class:`Floor`, with gray and colour mip pyramids.
    """
    color = paint_floor(track, style)
    gray = np.asarray(cv2.cvtColor(color, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    gray_pyr = _pyramid(gray, style.mip_levels)
    color_pyr = _pyramid(color, style.mip_levels)
    rows = np.array([g.shape[0] for g in gray_pyr], dtype=np.int64)
    cols = np.array([g.shape[1] for g in gray_pyr], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(rows * cols)[:-1]]).astype(np.int64)
    res = style.resolution
    xmin, ymin, _, ymax = track.bounds
    x0, y1 = xmin - style.margin, ymax + style.margin
    floor = Floor(
        style=style,
        x0=x0,
        y0=y1 - color.shape[0] * res,
        x1=x0 + color.shape[1] * res,
        y1=y1,
        color=color,
        gray_levels=np.concatenate([g.ravel() for g in gray_pyr]),
        color_levels=np.concatenate([c.ravel() for c in color_pyr]),
        level_offset=offset,
        level_rows=rows,
        level_cols=cols,
    )
    for arr in (floor.color, floor.gray_levels, floor.color_levels):
        arr.setflags(write=False)
    return floor


_COVERAGE_COLORS: dict[str, BGR] = {
    "carpet": (255, 0, 0),
    "surface": (0, 0, 0),
    "border": (0, 255, 0),
    "centre": (0, 0, 255),
}
"""Painting in these "colours" gives each material's coverage in one channel (B, G, R)."""


@functools.lru_cache(maxsize=16)
def build_coverage(track: Track, style: FloorStyle = FloorStyle()) -> UInt8Array:
    """Material coverage of every texel of the floor's pyramid (cached per track and style).

    Args:
        track: The track.
        style: Geometry of the lines and the raster (its colours are ignored).

    Returns:
        (N, 1, 3) uint8, texels in :class:`Floor`'s flat pyramid order: carpet, border and
        centre-line coverage, 0-255 (track surface is the rest).
    """
    c = _COVERAGE_COLORS
    coded = dataclasses.replace(
        style, carpet=c["carpet"], surface=c["surface"], border=c["border"], centre=c["centre"]
    )
    painted = paint_floor(track, coded)
    levels = _pyramid(painted, style.mip_levels)
    flat = np.concatenate([lv.reshape(-1, 3) for lv in levels]).reshape(-1, 1, 3)
    flat.setflags(write=False)
    return flat


def recolor(coverage: UInt8Array, style: FloorStyle, color: bool) -> UInt8Array:
    """The floor's flat texture pyramid in ``style``'s colours.

    Args:
        coverage: From :func:`build_coverage`.
        style: The colours of carpet, surface, border and centre line.
        color: BGR (3 values per texel, like :attr:`Floor.color_levels`) instead of gray
            (like :attr:`Floor.gray_levels`).

    Returns:
        Flat uint8 texture, ready for the camera.
    """
    if color:
        surface = np.array(style.surface, dtype=np.float64)
        mats = [
            np.array(getattr(style, m), dtype=np.float64) for m in ("carpet", "border", "centre")
        ]
    else:
        surface = np.array([bgr_to_gray(style.surface)], dtype=np.float64)
        mats = [
            np.array([bgr_to_gray(getattr(style, m))], dtype=np.float64)
            for m in ("carpet", "border", "centre")
        ]
    matrix = np.column_stack([*((m - surface) / 255.0 for m in mats), surface])
    return np.ascontiguousarray(cv2.transform(coverage, matrix), dtype=np.uint8).ravel()
