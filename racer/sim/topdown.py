"""A fast top-down RGB view of the track, the car and the objects (for ``rgb_array`` videos).

The background is the floor raster of :mod:`racer.sim.floor`, scaled once per track, size and span
and cached; each frame copies it and draws the car and objects with OpenCV (about 0.1 ms).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
from numpy.typing import NDArray

from racer.sim.floor import FloorStyle, build_floor
from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState

UInt8Array = NDArray[np.uint8]
FloatArray = NDArray[np.float64]

CAR_COLOR = (230, 40, 40)
"""RGB of the car."""
BOT_SHADE_LIMIT = 180
"""Objects darker than this are bot cars (racer.sim.race.BOT_SHADE), lighter ones boxes."""
OBJECT_COLORS = {0: (255, 150, 20), 1: (40, 90, 230)}
"""RGB of boxes and bot cars, keyed by ``shade < BOT_SHADE_LIMIT``."""


@functools.lru_cache(maxsize=8)
def _whole_track(
    track: Track, size: tuple[int, int], style: FloorStyle
) -> tuple[UInt8Array, float, float, float]:
    """The floor scaled into ``size`` (letterboxed): image, pixels/metre, world x0 and y1."""
    floor = build_floor(track, style)
    width, height = size
    span_x, span_y = floor.x1 - floor.x0, floor.y1 - floor.y0
    scale = min(width / span_x, height / span_y)
    x0 = (floor.x0 + floor.x1) / 2 - width / scale / 2
    y1 = (floor.y0 + floor.y1) / 2 + height / scale / 2
    return _warp(floor.color, floor.x0, floor.y1, style, size, scale, x0, y1), scale, x0, y1


def _warp(
    color: UInt8Array,
    fx0: float,
    fy1: float,
    style: FloorStyle,
    size: tuple[int, int],
    scale: float,
    x0: float,
    y1: float,
) -> UInt8Array:
    """Resample the floor (texel edges at fx0, fy1) to an RGB view whose top-left is (x0, y1)."""
    res = style.resolution
    k = scale * res  # output pixels per texel
    if k < 0.9:  # shrink with area averaging first, so thin lines do not alias
        rows, cols = color.shape[:2]
        small: UInt8Array = cv2.resize(  # type: ignore[assignment]
            color, (max(1, round(cols * k)), max(1, round(rows * k))), interpolation=cv2.INTER_AREA
        )
        res *= cols / small.shape[1]
        color = small
        k = scale * res
    shift_x = (fx0 - x0) * scale
    shift_y = (y1 - fy1) * scale
    m = np.array([[k, 0.0, shift_x + 0.5 * k - 0.5], [0.0, k, shift_y + 0.5 * k - 0.5]])
    bgr = cv2.warpAffine(
        color,
        m,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=style.carpet,
    )
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _rect(cx: float, cy: float, yaw: float, front: float, back: float, half_w: float) -> FloatArray:
    """(4, 2) world corners of a rectangle extending ``front``/``back`` along ``yaw``."""
    c, s = math.cos(yaw), math.sin(yaw)
    local = np.array([[front, half_w], [front, -half_w], [-back, -half_w], [-back, half_w]])
    return local @ np.array([[c, s], [-s, c]]) + np.array([cx, cy])


def render_topdown(
    track: Track,
    state: CarState,
    objects: FloatArray | None = None,
    size: tuple[int, int] = (480, 360),
    span: float | None = None,
    spec: CarSpec | None = None,
    style: FloorStyle | None = None,
) -> UInt8Array:
    """Draw the track from above with the car and objects.

    Args:
        track: The track.
        state: The car.
        objects: (K, 7) objects from :func:`racer.sim.types.objects_array`.
        size: Output (width, height), pixels.
        span: Width of the view in metres, centred on the car; ``None`` shows the whole track.
        spec: Car dimensions.
        style: Floor style (colours).

    Returns:
        ``(height, width, 3)`` uint8 RGB image, north up.
    """
    spec = spec if spec is not None else CarSpec()
    style = style if style is not None else FloorStyle()
    if span is None:
        base, scale, x0, y1 = _whole_track(track, size, style)
        img = base.copy()
    else:
        floor = build_floor(track, style)
        scale = size[0] / span
        x0 = state.x - size[0] / scale / 2
        y1 = state.y + size[1] / scale / 2
        img = _warp(floor.color, floor.x0, floor.y1, style, size, scale, x0, y1)

    def to_px(pts: FloatArray) -> NDArray[np.int32]:
        px = np.stack([(pts[:, 0] - x0) * scale, (y1 - pts[:, 1]) * scale], axis=1) - 0.5
        return np.round(px * 16).astype(np.int32)

    for ox, oy, oyaw, hl, hw, _h, shade in np.zeros((0, 7)) if objects is None else objects:
        corners = _rect(ox, oy, oyaw, hl, hl, hw)
        cv2.fillConvexPoly(
            img, to_px(corners), OBJECT_COLORS[int(shade < BOT_SHADE_LIMIT)], cv2.LINE_AA, 4
        )
    front = spec.body_length - spec.rear_overhang
    body = _rect(state.x, state.y, state.yaw, front, spec.rear_overhang, spec.body_width / 2)
    cv2.fillConvexPoly(img, to_px(body), CAR_COLOR, cv2.LINE_AA, 4)
    nose = _rect(state.x, state.y, state.yaw, front, -0.6 * front, spec.body_width / 4)
    cv2.fillConvexPoly(img, to_px(nose), (255, 255, 255), cv2.LINE_AA, 4)
    return img
