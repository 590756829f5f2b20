"""The car side: read frames, preprocess like the car, infer, map to servos. No torch here.

``racer drive`` runs an exported model (DeepRacer ``.tar.gz``, ONNX or OpenVINO IR) over a
camera, a video file or a folder of frames exactly as the physical car would, and reports its
decisions, its servo commands and its latency. Nothing here imports torch, stable-baselines3
or ``racer.train``: it installs on a car with ``pip install racer[car]``.

Example::

    from racer.drive import drive

    summary = drive("my-model.tar.gz", "out/eval/camera.avi", max_speed=50)
    print(summary.frames, summary.latency.p50, summary.actions[:10])
"""

from __future__ import annotations

from racer.drive.commands import ActionMapper, CarCommand, throttle_curve
from racer.drive.driver import LOG_COLUMNS, DriveSummary, FrameResult, LatencyStats, drive
from racer.drive.errors import DriveError, ModelError, ServoError, SourceError
from racer.drive.metadata import ModelInfo, parse_metadata
from racer.drive.model import DriveModel, load_model
from racer.drive.preprocess import car_gray, preprocess, to_input
from racer.drive.runtimes import RUNTIMES, choose_runtime
from racer.drive.servo import ServoCalibration, ServoChannel, load_servo
from racer.drive.sources import SOURCES, FramesFolder, FrameSource, open_source

__all__ = [
    "LOG_COLUMNS",
    "RUNTIMES",
    "SOURCES",
    "ActionMapper",
    "CarCommand",
    "DriveError",
    "DriveModel",
    "DriveSummary",
    "FrameResult",
    "FrameSource",
    "FramesFolder",
    "LatencyStats",
    "ModelError",
    "ModelInfo",
    "ServoCalibration",
    "ServoChannel",
    "ServoError",
    "SourceError",
    "car_gray",
    "choose_runtime",
    "drive",
    "load_model",
    "load_servo",
    "open_source",
    "parse_metadata",
    "preprocess",
    "throttle_curve",
    "to_input",
]
