"""Domain randomisation for sim-to-real transfer: what to vary, and one episode's draw.

:class:`RandomizationConfig` says how much each aspect of the camera image and of the car's
actuation may vary; every option is off (0) by default. At each reset the environment draws an
:class:`EpisodeRandomization` from a generator spawned off its seeded RNG (so the race's own
draws are unchanged and the same seed gives the same episodes); :mod:`racer.sim.perturb`
applies it to the camera frames and to the commands. ``docs/sim-to-real.md`` documents each
option and the real-world effect it stands for.

Magnitudes are drawn per episode: with ``sampling="uniform"`` (training) uniformly within
``±max`` (``0..max`` for the noise level and the latency); with ``sampling="extreme"``
(robustness tests) at ``±max`` with a random sign (exactly ``max`` for the noise level and
the latency), so every trial sees the full test strength.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from racer.sim.floor import BGR, FloorStyle

SAMPLING = ("uniform", "extreme")
"""How magnitudes are drawn: ``uniform`` within the range, ``extreme`` at its ends."""

FLOOR_MATERIALS = ("carpet", "surface", "wall", "sky")
"""The venue's materials (``floor_colors``): :class:`~racer.sim.floor.FloorStyle` fields."""
TAPE_MATERIALS = ("border", "centre")
"""The tape's materials (``tape_colors``): :class:`~racer.sim.floor.FloorStyle` fields."""

_LIMITS: dict[str, tuple[float, float]] = {
    "brightness": (0.0, 1.0),
    "contrast": (0.0, 0.95),
    "floor_colors": (0.0, 255.0),
    "tape_colors": (0.0, 255.0),
    "camera_pitch_deg": (0.0, 10.0),
    "camera_position_m": (0.0, 0.05),
    "noise": (0.0, 64.0),
    "blur_prob": (0.0, 1.0),
    "blur_sigma": (0.0, 5.0),
    "jpeg_prob": (0.0, 1.0),
    "jpeg_min_quality": (1.0, 100.0),
    "jpeg_max_quality": (1.0, 100.0),
    "steering_offset_deg": (0.0, 15.0),
    "steering_gain": (0.0, 0.9),
    "speed_gain": (0.0, 0.9),
    "latency_steps": (0.0, 5.0),
}
"""Accepted range of every numeric option (inclusive)."""


@dataclass(frozen=True)
class RandomizationConfig:
    """How much the simulated camera and car may differ from the defaults, episode by episode.

    Every option defaults to 0 (off); with all of them off the environment draws nothing and
    behaves exactly as without randomisation. Ranges are inclusive.

    Attributes:
        brightness: Exposure offset, fraction of full scale (0-1), per episode: every pixel
            gains ``b * 255`` with ``b`` in ``±brightness``. The camera's auto-exposure and the
            venue's lighting.
        contrast: Contrast change (0-0.95), per episode: pixels scale about mid-gray by a
            factor in ``1 ± contrast``. Auto-exposure, lighting, a different sensor.
        floor_colors: Gray-level shift (0-255) of each venue material - carpet, track
            surface, wall, sky - drawn independently per episode. A different venue's floor.
        tape_colors: Gray-level shift (0-255) of the border lines and of the centre line,
            drawn independently per episode. Different tape.
        camera_pitch_deg: Camera pitch offset, degrees (0-10), per episode. The camera mount's
            tolerance and the body's squat.
        camera_position_m: Camera position offset along each axis (forward, left, up), metres
            (0-0.05), per episode. The mount's tolerance.
        noise: Gaussian pixel noise: the episode's standard deviation is drawn in
            ``0..noise`` gray levels (0-64), fresh noise every frame. A cheap sensor.
        blur_prob: Chance (0-1) that a frame is blurred. Motion blur, focus.
        blur_sigma: Largest Gaussian blur sigma, pixels (0-5); each blurred frame draws its
            sigma in ``0..blur_sigma``.
        jpeg_prob: Chance (0-1) that a frame goes through JPEG compression. The car's MJPEG
            camera stream.
        jpeg_min_quality: Lowest JPEG quality (1-100) a compressed frame draws.
        jpeg_max_quality: Highest JPEG quality (1-100).
        steering_offset_deg: Steering trim error, degrees (0-15), per episode: the wheels turn
            by the command plus an offset in ``±steering_offset_deg``. Servo calibration.
        steering_gain: Steering gain error (0-0.9), per episode: the wheels turn by the command
            times a factor in ``1 ± steering_gain``. Servo linkage and calibration.
        speed_gain: Speed gain error (0-0.9), per episode: the car runs at the commanded speed
            times a factor in ``1 ± speed_gain``. Battery charge, motor and ESC differences.
        latency_steps: Action latency, control steps (0-5), per episode: commands reach the
            car ``k`` steps late with ``k`` in ``0..latency_steps`` (at 15 Hz one step is 67
            ms). The car's inference and actuation delay.
        sampling: ``uniform`` (training: magnitudes within their ranges) or ``extreme``
            (robustness tests: at the ends of the ranges, random sign).
    """

    brightness: float = 0.0
    contrast: float = 0.0
    floor_colors: float = 0.0
    tape_colors: float = 0.0
    camera_pitch_deg: float = 0.0
    camera_position_m: float = 0.0
    noise: float = 0.0
    blur_prob: float = 0.0
    blur_sigma: float = 0.0
    jpeg_prob: float = 0.0
    jpeg_min_quality: int = 40
    jpeg_max_quality: int = 90
    steering_offset_deg: float = 0.0
    steering_gain: float = 0.0
    speed_gain: float = 0.0
    latency_steps: int = 0
    sampling: str = "uniform"

    def __post_init__(self) -> None:
        for name, (low, high) in _LIMITS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name} must be within {low:g}-{high:g}, got {value}")
        if self.jpeg_min_quality > self.jpeg_max_quality:
            raise ValueError("jpeg_min_quality must not exceed jpeg_max_quality")
        if self.sampling not in SAMPLING:
            close = difflib.get_close_matches(str(self.sampling), SAMPLING, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"sampling must be one of {SAMPLING}, got {self.sampling!r}{hint}")

    # ------------------------------------------------------------------ presets
    @classmethod
    def sim2real(cls, strength: float = 1.0) -> RandomizationConfig:
        """The recommended randomisation for a model that will drive a real car.

        Args:
            strength: Multiplies every magnitude and probability (probabilities are capped at
                1, the latency is rounded): 0 is off, 1 the recommended setting, 2 twice as
                much.

        Returns:
            The configuration (see ``docs/sim-to-real.md`` for the values).
        """
        if strength < 0:
            raise ValueError(f"strength must not be negative, got {strength}")
        s = float(strength)
        return cls(
            brightness=min(1.0, 0.15 * s),
            contrast=min(0.95, 0.25 * s),
            floor_colors=min(255.0, 30.0 * s),
            tape_colors=min(255.0, 25.0 * s),
            camera_pitch_deg=min(10.0, 2.0 * s),
            camera_position_m=min(0.05, 0.01 * s),
            noise=min(64.0, 4.0 * s),
            blur_prob=min(1.0, 0.2 * s),
            blur_sigma=min(5.0, 1.0 * s),
            jpeg_prob=min(1.0, 0.3 * s),
            steering_offset_deg=min(15.0, 2.0 * s),
            steering_gain=min(0.9, 0.1 * s),
            speed_gain=min(0.9, 0.15 * s),
            latency_steps=min(5, round(1.0 * s)),
        )

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], base: RandomizationConfig | None = None
    ) -> RandomizationConfig:
        """Build from YAML or command-line settings.

        Besides the fields, ``preset`` (``sim2real`` or ``off``) starts from a preset,
        scaled by ``strength`` (default 1); the other keys then override it.

        Args:
            data: Settings by name (values may be strings, as on the command line).
            base: What unset fields keep (default: everything off); a preset replaces it.

        Raises:
            ValueError: An unknown key (with a suggestion) or an invalid value.
        """
        settings = dict(data)
        preset = settings.pop("preset", None)
        strength = settings.pop("strength", None)
        if preset is not None:
            config = preset_config(str(preset), 1.0 if strength is None else float(strength))
        elif strength is not None:
            raise ValueError("strength scales a preset: give preset=sim2real with it")
        else:
            config = base if base is not None else cls()
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in settings.items():
            if key not in fields:
                known = [*fields, "preset", "strength"]
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown setting {key!r}{hint}")
            values[key] = _typed(key, type(getattr(config, key)), value)
        return dataclasses.replace(config, **values)

    # ------------------------------------------------------------------ views
    def to_dict(self) -> dict[str, Any]:
        """A YAML/JSON-ready mapping of every field."""
        return dataclasses.asdict(self)

    def changes(self) -> dict[str, Any]:
        """The settings that differ from the defaults (for summaries)."""
        default = RandomizationConfig()
        return {k: v for k, v in self.to_dict().items() if getattr(default, k) != v}

    @property
    def image_enabled(self) -> bool:
        """Some camera-image option is on."""
        return bool(
            self.brightness
            or self.contrast
            or self.floor_colors
            or self.tape_colors
            or self.camera_pitch_deg
            or self.camera_position_m
            or self.noise
            or (self.blur_prob and self.blur_sigma)
            or self.jpeg_prob
        )

    @property
    def action_enabled(self) -> bool:
        """Some actuation option is on."""
        return bool(
            self.steering_offset_deg or self.steering_gain or self.speed_gain or self.latency_steps
        )

    @property
    def enabled(self) -> bool:
        """Any option is on (when none is, the environment draws nothing)."""
        return self.image_enabled or self.action_enabled

    def draw(self, rng: np.random.Generator) -> EpisodeRandomization:
        """Draw one episode's values (always the same number of draws, in the same order).

        Args:
            rng: The episode's generator.

        Returns:
            The episode's values; disabled options give neutral ones (0 offsets, gains of 1).
        """
        sym = self._symmetric(rng)
        brightness, contrast = sym(self.brightness), 1.0 + sym(self.contrast)
        shifts = [(m, sym(self.floor_colors)) for m in FLOOR_MATERIALS]
        shifts += [(m, sym(self.tape_colors)) for m in TAPE_MATERIALS]
        return EpisodeRandomization(
            brightness=brightness,
            contrast=contrast,
            color_shifts=tuple(shifts),
            camera_pitch_deg=sym(self.camera_pitch_deg),
            camera_offset=(
                sym(self.camera_position_m),
                sym(self.camera_position_m),
                sym(self.camera_position_m),
            ),
            noise=self._level(rng, self.noise),
            blur_prob=self.blur_prob if self.blur_sigma else 0.0,
            blur_sigma=self.blur_sigma,
            jpeg_prob=self.jpeg_prob,
            jpeg_quality=(self.jpeg_min_quality, self.jpeg_max_quality),
            steering_offset_deg=sym(self.steering_offset_deg),
            steering_gain=1.0 + sym(self.steering_gain),
            speed_gain=1.0 + sym(self.speed_gain),
            latency_steps=self._steps(rng),
            extreme=self.sampling == "extreme",
        )

    def _symmetric(self, rng: np.random.Generator) -> Callable[[float], float]:
        """A drawer of values in ``±m`` (uniform, or the ends with a random sign)."""
        extreme = self.sampling == "extreme"

        def draw(m: float) -> float:
            u = float(rng.uniform(-1.0, 1.0))
            return float(m * (np.sign(u) or 1.0) if extreme else m * u)

        return draw

    def _level(self, rng: np.random.Generator, m: float) -> float:
        u = float(rng.uniform(0.0, 1.0))
        return float(m if self.sampling == "extreme" else m * u)

    def _steps(self, rng: np.random.Generator) -> int:
        k = int(rng.integers(0, self.latency_steps + 1))
        return self.latency_steps if self.sampling == "extreme" else k


@dataclass(frozen=True)
class EpisodeRandomization:
    """One episode's randomisation, drawn by :meth:`RandomizationConfig.draw`.

    Attributes:
        brightness: Offset, fraction of full scale.
        contrast: Factor about mid-gray (1 = unchanged).
        color_shifts: (material, gray-level shift) for carpet, surface, wall, sky, border
            and centre.
        camera_pitch_deg: Pitch offset, degrees (positive = further down).
        camera_offset: (forward, left, up) lens offset, metres.
        noise: Pixel noise standard deviation, gray levels.
        blur_prob: Chance a frame is blurred.
        blur_sigma: Largest blur sigma, pixels.
        jpeg_prob: Chance a frame is JPEG-compressed.
        jpeg_quality: (lowest, highest) JPEG quality.
        steering_offset_deg: Added to the commanded steering, degrees.
        steering_gain: Multiplies the commanded steering.
        speed_gain: Multiplies the commanded speed.
        latency_steps: Commands reach the car this many steps late.
        extreme: Per-frame draws take the ends of their ranges (largest sigma, lowest quality).
    """

    brightness: float = 0.0
    contrast: float = 1.0
    color_shifts: tuple[tuple[str, float], ...] = ()
    camera_pitch_deg: float = 0.0
    camera_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    noise: float = 0.0
    blur_prob: float = 0.0
    blur_sigma: float = 0.0
    jpeg_prob: float = 0.0
    jpeg_quality: tuple[int, int] = (40, 90)
    steering_offset_deg: float = 0.0
    steering_gain: float = 1.0
    speed_gain: float = 1.0
    latency_steps: int = 0
    extreme: bool = False

    @property
    def recolors(self) -> bool:
        """Some material changes colour."""
        return any(shift for _, shift in self.color_shifts)

    @property
    def moves_camera(self) -> bool:
        """The camera's pose differs from its mount's."""
        return bool(self.camera_pitch_deg or any(self.camera_offset))

    @property
    def frame_effects(self) -> bool:
        """Some per-frame image effect is on (exposure, noise, blur, JPEG)."""
        return bool(
            self.brightness
            or self.contrast != 1.0
            or self.noise
            or (self.blur_prob and self.blur_sigma)
            or self.jpeg_prob
        )

    @property
    def actuation(self) -> bool:
        """The car's actuation differs from the commands."""
        return bool(
            self.steering_offset_deg
            or self.steering_gain != 1.0
            or self.speed_gain != 1.0
            or self.latency_steps
        )

    def style(self, base: FloorStyle) -> FloorStyle:
        """``base`` with every material's colour shifted by its gray-level shift.

        Adding the same value to the three channels shifts the gray level (OpenCV's weights
        sum to 1) by that value, short of clipping.
        """
        d = dict(self.color_shifts)
        return dataclasses.replace(
            base,
            carpet=_shift(base.carpet, d.get("carpet", 0.0)),
            surface=_shift(base.surface, d.get("surface", 0.0)),
            border=_shift(base.border, d.get("border", 0.0)),
            centre=_shift(base.centre, d.get("centre", 0.0)),
            wall=_shift(base.wall, d.get("wall", 0.0)),
            sky=_shift(base.sky, d.get("sky", 0.0)),
        )


def preset_config(name: str, strength: float = 1.0) -> RandomizationConfig:
    """A preset by name: ``sim2real`` (scaled by ``strength``) or ``off``.

    Raises:
        ValueError: An unknown name, with a suggestion.
    """
    presets = {"sim2real": RandomizationConfig.sim2real, "off": lambda s: RandomizationConfig()}
    key = name.strip().lower().replace("-", "").replace("_", "")
    key = {"sim2real": "sim2real", "off": "off", "none": "off"}.get(key, key)
    if key not in presets:
        close = difflib.get_close_matches(name, list(presets), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown randomization preset {name!r}{hint} (known: sim2real, off)")
    return presets[key](strength)


def _shift(color: BGR, delta: float) -> BGR:
    b, g, r = (min(255, max(0, round(c + delta))) for c in color)
    return (b, g, r)


def _typed(key: str, kind: type, value: Any) -> Any:
    """A setting's value as its field's type (command-line values arrive as strings)."""
    try:
        if kind is int:
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        if kind is float:
            return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a {kind.__name__}, got {value!r}") from None
    return str(value)
