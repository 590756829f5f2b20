"""The evaluation video: the car's camera beside a top-down view of the trajectory so far.

Each frame (1280x720, 15 fps, MPEG-4 Part 2 via OpenCV's ``mp4v`` fourcc) shows a header with
the title and the trial, the camera image upscaled 4x with nearest-neighbour pixels, a row of
big numbers (time with penalties, speed, progress, off-tracks / crashes) and the whole track
from above with the path driven in this trial coloured by speed. Penalties flash a banner;
each trial ends with its result held for one second.

One frame per control step plus one at the start of each trial, plus :data:`HOLD_FRAMES` at
its end: a trial of ``n`` steps gives ``n + 1 + HOLD_FRAMES`` frames.

When the model has no camera, the camera is rendered for the video alone (and labelled so).

**The camera recording** (mono camera models only): beside the video, :class:`CameraRecording`
writes every image the policy decided on, losslessly, so that ``racer drive`` can replay them
through an exported model and compare its actions with the simulator's. It is ``camera.avi``
(FFV1, 160x120, 15 fps, the gray image written as BGR with three equal channels, which the
car's ``BGR2GRAY`` turns back into the same gray exactly), or a ``camera/`` folder of
``000000.png``, ``000001.png``, ... where this machine's OpenCV cannot round-trip FFV1 exactly.
Frame *i* is the observation of the *i*-th decision of the evaluation, all trials in order:
it pairs with the *i*-th row of the evaluation simtrace whose ``episode_status`` is not
``prepare`` (its ``action`` column holds the action the policy chose on that image). The
observation after a trial's last step is never decided on and is not recorded.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from racer.env.racing_env import RacingEnv
from racer.sim.camera import Camera
from racer.sim.floor import FloorStyle, build_floor
from racer.sim.topdown import render_topdown

UInt8Array = NDArray[np.uint8]
RGB = tuple[int, int, int]

FPS = 15
WIDTH, HEIGHT = 1280, 720
HEADER = 64
CAMERA_SCALE = 4
HOLD_FRAMES = 15
"""Frames that hold each trial's final picture with its result."""

FONT = cv2.FONT_HERSHEY_DUPLEX
BG: RGB = (21, 24, 28)
PANEL: RGB = (34, 38, 44)
WHITE: RGB = (245, 245, 245)
MUTED: RGB = (150, 158, 168)
GREEN: RGB = (60, 200, 110)
RED: RGB = (235, 64, 52)
AMBER: RGB = (250, 180, 40)
STATUS_COLORS: dict[str, RGB] = {
    "prepare": MUTED,
    "in_progress": GREEN,
    "lap_complete": GREEN,
    "off_track": RED,
    "crashed": RED,
    "time_up": AMBER,
    "immobilized": AMBER,
    "reversed": AMBER,
}
SPEED_CMAP = "cool"
"""Colour map of speed (cyan slow, magenta fast): clear on asphalt, grass and the yellow line."""
CAMERA_SENSORS = ("FRONT_FACING_CAMERA", "STEREO_CAMERAS")
CAMERA_FILE = "camera.avi"
"""The lossless recording of the policy's camera frames (FFV1)."""
CAMERA_FRAMES_DIR = "camera"
"""Its fallback: a folder of numbered PNG frames."""


@functools.lru_cache(maxsize=1)
def ffv1_round_trips() -> bool:
    """Whether this OpenCV writes and reads FFV1 ``.avi`` files bit-exactly (checked once)."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(3)]
    with tempfile.TemporaryDirectory(prefix="racer-ffv1-") as tmp:
        path = str(Path(tmp) / "check.avi")
        writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"FFV1"), FPS, (160, 120))
        if not writer.isOpened():
            return False
        for frame in frames:
            writer.write(frame)
        writer.release()
        capture = cv2.VideoCapture(path)
        back: list[Any] = []
        while True:
            ok, read = capture.read()
            if not ok:
                break
            back.append(read)
        capture.release()
    if len(back) != len(frames):
        return False
    return all(np.array_equal(a, b) for a, b in zip(frames, back, strict=True))


class CameraRecording:
    """The gray camera images a policy decided on, written losslessly in order.

    Args:
        folder: Where ``camera.avi`` (or the ``camera/`` PNG folder) goes; an earlier
            recording there is replaced.
        size: (width, height) of the images.
        use_ffv1: Write FFV1 (default: when :func:`ffv1_round_trips`), else PNG frames.
    """

    def __init__(
        self, folder: str | Path, size: tuple[int, int] = (160, 120), use_ffv1: bool | None = None
    ) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CAMERA_FILE).unlink(missing_ok=True)
        shutil.rmtree(folder / CAMERA_FRAMES_DIR, ignore_errors=True)
        self.size = size
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        if use_ffv1 if use_ffv1 is not None else ffv1_round_trips():
            self.path = folder / CAMERA_FILE
            fourcc = cv2.VideoWriter.fourcc(*"FFV1")
            self._writer = cv2.VideoWriter(str(self.path), fourcc, FPS, size)
            if not self._writer.isOpened():
                raise RuntimeError(f"OpenCV could not open an FFV1 video writer for {self.path}")
        else:
            self.path = folder / CAMERA_FRAMES_DIR
            self.path.mkdir()

    def add(self, gray: UInt8Array) -> None:
        """Append one gray ``(height, width)`` image."""
        image = np.ascontiguousarray(np.asarray(gray, dtype=np.uint8))
        if image.shape != (self.size[1], self.size[0]):
            raise ValueError(f"expected a {self.size[1]}x{self.size[0]} image, got {image.shape}")
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if self._writer is not None:
            self._writer.write(bgr)
        else:
            cv2.imwrite(str(self.path / f"{self.frames:06d}.png"), bgr)
        self.frames += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()


@dataclass(frozen=True)
class VideoFrame:
    """What one frame shows.

    Attributes:
        obs: The model's observation (its camera image, when it has one).
        info: The step's ``info`` (status, sim_time, progress, counters, x, y...).
        trial: Trial number, from 1.
        trials: Number of trials.
        positions: The trial's (x, y) points so far, the current one last.
        speeds: Ground speeds at those points, m/s.
        event: ``off_track`` or ``crashed`` when this step cost a penalty.
    """

    obs: Any
    info: dict[str, Any]
    trial: int
    trials: int
    positions: list[tuple[float, float]]
    speeds: list[float]
    event: str | None = None


def _text(
    img: UInt8Array,
    text: str,
    org: tuple[int, int],
    scale: float,
    color: RGB = WHITE,
    thickness: int = 1,
    anchor: str = "left",
) -> None:
    """Anti-aliased text with its baseline at ``org``; ``anchor`` left, right or centre."""
    (w, _), _ = cv2.getTextSize(text, FONT, scale, thickness)
    x = {"left": org[0], "right": org[0] - w, "centre": org[0] - w // 2}[anchor]
    cv2.putText(img, text, (x, org[1]), FONT, scale, color, thickness, cv2.LINE_AA)


def _banner(img: UInt8Array, text: str, color: RGB, centre_y: int) -> None:
    """A translucent band across ``img`` with big centred text."""
    top, bottom = centre_y - 42, centre_y + 42
    band = img[top:bottom].astype(np.float32)
    img[top:bottom] = (0.35 * band + 0.65 * np.array(color, np.float32)).astype(np.uint8)
    _text(img, text, (img.shape[1] // 2, centre_y + 16), 1.5, WHITE, 3, "centre")


class TopDownView:
    """The whole track from above, with the current trial's path coloured by speed.

    Args:
        env: The evaluation's environment (track, car, objects).
        size: (width, height) in pixels.
        vmax: Speed at the top of the colour scale, m/s.
    """

    def __init__(self, env: RacingEnv, size: tuple[int, int], vmax: float) -> None:
        self.env = env
        self.size = size
        self.vmax = vmax
        from matplotlib import colormaps

        lut = colormaps[SPEED_CMAP](np.linspace(0.0, 1.0, 256))[:, :3] * 255
        self._lut = [tuple(int(c) for c in row) for row in lut]
        # Render the whole floor large enough that the track (plus a small pad) fills the
        # view, then crop around the track: the floor's wide carpet margin is left out.
        floor = build_floor(env.track, FloorStyle())
        w, h = size
        xmin, ymin, xmax, ymax = env.track.bounds
        pad = 0.3
        fit = min(w / (xmax - xmin + 2 * pad), h / (ymax - ymin + 2 * pad))
        span_x, span_y = floor.x1 - floor.x0, floor.y1 - floor.y0
        full = (max(w, round(fit * span_x)), max(h, round(fit * span_y)))
        self._full = full
        self.scale = min(full[0] / span_x, full[1] / span_y)
        self.x0 = (floor.x0 + floor.x1) / 2 - full[0] / self.scale / 2
        self.y1 = (floor.y0 + floor.y1) / 2 + full[1] / self.scale / 2
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        self._left = int(np.clip(round((cx - self.x0) * self.scale - w / 2), 0, full[0] - w))
        self._top = int(np.clip(round((self.y1 - cy) * self.scale - h / 2), 0, full[1] - h))
        self._layer = np.zeros((h, w, 3), np.uint8)
        self._mask = np.zeros((h, w), np.uint8)
        self._drawn = 0

    def to_px(self, x: float, y: float) -> tuple[int, int]:
        """Pixel of a world point in the (cropped) view."""
        return (
            round((x - self.x0) * self.scale - 0.5) - self._left,
            round((self.y1 - y) * self.scale - 0.5) - self._top,
        )

    def new_trial(self) -> None:
        """Forget the path."""
        self._layer[:] = 0
        self._mask[:] = 0
        self._drawn = 0

    def render(self, frame: VideoFrame) -> UInt8Array:
        """The view for a frame (draws the new path segments once, then composites)."""
        pts, speeds = frame.positions, frame.speeds
        for i in range(max(self._drawn, 1), len(pts)):
            a, b = self.to_px(*pts[i - 1]), self.to_px(*pts[i])
            color = self._lut[min(255, int(255 * speeds[i] / self.vmax))]
            cv2.line(self._layer, a, b, color, 4)
            cv2.line(self._mask, a, b, 255, 4)
        self._drawn = len(pts)
        if frame.event is not None and len(pts) > 1:
            cx, cy = self.to_px(*pts[-2])
            color = RED if frame.event == "off_track" else AMBER
            for sign in (1, -1):
                cv2.line(self._layer, (cx - 9, cy - 9 * sign), (cx + 9, cy + 9 * sign), color, 4)
                cv2.line(self._mask, (cx - 9, cy - 9 * sign), (cx + 9, cy + 9 * sign), 255, 4)
        world = self.env.world
        assert world.record is not None
        full = render_topdown(self.env.track, world.record.car, world.objects_array, self._full)
        w, h = self.size
        img = np.ascontiguousarray(full[self._top : self._top + h, self._left : self._left + w])
        cv2.copyTo(self._layer, self._mask, img)
        if pts:
            cv2.circle(img, self.to_px(*pts[-1]), 13, WHITE, 2, cv2.LINE_AA)
        return img


class EvalVideo:
    """Writes the evaluation video frame by frame.

    Args:
        path: Output ``.mp4``.
        env: The evaluation's environment.
        title: Header text (model, track, race).

    Raises:
        RuntimeError: When OpenCV cannot open an ``mp4v`` writer for the file.
    """

    def __init__(self, path: str | Path, env: RacingEnv, title: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self.env = env
        self.title = title
        self.frames = 0
        sensors = env.config.sensors
        self._camera_key = next((s for s in sensors if s in CAMERA_SENSORS), None)
        self._single = len(sensors) == 1
        # The policy's own camera frames, losslessly, for `racer drive` (mono camera only).
        mono = tuple(sensors) == ("FRONT_FACING_CAMERA",)
        self.camera = CameraRecording(self.path.parent) if mono else None
        self._camera = None if self._camera_key else Camera(env.track, spec=env.world.spec)
        self._topdown = TopDownView(
            env, (WIDTH - 640, HEIGHT - HEADER), max(1.0, env.config.action_space.max_speed)
        )
        fourcc = cv2.VideoWriter.fourcc(*"mp4v")
        self._writer = cv2.VideoWriter(str(self.path), fourcc, FPS, (WIDTH, HEIGHT))
        if not self._writer.isOpened():
            raise RuntimeError(f"OpenCV could not open an mp4v video writer for {self.path}")
        self._trial = 0
        self._banner: tuple[str, RGB, int] | None = None
        self._last: VideoFrame | None = None
        self._background: UInt8Array | None = None

    # ------------------------------------------------------------------ frames
    @property
    def camera_path(self) -> Path | None:
        """The camera recording (``camera.avi`` or the ``camera/`` folder), if any."""
        return None if self.camera is None else self.camera.path

    def decision(self, obs: Any) -> None:
        """Record the observation the policy is about to decide on (mono camera models)."""
        if self.camera is not None:
            self.camera.add(np.asarray(obs, dtype=np.uint8)[0])

    def add(self, frame: VideoFrame) -> None:
        """Write the frame of one step (or of a trial's start)."""
        if frame.trial != self._trial:
            self._trial = frame.trial
            self._topdown.new_trial()
            self._banner = None
        if frame.event is not None:
            text = "OFF TRACK" if frame.event == "off_track" else "CRASH"
            pause = float(frame.info["pause_duration"])
            self._banner = (f"{text}   +{pause:g} s", RED, FPS)
        banner = None
        if self._banner is not None:
            text, color, left = self._banner
            banner = (text, color)
            self._banner = (text, color, left - 1) if left > 1 else None
        self._write(self.compose(frame, banner))
        self._last = frame

    def end_trial(self, info: dict[str, Any]) -> None:
        """Hold the trial's last picture for a second with its result."""
        if self._last is None:
            return
        status = str(info["status"])
        if status == "lap_complete":
            text = f"LAP COMPLETE   {float(info['sim_time']):.2f} s"
        else:
            text = f"{status.replace('_', ' ').upper()}   {float(info['progress']):.0f} %"
        img = self.compose(self._last, (text, STATUS_COLORS.get(status, AMBER)))
        for _ in range(HOLD_FRAMES):
            self._write(img)

    def close(self) -> None:
        """Finish the file (and the camera recording)."""
        self._writer.release()
        if self.camera is not None:
            self.camera.close()

    def _write(self, rgb: UInt8Array) -> None:
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    # ------------------------------------------------------------------ layout
    def compose(self, frame: VideoFrame, banner: tuple[str, RGB] | None = None) -> UInt8Array:
        """The full RGB frame: header, camera, numbers and top-down view."""
        if self._background is None:
            self._background = np.empty((HEIGHT, WIDTH, 3), np.uint8)
            self._background[:] = BG
            _text(self._background, self.title, (24, 42), 1.0, WHITE, 2)
        img = self._background.copy()
        info = frame.info
        _text(img, f"TRIAL {frame.trial}/{frame.trials}", (WIDTH - 24, 42), 1.0, AMBER, 2, "right")
        cam = self._camera_image(frame)
        big = cv2.resize(
            cam,
            (cam.shape[1] * CAMERA_SCALE, cam.shape[0] * CAMERA_SCALE),
            interpolation=cv2.INTER_NEAREST,
        )
        cam_rgb = np.asarray(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB), dtype=np.uint8)
        ch, cw = cam_rgb.shape[:2]
        label = "CAR CAMERA" if self._camera_key else "CAMERA (video only: not a model input)"
        (tw, _), _ = cv2.getTextSize(label, FONT, 0.65, 1)
        cv2.rectangle(cam_rgb, (0, 0), (tw + 24, 40), BG, -1)
        _text(cam_rgb, label, (12, 28), 0.65, WHITE, 1)
        if banner is not None:
            _banner(cam_rgb, banner[0], banner[1], ch // 2)
        img[HEADER : HEADER + ch, :cw] = cam_rgb
        self._numbers(img, info, HEADER + ch, cw)
        view = self._topdown.render(frame)
        img[HEADER : HEADER + view.shape[0], WIDTH - view.shape[1] :] = view
        return img

    def _numbers(self, img: UInt8Array, info: dict[str, Any], top: int, width: int) -> None:
        """Four tiles of big numbers and the status line under the camera."""
        car = self.env.world.record
        speed = 0.0 if car is None else car.car.speed
        tiles = [
            ("TIME", f"{float(info['sim_time']):.2f} s"),
            ("SPEED", f"{speed:.2f} m/s"),
            ("PROGRESS", f"{float(info['progress']):.0f} %"),
            ("OFF / CRASH", f"{int(info['off_track_count'])} / {int(info['crash_count'])}"),
        ]
        tile_w = width // len(tiles)
        for i, (label, value) in enumerate(tiles):
            x0 = i * tile_w
            cv2.rectangle(img, (x0 + 6, top + 8), (x0 + tile_w - 6, top + 112), PANEL, -1)
            _text(img, label, (x0 + tile_w // 2, top + 38), 0.6, MUTED, 1, "centre")
            _text(img, value, (x0 + tile_w // 2, top + 88), 1.05, WHITE, 2, "centre")
        status = str(info["status"])
        color = STATUS_COLORS.get(status, WHITE)
        cv2.circle(img, (24, top + 143), 9, color, -1, cv2.LINE_AA)
        _text(img, status.replace("_", " ").upper(), (44, top + 153), 0.9, color, 2)

    def _camera_image(self, frame: VideoFrame) -> UInt8Array:
        """The gray camera image: the model's own (left eye for stereo), or one rendered here."""
        if self._camera_key is not None:
            obs = frame.obs if self._single else frame.obs[self._camera_key]
            return np.ascontiguousarray(np.asarray(obs, dtype=np.uint8)[0])
        assert self._camera is not None
        world = self.env.world
        assert world.record is not None
        return self._camera.render(world.record.car, world.objects_array)
