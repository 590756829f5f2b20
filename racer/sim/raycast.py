"""numba kernels of the ground-plane ray caster behind :class:`racer.sim.camera.Camera`.

Every pixel's ray is fixed in the car's frame (the camera is rigidly mounted and the body's roll
and pitch are ignored), so its floor hit point, distance and mip level are computed
once per camera configuration. Per frame a pixel's floor point is rotated by the yaw, moved to the
car's position and looked up (bilinear) in the mip level chosen for that pixel. Rays that
leave the floor rectangle hit the wall or the sky; boxes are intersected with a slab test, but
only for the pixels inside each box's projected bounding rectangle.

Object rows (see :func:`prepare_objects`): 0-2 the eye's position in the object frame,
3-4 cos/sin of (car yaw - object yaw), 5-7 half length, half width, height.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

FACE_NORMALS_LOCAL = np.array(
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]]
)
"""Box faces a camera above the floor can see: top, +x (front), -x, +y (left), -y."""

LIGHT_DIRECTION = np.array([0.35, 0.5, 0.79]) / np.linalg.norm([0.35, 0.5, 0.79])
"""World direction towards the light that shades box faces."""

LIGHT_AMBIENT = 0.5
LIGHT_DIFFUSE = 0.5


def face_factors(yaw: float | NDArray[np.float64]) -> NDArray[np.float64]:
    """Brightness factor of the visible faces of boxes with heading ``yaw``: (5,) or (K, 5)."""
    yaw_arr = np.asarray(yaw, dtype=np.float64)
    c, s = np.cos(yaw_arr)[..., None], np.sin(yaw_arr)[..., None]
    n = FACE_NORMALS_LOCAL
    lx, ly, lz = LIGHT_DIRECTION
    dot = (c * n[:, 0] - s * n[:, 1]) * lx + (s * n[:, 0] + c * n[:, 1]) * ly + n[:, 2] * lz
    return np.asarray(LIGHT_AMBIENT + LIGHT_DIFFUSE * np.maximum(dot, 0.0), dtype=np.float64)


@numba.njit(cache=True, fastmath=True)
def _bilinear(
    tex: NDArray[np.uint8],
    off: int,
    rows: int,
    cols: int,
    u: float,
    v: float,
    nch: int,
    ch: int,
) -> float:
    """Bilinear sample at texel-centre coordinates (u, v) of one level, clamped at the edges."""
    if u < 0.0:
        u = 0.0
    elif u > cols - 1.001:
        u = cols - 1.001
    if v < 0.0:
        v = 0.0
    elif v > rows - 1.001:
        v = rows - 1.001
    iu = int(u)
    iv = int(v)
    fu = u - iu
    fv = v - iv
    base = (off + iv * cols + iu) * nch + ch
    a = float(tex[base])
    b = float(tex[base + nch])
    c = float(tex[base + cols * nch])
    d = float(tex[base + cols * nch + nch])
    top = a + (b - a) * fu
    bot = c + (d - c) * fu
    return top + (bot - top) * fv


@numba.njit(cache=True, fastmath=True)
def _sample(
    tex: NDArray[np.uint8],
    loff: NDArray[np.int64],
    lrows: NDArray[np.int64],
    lcols: NDArray[np.int64],
    level: int,
    x: float,
    y: float,
    nch: int,
    ch: int,
) -> float:
    """Bilinear sample of one pyramid level at level-0 texel coordinates (edges at integers)."""
    scale = 1.0 / (1 << level)
    return _bilinear(
        tex, loff[level], lrows[level], lcols[level], x * scale - 0.5, y * scale - 0.5, nch, ch
    )


@numba.njit(cache=True)
def prepare_objects(
    objects: NDArray[np.float64],
    eyes: NDArray[np.float64],
    x: float,
    y: float,
    yaw: float,
    intr: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per-frame object data for :func:`render_frame`.

    Args:
        objects: (K, 7) x, y, yaw, half_length, half_width, height, shade.
        eyes: (E, 3) eye positions in the car frame (forward, left, up).
        x: Car base x.
        y: Car base y.
        yaw: Car yaw.
        intr: width, height, focal length in pixels, sin(pitch), cos(pitch).

    Returns:
        (E, K, 8) object rows (see module doc) and (E, K, 4) pixel bounding boxes
        (u0, u1, v0, v1 inclusive; u0 > u1 when the object is not in view).
    """
    n_eye = eyes.shape[0]
    k = objects.shape[0]
    width = int(intr[0])
    height = int(intr[1])
    f = intr[2]
    sp = intr[3]
    cp = intr[4]
    c = math.cos(yaw)
    s = math.sin(yaw)
    rows = np.zeros((n_eye, k, 8))
    boxes = np.zeros((n_eye, k, 4), dtype=np.int64)
    for e in range(n_eye):
        ex = x + c * eyes[e, 0] - s * eyes[e, 1]
        ey = y + s * eyes[e, 0] + c * eyes[e, 1]
        ez = eyes[e, 2]
        for j in range(k):
            ox, oy, oyaw = objects[j, 0], objects[j, 1], objects[j, 2]
            hl, hw, h = objects[j, 3], objects[j, 4], objects[j, 5]
            co = math.cos(oyaw)
            so = math.sin(oyaw)
            rx = ex - ox
            ry = ey - oy
            rows[e, j, 0] = co * rx + so * ry
            rows[e, j, 1] = -so * rx + co * ry
            rows[e, j, 2] = ez
            rows[e, j, 3] = math.cos(yaw - oyaw)
            rows[e, j, 4] = math.sin(yaw - oyaw)
            rows[e, j, 5] = hl
            rows[e, j, 6] = hw
            rows[e, j, 7] = h
            umin = 1e30
            umax = -1e30
            vmin = 1e30
            vmax = -1e30
            behind = 0
            for corner in range(8):
                lx = hl if corner & 1 else -hl
                ly = hw if corner & 2 else -hw
                lz = h if corner & 4 else 0.0
                wx = ox + co * lx - so * ly - ex
                wy = oy + so * lx + co * ly - ey
                wz = lz - ez
                fwd = c * wx + s * wy
                left = -s * wx + c * wy
                depth = fwd * cp - wz * sp
                if depth < 1e-3:
                    behind += 1
                    continue
                u = 0.5 * width - f * left / depth
                v = 0.5 * height - f * (fwd * sp + wz * cp) / depth
                umin = min(umin, u)
                umax = max(umax, u)
                vmin = min(vmin, v)
                vmax = max(vmax, v)
            if behind == 8:
                boxes[e, j, 0] = 1
                boxes[e, j, 1] = 0
                continue
            if behind > 0:
                umin, vmin, umax, vmax = -1e30, -1e30, 1e30, 1e30
            boxes[e, j, 0] = max(0, int(math.floor(umin - 0.5)) - 1)
            boxes[e, j, 1] = min(width - 1, int(math.ceil(umax - 0.5)) + 1)
            boxes[e, j, 2] = max(0, int(math.floor(vmin - 0.5)) - 1)
            boxes[e, j, 3] = min(height - 1, int(math.ceil(vmax - 0.5)) + 1)
    return rows, boxes


@numba.njit(cache=True, fastmath=True)
def _slab(o: float, d: float, lo: float, hi: float) -> tuple[float, float]:
    """Entry and exit distances of a ray along one axis of a slab (entry > exit: no overlap)."""
    if abs(d) < 1e-12:
        return (-1e30, 1e30) if lo <= o <= hi else (1e30, -1e30)
    ta = (lo - o) / d
    tb = (hi - o) / d
    return (ta, tb) if d > 0.0 else (tb, ta)


@numba.njit(cache=True, fastmath=True)
def _hit_box(
    rows: NDArray[np.float64], e: int, j: int, dcx: float, dcy: float, dz: float
) -> tuple[float, int]:
    """Slab test of a car-frame ray against box ``j`` seen by eye ``e``: (distance, face).

    Returns ``(inf, -1)`` on a miss or when the eye is inside the box.
    """
    cr = rows[e, j, 3]
    sr = rows[e, j, 4]
    dx = cr * dcx - sr * dcy
    dy = sr * dcx + cr * dcy
    ax0, ax1 = _slab(rows[e, j, 0], dx, -rows[e, j, 5], rows[e, j, 5])
    ay0, ay1 = _slab(rows[e, j, 1], dy, -rows[e, j, 6], rows[e, j, 6])
    az0, az1 = _slab(rows[e, j, 2], dz, 0.0, rows[e, j, 7])
    t0 = max(ax0, ay0, az0)
    t1 = min(ax1, ay1, az1)
    if t0 > t1 or t0 <= 0.0:
        return np.inf, -1
    if t0 == az0:
        return t0, 0
    if t0 == ax0:
        return t0, 2 if dx > 0.0 else 1
    return t0, 4 if dy > 0.0 else 3


@numba.njit(cache=True, fastmath=True)
def trace_objects(
    obj_rows: NDArray[np.float64],
    obj_boxes: NDArray[np.int64],
    dirs: NDArray[np.float64],
    depth: NDArray[np.float64],
    hit: NDArray[np.int64],
) -> None:
    """Nearest box per pixel, testing only the pixels inside each box's bounding rectangle.

    Args:
        obj_rows: (E, K, 8) from :func:`prepare_objects`.
        obj_boxes: (E, K, 4) from :func:`prepare_objects`.
        dirs: (H, W, 3) unit ray directions in the car frame.
        depth: (E, H, W) output distances, to be filled with ``inf`` by the caller.
        hit: (E, H, W) output ``5 * object + face`` where ``depth`` is finite.
    """
    for e in range(obj_rows.shape[0]):
        for j in range(obj_rows.shape[1]):
            for v in range(obj_boxes[e, j, 2], obj_boxes[e, j, 3] + 1):
                for u in range(obj_boxes[e, j, 0], obj_boxes[e, j, 1] + 1):
                    t, face = _hit_box(obj_rows, e, j, dirs[v, u, 0], dirs[v, u, 1], dirs[v, u, 2])
                    if t < depth[e, v, u]:
                        depth[e, v, u] = t
                        hit[e, v, u] = 5 * j + face


@numba.njit(cache=True, fastmath=True)
def _exit_distance(o: float, d: float, lo: float, hi: float) -> float:
    """Distance along a ray from inside [lo, hi] until it leaves through lo or hi."""
    if d > 1e-12:
        return (hi - o) / d
    if d < -1e-12:
        return (lo - o) / d
    return np.inf


@numba.njit(cache=True, fastmath=True)
def _wall_or_sky(
    scene: NDArray[np.float64], ex: float, ey: float, ez: float, dwx: float, dwy: float, dz: float
) -> tuple[int, float]:
    """Background of a ray that leaves the floor: (0 = wall, 1 = sky) and the wall distance."""
    wall_h = scene[5]
    if wall_h <= 0.0:
        return 1, np.inf
    tx = _exit_distance(ex, dwx, scene[0], scene[2])
    ty = _exit_distance(ey, dwy, scene[1], scene[3])
    tw = max(min(tx, ty), 0.0)
    return (0 if dz < 0.0 or ez + tw * dz <= wall_h else 1), tw


@numba.njit(cache=True, fastmath=True)
def render_frame(
    out: NDArray[np.uint8],
    ground: NDArray[np.float64],
    dirs: NDArray[np.float64],
    eyes: NDArray[np.float64],
    pose: NDArray[np.float64],
    tex: NDArray[np.uint8],
    loff: NDArray[np.int64],
    lrows: NDArray[np.int64],
    lcols: NDArray[np.int64],
    scene: NDArray[np.float64],
    colors: NDArray[np.float64],
    obj_depth: NDArray[np.float64],
    obj_hit: NDArray[np.int64],
    obj_colors: NDArray[np.float64],
) -> None:
    """Render one frame per eye into ``out``.

    Args:
        out: (E, H, W, C) uint8 output.
        ground: (E, H, W, 4) floor hit per pixel: forward, left (car frame), distance, mip
            level; distance <= 0 above the horizon.
        dirs: (H, W, 3) unit ray directions in the car frame.
        eyes: (E, 3) eye positions in the car frame.
        pose: car x, y, yaw.
        tex: Flat uint8 pyramid, C values per texel.
        loff: Level offsets (texels).
        lrows: Level rows.
        lcols: Level columns.
        scene: floor x0, y0, x1, y1, resolution, wall height (<= 0: no wall).
        colors: (2, C) wall and sky colours.
        obj_depth: (E, H, W) distance to the nearest box from :func:`trace_objects`; ignored
            (may be empty) when there are no objects.
        obj_hit: (E, H, W) ``5 * object + face`` from :func:`trace_objects`.
        obj_colors: (K, 5, C) face colours (no objects: K = 0).
    """
    n_eye, height, width, nch = out.shape
    x, y, yaw = pose[0], pose[1], pose[2]
    c = math.cos(yaw)
    s = math.sin(yaw)
    fx0, fy0, fx1, fy1 = scene[0], scene[1], scene[2], scene[3]
    inv_res = 1.0 / scene[4]
    endless = scene[5] <= 0.0
    n_obj = obj_colors.shape[0]
    for e in range(n_eye):
        ex = x + c * eyes[e, 0] - s * eyes[e, 1]
        ey = y + s * eyes[e, 0] + c * eyes[e, 1]
        for v in range(height):
            for u in range(width):
                dx, dy, dz = dirs[v, u, 0], dirs[v, u, 1], dirs[v, u, 2]
                best = obj_depth[e, v, u] if n_obj > 0 else np.inf
                dist = ground[e, v, u, 2]
                if dist > 0.0 and dist <= best:
                    gx = ground[e, v, u, 0]
                    gy = ground[e, v, u, 1]
                    wx = x + c * gx - s * gy
                    wy = y + s * gx + c * gy
                    if endless or (fx0 <= wx <= fx1 and fy0 <= wy <= fy1):
                        lod = int(ground[e, v, u, 3])
                        tu = (wx - fx0) * inv_res
                        tv = (fy1 - wy) * inv_res
                        for ch in range(nch):
                            val = _sample(tex, loff, lrows, lcols, lod, tu, tv, nch, ch)
                            out[e, v, u, ch] = np.uint8(val + 0.5)
                        continue
                bg, tw = _wall_or_sky(
                    scene, ex, ey, eyes[e, 2], c * dx - s * dy, s * dx + c * dy, dz
                )
                if best < tw:
                    hit = obj_hit[e, v, u]
                    for ch in range(nch):
                        out[e, v, u, ch] = np.uint8(obj_colors[hit // 5, hit % 5, ch] + 0.5)
                else:
                    for ch in range(nch):
                        out[e, v, u, ch] = np.uint8(colors[bg, ch] + 0.5)
