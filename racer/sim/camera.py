"""DeepRacer's front camera (mono or stereo), rendered by a numba ground-plane ray caster.

The camera sits ``forward`` metres ahead of the car's base (rear-axle midpoint),
``mount_height`` above the floor, pitched ``pitch_deg`` down, with horizontal field of view
``hfov``; the vertical one follows from the aspect ratio. The scene is the track's floor raster
(:mod:`racer.sim.floor`), a wall around it, the sky, and oriented boxes for obstacles and bot cars.

Two modes (a registry, :data:`RENDER_MODES`):

* ``"fast"``: render gray directly at the output size from a gray texture made with OpenCV's
  ``COLOR_BGR2GRAY`` weights, with mip-mapping (one bilinear lookup in the level that suits
  each pixel's footprint) against far-field aliasing.
* ``"real_car"``: the physical car's pipeline: render BGR colour at the capture size (640x480),
  ``cv2.resize(..., INTER_LINEAR)`` to the output size, then ``cv2.cvtColor(..., BGR2GRAY)``.

Output: ``(H, W)`` uint8 for a mono camera, ``(2, H, W)`` uint8 (left eye first) for stereo.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from racer.sim.floor import Floor, FloorStyle, build_coverage, build_floor, recolor
from racer.sim.raycast import face_factors, prepare_objects, render_frame, trace_objects
from racer.sim.track import Track
from racer.sim.types import CarSpec, CarState

UInt8Array = NDArray[np.uint8]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CameraConfig:
    """Camera pose, optics, output and rendering mode.

    Attributes:
        width: Output width, pixels.
        height: Output height, pixels.
        hfov: Horizontal field of view, radians (DeepRacer: 1.13).
        pitch_deg: Downward pitch, degrees.
        forward: Lens position ahead of the car's base (rear-axle midpoint), metres.
        mount_height: Lens height above the floor, metres.
        lateral: Lens offset to the left of the car's centre line, metres.
        stereo: Two cameras side by side (output ``(2, H, W)``, left eye first).
        baseline: Distance between the stereo cameras, metres.
        mode: Rendering mode, a key of :data:`RENDER_MODES` (``"fast"`` or ``"real_car"``).
        capture_width: Colour capture width of the ``"real_car"`` mode, pixels.
        capture_height: Colour capture height of the ``"real_car"`` mode, pixels.
        mipmap: Mip-mapping of the floor (off: bilinear on the finest level only).
        lod_bias: Added to each pixel's mip level before rounding (positive = blurrier). The
            default -1 makes the fast mode closest to the ``"real_car"`` mode (mean difference
            ~0.4 gray levels on re:Invent 2018).
        style: Floor, lines, wall and sky appearance.
    """

    width: int = 160
    height: int = 120
    hfov: float = 1.13
    pitch_deg: float = 15.0
    forward: float = 0.14
    mount_height: float = 0.12
    lateral: float = 0.0
    stereo: bool = False
    baseline: float = 0.06
    mode: str = "fast"
    capture_width: int = 640
    capture_height: int = 480
    mipmap: bool = True
    lod_bias: float = -1.0
    style: FloorStyle = field(default_factory=FloorStyle)

    def __post_init__(self) -> None:
        if self.mode not in RENDER_MODES:
            import difflib

            close = difflib.get_close_matches(self.mode, list(RENDER_MODES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown camera mode {self.mode!r}{hint} (known: {list(RENDER_MODES)})"
            )
        if not 0.0 < self.hfov < math.pi:
            raise ValueError(f"hfov must be in (0, pi), got {self.hfov}")

    @property
    def vfov(self) -> float:
        """Vertical field of view, radians: ``2 atan(tan(hfov / 2) * height / width)``."""
        return 2.0 * math.atan(math.tan(self.hfov / 2.0) * self.height / self.width)

    @property
    def horizon_row(self) -> float:
        """Image row (continuous, 0 = top edge) of the horizon of an endless flat floor."""
        pitch = math.radians(self.pitch_deg)
        return self.height / 2.0 * (1.0 - math.tan(pitch) / math.tan(self.vfov / 2.0))

    @property
    def eye_offsets(self) -> FloatArray:
        """(E, 3) lens positions in the car frame (forward, left, up), left eye first."""
        if not self.stereo:
            return np.array([[self.forward, self.lateral, self.mount_height]])
        b = self.baseline / 2.0
        y = self.lateral
        return np.array(
            [[self.forward, y + b, self.mount_height], [self.forward, y - b, self.mount_height]]
        )


@dataclass(frozen=True, eq=False)
class CameraRays:
    """Per-pixel rays of one image size, fixed in the car frame.

    Attributes:
        width: Image width.
        height: Image height.
        focal: Focal length in pixels.
        dirs: (H, W, 3) unit directions (forward, left, up).
        ground: (E, H, W, 4) floor hit per eye: forward, left, distance (<= 0: none), level of
            detail.
        intrinsics: width, height, focal, sin(pitch), cos(pitch) for :func:`prepare_objects`.
    """

    width: int
    height: int
    focal: float
    dirs: FloatArray
    ground: FloatArray
    intrinsics: FloatArray


def pixel_rays(config: CameraConfig, width: int, height: int, floor: Floor) -> CameraRays:
    """Precompute the rays, floor hits and texture levels of an image of the given size.

    Args:
        config: Camera configuration (pose, field of view, mip-mapping).
        width: Image width, pixels.
        height: Image height, pixels.
        floor: The floor raster (its resolution and number of levels set the level of detail).

    Returns:
        The :class:`CameraRays`.
    """
    focal = (width / 2.0) / math.tan(config.hfov / 2.0)
    pitch = math.radians(config.pitch_deg)
    sp, cp = math.sin(pitch), math.cos(pitch)
    xn = (np.arange(width) + 0.5 - width / 2.0) / focal
    yn = (np.arange(height) + 0.5 - height / 2.0) / focal
    xg, yg = np.meshgrid(xn, yn)
    dirs = np.stack([cp - yg * sp, -xg, -sp - yg * cp], axis=-1)
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    eyes = config.eye_offsets
    ground = np.zeros((len(eyes), height, width, 4))
    down = dirs[..., 2] < -1e-9
    t = np.where(down, -config.mount_height / np.where(down, dirs[..., 2], -1.0), 0.0)
    levels = len(floor.level_rows)
    for e, eye in enumerate(eyes):
        ground[e, ..., 0] = eye[0] + t * dirs[..., 0]
        ground[e, ..., 1] = eye[1] + t * dirs[..., 1]
        ground[e, ..., 2] = t
    # Footprint of a pixel on the floor: geometric mean of its extent along rows and columns.
    gx, gy = ground[0, ..., 0], ground[0, ..., 1]
    du = np.hypot(np.gradient(gx, axis=1), np.gradient(gy, axis=1))
    dv = np.hypot(np.gradient(gx, axis=0), np.gradient(gy, axis=0))
    footprint = np.sqrt(np.maximum(du * dv, 1e-12))
    lod = np.log2(np.maximum(footprint / floor.style.resolution, 1e-6)) + config.lod_bias
    lod = np.clip(np.round(lod), 0.0, levels - 1.0) if config.mipmap else np.zeros_like(lod)
    lod[~down] = 0.0
    ground[..., 3] = lod
    intr = np.array([width, height, focal, sp, cp], dtype=np.float64)
    return CameraRays(width, height, focal, dirs, ground, intr)


_MATERIALS = ("carpet", "surface", "border", "centre", "wall", "sky")
_EMPTY_OBJECTS = np.zeros((0, 7))
_NO_DEPTH = np.zeros((0, 0, 0))
_NO_HIT = np.zeros((0, 0, 0), np.int64)


class Camera:
    """DeepRacer's front camera(s) over one track.

    :meth:`set_pose_offset` and :meth:`set_colors` vary the mount and the scene's colours
    episode by episode (domain randomisation); :attr:`config` keeps the configured camera and
    :attr:`mount` the pose in use.

    Args:
        track: The track (its floor raster is built once and cached).
        config: Camera configuration.
        spec: The car (kept for mounts relative to the body; the pose uses ``config``).
    """

    def __init__(
        self, track: Track, config: CameraConfig | None = None, spec: CarSpec | None = None
    ) -> None:
        self.track = track
        self.config = config if config is not None else CameraConfig()
        self.spec = spec if spec is not None else CarSpec()
        self.floor = build_floor(track, self.config.style)
        self.mount = self.config
        self._eyes = np.ascontiguousarray(self.config.eye_offsets)
        style = self.config.style
        self._scene = np.array(
            [*self.floor.extent, style.resolution, style.wall_height], dtype=np.float64
        )
        self._rays: dict[tuple[int, int], CameraRays] = {}
        self._base_rays = self._rays
        self._colors = {False: _scene_colors(style, False), True: _scene_colors(style, True)}
        self._textures = {False: self.floor.gray_levels, True: self.floor.color_levels}
        self._style = style

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """``(H, W)`` for a mono camera, ``(2, H, W)`` for stereo."""
        c = self.config
        return (2, c.height, c.width) if c.stereo else (c.height, c.width)

    def rays(self, width: int, height: int) -> CameraRays:
        """The cached :class:`CameraRays` of an image size."""
        key = (width, height)
        if key not in self._rays:
            self._rays[key] = pixel_rays(self.mount, width, height, self.floor)
        return self._rays[key]

    def set_pose_offset(
        self, pitch_deg: float = 0.0, forward: float = 0.0, left: float = 0.0, up: float = 0.0
    ) -> None:
        """Move the camera from its configured mount (no arguments: back onto it).

        Args:
            pitch_deg: Added to the downward pitch, degrees.
            forward: Added to the lens's distance ahead of the base, metres.
            left: Lens offset to the left, metres.
            up: Added to the lens's height, metres.
        """
        c = self.config
        if not (pitch_deg or forward or left or up):
            self.mount, self._rays = c, self._base_rays
        else:
            self.mount = dataclasses.replace(
                c,
                pitch_deg=c.pitch_deg + pitch_deg,
                forward=c.forward + forward,
                lateral=c.lateral + left,
                mount_height=c.mount_height + up,
            )
            self._rays = {}
        self._eyes = np.ascontiguousarray(self.mount.eye_offsets)

    def set_colors(self, style: FloorStyle | None = None) -> None:
        """Paint the scene in another style's colours (None: the configured ones).

        Only the colours of carpet, surface, border, centre line, wall and sky are used; the
        geometry stays the configured style's. The floor is recoloured through its coverage
        map (:func:`racer.sim.floor.recolor`), about a millisecond, not repainted.
        """
        base = self.config.style
        colors = None if style is None else {m: getattr(style, m) for m in _MATERIALS}
        if colors is None or colors == {m: getattr(base, m) for m in _MATERIALS}:
            self._style = base
            self._textures = {False: self.floor.gray_levels, True: self.floor.color_levels}
        else:
            self._style = dataclasses.replace(base, **colors)
            self._textures = {}
        self._colors = {
            False: _scene_colors(self._style, False),
            True: _scene_colors(self._style, True),
        }

    def _texture(self, color: bool) -> UInt8Array:
        """The floor texture in the current colours (recoloured on first use)."""
        tex = self._textures.get(color)
        if tex is None:
            coverage = build_coverage(self.track, self.config.style)
            tex = self._textures[color] = recolor(coverage, self._style, color)
        return tex

    def render(self, state: CarState, objects: FloatArray | None = None) -> UInt8Array:
        """Render the camera image(s) of a car.

        Args:
            state: The car (base position and yaw; roll and pitch are ignored).
            objects: (K, 7) obstacles and bot cars from :func:`racer.sim.types.objects_array`.

        Returns:
            uint8 ``(H, W)`` (mono) or ``(2, H, W)`` (stereo, left eye first).
        """
        objs = _EMPTY_OBJECTS if objects is None else np.asarray(objects, dtype=np.float64)
        return RENDER_MODES[self.config.mode](self, state, objs)

    def render_raw(
        self, state: CarState, objects: FloatArray, width: int, height: int, color: bool
    ) -> UInt8Array:
        """Ray-cast the scene at a given size without any post-processing.

        Args:
            state: The car.
            objects: (K, 7) objects.
            width: Image width.
            height: Image height.
            color: BGR colour (3 channels) instead of gray (1 channel).

        Returns:
            (E, H, W, C) uint8, one image per eye.
        """
        rays = self.rays(width, height)
        nch = 3 if color else 1
        pose = np.array([state.x, state.y, state.yaw])
        obj_rows, obj_boxes = prepare_objects(
            objects, self._eyes, state.x, state.y, state.yaw, rays.intrinsics
        )
        colors = self._colors[color]
        obj_colors = _object_colors(objects, nch)
        n_eye = len(self._eyes)
        if len(objects):
            depth = np.full((n_eye, height, width), np.inf)
            hit = np.zeros((n_eye, height, width), np.int64)
            trace_objects(obj_rows, obj_boxes, rays.dirs, depth, hit)
        else:
            depth, hit = _NO_DEPTH, _NO_HIT
        out = np.empty((n_eye, height, width, nch), np.uint8)
        tex = self._texture(color)
        render_frame(
            out,
            rays.ground,
            rays.dirs,
            self._eyes,
            pose,
            tex,
            self.floor.level_offset,
            self.floor.level_rows,
            self.floor.level_cols,
            self._scene,
            colors,
            depth,
            hit,
            obj_colors,
        )
        return out


def _scene_colors(style: FloorStyle, color: bool) -> FloatArray:
    """(2, C) wall and sky colours."""
    if color:
        return np.array([style.wall, style.sky], dtype=np.float64)
    from racer.sim.floor import bgr_to_gray

    return np.array([[bgr_to_gray(style.wall)], [bgr_to_gray(style.sky)]], dtype=np.float64)


def _object_colors(objects: FloatArray, nch: int) -> FloatArray:
    """(K, 5, C) face colours: each object's shade times each face's light factor."""
    if len(objects) == 0:
        return np.zeros((0, 5, nch))
    factors = face_factors(objects[:, 2])
    shaded = np.clip(objects[:, 6:7] * factors, 0.0, 255.0)
    return np.ascontiguousarray(np.broadcast_to(shaded[:, :, None], (len(objects), 5, nch)))


def _render_fast(camera: Camera, state: CarState, objects: FloatArray) -> UInt8Array:
    """Gray at the output size (see module doc)."""
    c = camera.config
    img = camera.render_raw(state, objects, c.width, c.height, color=False)[..., 0]
    return img if c.stereo else img[0]


def _render_real_car(camera: Camera, state: CarState, objects: FloatArray) -> UInt8Array:
    """Colour at the capture size, then the car's resize and BGR-to-gray (see module doc)."""
    c = camera.config
    raw = camera.render_raw(state, objects, c.capture_width, c.capture_height, color=True)
    eyes = [
        cv2.cvtColor(
            cv2.resize(im, (c.width, c.height), interpolation=cv2.INTER_LINEAR),
            cv2.COLOR_BGR2GRAY,
        )
        for im in raw
    ]
    return np.stack(eyes) if c.stereo else eyes[0]


RENDER_MODES: dict[str, Callable[[Camera, CarState, FloatArray], UInt8Array]] = {
    "fast": _render_fast,
    "real_car": _render_real_car,
}
"""Camera rendering modes by name."""
