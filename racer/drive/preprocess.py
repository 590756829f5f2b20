"""The car's image pipeline, step for step: BGR frame -> 160x120 -> gray -> float32 NHWC.

The DeepRacer car captures 640x480 BGR frames, shrinks them with OpenCV's default (bilinear)
``cv2.resize`` to 160x120, converts them with ``cv2.COLOR_BGR2GRAY`` and feeds the raw 0-255
values as float32 in NHWC layout ``[1, 120, 160, 1]``; the division by 255 is inside the
network. A frame that is already 160x120 passes the resize unchanged (OpenCV copies it), and a
gray frame written as BGR (three equal channels) converts back to the same gray exactly, so
camera frames recorded by ``racer evaluate --video`` replay bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

WIDTH, HEIGHT = 160, 120
"""The network's image size, pixels."""

UInt8Array = NDArray[np.uint8]
FloatArray = NDArray[np.float32]


def car_gray(frame: UInt8Array) -> UInt8Array:
    """The car's gray 160x120 image of a camera frame.

    Args:
        frame: An 8-bit frame as OpenCV reads it: BGR ``(H, W, 3)``, BGRA ``(H, W, 4)`` or
            gray ``(H, W)``.

    Returns:
        ``(120, 160)`` uint8.

    Raises:
        ValueError: The frame is not an 8-bit image of 1, 3 or 4 channels.
    """
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(f"expected an 8-bit image, got {frame.dtype} of shape {frame.shape}")
    small = cv2.resize(frame, (WIDTH, HEIGHT))  # INTER_LINEAR, the car's default
    if small.ndim == 2:
        return np.asarray(small, dtype=np.uint8)
    channels = small.shape[2]
    if channels == 1:
        return np.ascontiguousarray(small[:, :, 0])
    codes = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}
    if channels not in codes:
        raise ValueError(f"expected 1, 3 or 4 channels, got {channels}")
    return np.asarray(cv2.cvtColor(small, codes[channels]), dtype=np.uint8)


def to_input(gray: UInt8Array) -> FloatArray:
    """The network input of a gray image: float32 ``[1, 120, 160, 1]``, raw 0-255 values."""
    return np.asarray(gray, dtype=np.float32).reshape(1, HEIGHT, WIDTH, 1)


def preprocess(frame: UInt8Array) -> FloatArray:
    """A camera frame as the car feeds it to its network: :func:`car_gray`, :func:`to_input`."""
    return to_input(car_gray(frame))
