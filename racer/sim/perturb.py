"""Applying an episode's randomisation: per-frame image effects and the car's actuation.

:class:`FrameEffects` post-processes camera frames in the order a real camera makes them:
blur (optics, motion), exposure (brightness and contrast, one lookup table per episode),
sensor noise, JPEG compression. :class:`Actuation` turns commands into what the car does:
``k`` steps late, with the servo's trim and gain and the drive's speed gain.
Both draw only from the episode's generator, so the same seed gives the same frames.
"""

from __future__ import annotations

import math
from collections import deque

import cv2
import numpy as np
from numpy.typing import NDArray

from racer.sim.randomize import EpisodeRandomization

UInt8Array = NDArray[np.uint8]

_MIN_SIGMA = 0.05
"""Blur sigmas below this leave the frame unchanged (and are skipped)."""


def exposure_lut(brightness: float, contrast: float) -> UInt8Array:
    """The 256-entry table of ``clip((v - 127.5) * contrast + 127.5 + brightness * 255)``."""
    levels = np.arange(256, dtype=np.float64)
    out = (levels - 127.5) * contrast + 127.5 + brightness * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class FrameEffects:
    """One episode's per-frame image effects.

    Args:
        episode: The episode's draw.
        rng: The episode's generator (blur, JPEG and noise draws, frame by frame).
    """

    def __init__(self, episode: EpisodeRandomization, rng: np.random.Generator) -> None:
        self.episode = episode
        self.rng = rng
        exposure = episode.brightness != 0.0 or episode.contrast != 1.0
        self.lut = exposure_lut(episode.brightness, episode.contrast) if exposure else None
        self._noise: NDArray[np.float32] | None = None

    def __call__(self, image: UInt8Array) -> UInt8Array:
        """Apply the effects to an ``(H, W)`` frame or to each eye of ``(E, H, W)``."""
        if image.ndim == 3:
            return np.stack([self._frame(eye) for eye in image])
        return self._frame(image)

    def _frame(self, img: UInt8Array) -> UInt8Array:
        ep, rng = self.episode, self.rng
        if ep.blur_prob and rng.random() < ep.blur_prob:
            sigma = ep.blur_sigma if ep.extreme else float(rng.uniform(0.0, ep.blur_sigma))
            if sigma >= _MIN_SIGMA:
                img = gaussian_blur(img, sigma)
        if self.lut is not None:
            img = np.asarray(cv2.LUT(img, self.lut), dtype=np.uint8)
        if ep.noise > 0.0:
            img = self._add_noise(img)
        if ep.jpeg_prob and rng.random() < ep.jpeg_prob:
            low, high = ep.jpeg_quality
            quality = low if ep.extreme else int(rng.integers(low, high + 1))
            img = jpeg_roundtrip(img, quality)
        return np.asarray(img, dtype=np.uint8)

    def _add_noise(self, img: UInt8Array) -> UInt8Array:
        """Add Gaussian noise: a random window of the episode's noise bank.

        The bank holds twice a frame's worth of Gaussian values, drawn once per episode
        with OpenCV's generator (seeded from the episode's generator); each frame reads it
        from a random offset, so consecutive frames get unrelated noise at every pixel at a
        tenth of the cost of drawing new values.
        """
        size = img.size
        if self._noise is None or len(self._noise) < 2 * size:
            cv2.setRNGSeed(int(self.rng.integers(2**31)))
            self._noise = np.empty(2 * size, np.float32)
            cv2.randn(self._noise, np.zeros(1), np.full(1, self.episode.noise))
        start = int(self.rng.integers(0, size + 1))
        noise = self._noise[start : start + size].reshape(img.shape)
        return np.asarray(cv2.add(img, noise, dtype=cv2.CV_8U), dtype=np.uint8)


def gaussian_blur(img: UInt8Array, sigma: float) -> UInt8Array:
    """Gaussian blur, kernel of ``2 * ceil(3 sigma) + 1`` taps (separable; as ``GaussianBlur``)."""
    kernel = cv2.getGaussianKernel(2 * math.ceil(3.0 * sigma) + 1, sigma)
    return np.asarray(cv2.sepFilter2D(img, -1, kernel, kernel), dtype=np.uint8)


def jpeg_roundtrip(img: UInt8Array, quality: int) -> UInt8Array:
    """Encode a gray frame as JPEG at ``quality`` (1-100) and decode it again."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 gray image
        return img
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


class Actuation:
    """Commands as the car carries them out, for one episode.

    The car receives each command ``latency_steps`` control steps late (until then it holds
    straight wheels at rest: 0 degrees, 0 m/s, which the world clips to the car's lowest
    speed), with steering ``command * steering_gain + steering_offset_deg`` and speed
    ``command * speed_gain``.

    Args:
        episode: The episode's draw.
    """

    def __init__(self, episode: EpisodeRandomization) -> None:
        self.steering_offset_deg = episode.steering_offset_deg
        self.steering_gain = episode.steering_gain
        self.speed_gain = episode.speed_gain
        self.latency_steps = episode.latency_steps
        self._queue: deque[tuple[float, float]] = deque([(0.0, 0.0)] * episode.latency_steps)

    def __call__(self, steering_deg: float, speed: float) -> tuple[float, float]:
        """Take this step's command; return (steering degrees, speed) the car applies now."""
        self._queue.append((steering_deg, speed))
        steer, v = self._queue.popleft()
        return steer * self.steering_gain + self.steering_offset_deg, v * self.speed_gain
