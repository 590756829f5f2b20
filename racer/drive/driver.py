"""The car's loop offline: frame -> preprocess -> network -> action -> servo commands, timed.

:func:`drive` runs a model over a frame source exactly as the car would, returns a
:class:`DriveSummary` and can write one CSV row per frame (:data:`LOG_COLUMNS`).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from racer.drive.commands import ActionMapper, CarCommand
from racer.drive.errors import DriveError, SourceError
from racer.drive.model import DriveModel, load_model
from racer.drive.preprocess import preprocess
from racer.drive.servo import ServoCalibration, load_servo
from racer.drive.sources import FrameSource, open_source

LOG_COLUMNS = (
    "frame",
    "action",
    "steering_angle",
    "speed",
    "steering",
    "throttle",
    "steering_pwm",
    "throttle_pwm",
    "preprocess_ms",
    "inference_ms",
    "latency_ms",
)
"""Columns of the per-frame CSV log; ``action`` and the PWM columns are empty when unknown."""


@dataclass(frozen=True)
class FrameResult:
    """One frame's decision and timing.

    Attributes:
        index: Frame number, from 0.
        command: The action and its servo commands.
        pwm: (steering, throttle) pulse widths in microseconds, with a servo calibration.
        preprocess_ms: Resize + gray + float conversion, milliseconds.
        inference_ms: The network, milliseconds.
    """

    index: int
    command: CarCommand
    pwm: tuple[int, int] | None
    preprocess_ms: float
    inference_ms: float

    @property
    def latency_ms(self) -> float:
        """Preprocessing plus inference, milliseconds."""
        return self.preprocess_ms + self.inference_ms

    def row(self) -> list[str]:
        """The CSV row (:data:`LOG_COLUMNS`)."""
        c = self.command
        pwm = ("", "") if self.pwm is None else (str(self.pwm[0]), str(self.pwm[1]))
        return [
            str(self.index),
            "" if c.index is None else str(c.index),
            f"{c.steering_angle:.4f}",
            f"{c.speed:.4f}",
            f"{c.steering:.4f}",
            f"{c.throttle:.4f}",
            *pwm,
            f"{self.preprocess_ms:.3f}",
            f"{self.inference_ms:.3f}",
            f"{self.latency_ms:.3f}",
        ]


@dataclass(frozen=True)
class LatencyStats:
    """Percentiles of per-frame times, milliseconds."""

    p50: float
    p99: float
    mean: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> LatencyStats:
        """Stats of a list of times (zeros for an empty one)."""
        if len(samples_ms) == 0:
            return cls(0.0, 0.0, 0.0)
        a = np.asarray(samples_ms, dtype=np.float64)
        return cls(float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.mean()))


@dataclass(frozen=True)
class DriveSummary:
    """What a drive did.

    Attributes:
        model: The model path.
        format: ``deepracer``, ``onnx`` or ``openvino``.
        runtime: The runtime that ran it.
        source: The frame source.
        frames: Frames processed.
        preprocess: Preprocessing times.
        inference: Inference times.
        latency: Preprocessing plus inference.
        wall_s: Seconds from the first frame read to the last decision (reading included).
        interrupted: Stopped by Ctrl-C.
        results: Every frame's result.
    """

    model: Path
    format: str
    runtime: str
    source: str
    frames: int
    preprocess: LatencyStats
    inference: LatencyStats
    latency: LatencyStats
    wall_s: float
    interrupted: bool
    results: tuple[FrameResult, ...]

    @property
    def fps(self) -> float:
        """Frames per second over the whole run, reading the source included."""
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def actions(self) -> list[int | None]:
        """The chosen action index of every frame (None for a continuous space)."""
        return [r.command.index for r in self.results]


FrameCallback = Callable[[FrameResult], None]


def drive(
    model: str | Path | DriveModel,
    source: str | Path | FrameSource,
    *,
    max_speed: float = 50.0,
    servo: str | Path | ServoCalibration | None = None,
    runtime: str = "auto",
    max_frames: int | None = None,
    log: str | Path | None = None,
    on_frame: FrameCallback | None = None,
    threads: int | None = 1,
    precision: str = "f32",
) -> DriveSummary:
    """Drive a model over a frame source as the car would, without moving anything.

    Args:
        model: A model path (see :func:`racer.drive.model.load_model`) or a loaded model.
        source: ``camera:N``, a video file, a frames folder, or an open :class:`FrameSource`.
        max_speed: The car's maximum-speed setting, percent.
        servo: A servo calibration (or its file) to give PWM pulse widths too.
        runtime: ``auto``, ``openvino`` or ``onnxruntime`` (for a path ``model``).
        max_frames: Stop after this many frames (a camera never ends by itself).
        log: Write one CSV row per frame here (:data:`LOG_COLUMNS`).
        on_frame: Called with each frame's result as soon as it is known.
        threads: Inference threads (for a path ``model``).
        precision: OpenVINO's CPU precision (for a path ``model``).

    Returns:
        The summary, with every frame's result. Ctrl-C stops the loop and still returns one.

    Raises:
        ModelError: The model is missing, unreadable or needs more than one camera.
        SourceError: The source is missing or unreadable, or has no frames.
        ServoError: The servo file is invalid.
        DriveError: An invalid option.
    """
    if max_frames is not None and max_frames < 1:
        raise DriveError(f"max frames must be at least 1, got {max_frames}")
    calibration = load_servo(servo) if isinstance(servo, str | Path) else servo
    loaded = (
        model
        if isinstance(model, DriveModel)
        else load_model(model, runtime, threads=threads, precision=precision)
    )
    mapper = ActionMapper(loaded.info.action_space, max_speed)
    frames = open_source(source) if isinstance(source, str | Path) else source
    results: list[FrameResult] = []
    interrupted = False
    start = time.perf_counter()
    writer_file = None
    try:
        writer = None
        if log is not None:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            writer_file = open(log, "w", newline="")  # noqa: SIM115 (closed in finally)
            writer = csv.writer(writer_file)
            writer.writerow(LOG_COLUMNS)
        try:
            for frame in frames:
                result = _decide(len(results), frame, loaded, mapper, calibration)
                results.append(result)
                if writer is not None:
                    writer.writerow(result.row())
                if on_frame is not None:
                    on_frame(result)
                if max_frames is not None and len(results) >= max_frames:
                    break
        except KeyboardInterrupt:
            interrupted = True
    finally:
        wall = time.perf_counter() - start
        frames.close()
        if writer_file is not None:
            writer_file.close()
    if not results and not interrupted:
        raise SourceError(f"{frames.name}: no frames could be read")
    return DriveSummary(
        model=loaded.path,
        format=loaded.format,
        runtime=loaded.runtime.name,
        source=frames.name,
        frames=len(results),
        preprocess=LatencyStats.of([r.preprocess_ms for r in results]),
        inference=LatencyStats.of([r.inference_ms for r in results]),
        latency=LatencyStats.of([r.latency_ms for r in results]),
        wall_s=wall,
        interrupted=interrupted,
        results=tuple(results),
    )


def _decide(
    index: int,
    frame: np.ndarray,
    model: DriveModel,
    mapper: ActionMapper,
    servo: ServoCalibration | None,
) -> FrameResult:
    """One frame through the car's pipeline, timed."""
    t0 = time.perf_counter()
    x = preprocess(frame)
    t1 = time.perf_counter()
    out = model(x)
    t2 = time.perf_counter()
    command = mapper(out)
    return FrameResult(
        index=index,
        command=command,
        pwm=None if servo is None else servo.pwm(command),
        preprocess_ms=(t1 - t0) * 1000.0,
        inference_ms=(t2 - t1) * 1000.0,
    )
