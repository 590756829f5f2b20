"""Where frames come from: a camera, a video file or a folder of images, by one spec string.

========================  =======================================================
spec                      source
========================  =======================================================
``camera:0``              ``cv2.VideoCapture(0)`` at 640x480, as the car captures
``video:PATH`` / ``PATH`` a video file (any file OpenCV can decode)
``frames:DIR`` / ``DIR``  the ``.png``/``.jpg``/``.jpeg``/``.bmp`` images of a folder,
                          sorted by file name
========================  =======================================================

Every source yields 8-bit BGR frames (``(H, W, 3)``) in order. A camera has no end: stop it
with ``max_frames`` or Ctrl-C.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from racer.drive.errors import SourceError

UInt8Array = NDArray[np.uint8]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
CAPTURE_SIZE = (640, 480)
"""The car's capture size (width, height); a camera is asked for it."""


class FrameSource(Protocol):
    """An ordered stream of BGR frames."""

    name: str

    def __iter__(self) -> Iterator[UInt8Array]:
        """The frames, in order."""
        ...

    def close(self) -> None:
        """Release the device or file."""
        ...


class _CaptureSource:
    """Frames from an OpenCV ``VideoCapture`` (a camera or a video file)."""

    def __init__(self, name: str, capture: cv2.VideoCapture) -> None:
        self.name = name
        self._capture = capture

    def __iter__(self) -> Iterator[UInt8Array]:
        while True:
            ok, frame = self._capture.read()
            if not ok or frame is None:
                return
            yield np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        self._capture.release()


def _quietly(open_capture: Callable[[], cv2.VideoCapture]) -> cv2.VideoCapture:
    """Open a capture with OpenCV's warnings off (a missing camera is reported by us, once)."""
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    if log is None:
        return open_capture()
    level = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_ERROR)
    try:
        return open_capture()
    finally:
        log.setLogLevel(level)


def camera_source(arg: str) -> FrameSource:
    """A camera by its OpenCV index (``camera:0``).

    Raises:
        SourceError: Not an index, or the camera cannot be opened.
    """
    try:
        index = int(arg or "0")
    except ValueError:
        raise SourceError(f"camera:{arg}: a camera is camera:N with N a number") from None
    capture = _quietly(lambda: cv2.VideoCapture(index))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"camera:{index}: the camera cannot be opened (is it connected?)")
    capture.set(cv2.CAP_PROP_FRAME_WIDTH, CAPTURE_SIZE[0])
    capture.set(cv2.CAP_PROP_FRAME_HEIGHT, CAPTURE_SIZE[1])
    return _CaptureSource(f"camera:{index}", capture)


def video_source(arg: str) -> FrameSource:
    """A video file.

    Raises:
        SourceError: No such file, or OpenCV cannot decode it.
    """
    path = Path(arg)
    if not path.is_file():
        raise SourceError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"{path}: OpenCV cannot read this video")
    return _CaptureSource(str(path), capture)


class FramesFolder:
    """The images of a folder, sorted by file name (zero-padded numbers keep their order).

    Args:
        path: The folder.

    Raises:
        SourceError: No such folder, or no images in it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"{self.path}: no such folder")
        self.files = sorted(
            (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: p.name,
        )
        if not self.files:
            raise SourceError(f"{self.path}: no {'/'.join(IMAGE_SUFFIXES)} images in this folder")
        self.name = str(self.path)

    def __iter__(self) -> Iterator[UInt8Array]:
        for file in self.files:
            frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if frame is None:
                raise SourceError(f"{file}: not a readable image")
            yield np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        """Nothing to release."""


SOURCES: dict[str, Callable[[str], FrameSource]] = {
    "camera": camera_source,
    "video": video_source,
    "frames": FramesFolder,
}
"""Source kinds by the prefix of a spec (``camera:0``, ``video:run.avi``, ``frames:dir``)."""


def open_source(spec: str | Path) -> FrameSource:
    """Open a frame source from its spec (see the module docstring).

    A path with no prefix is a frames folder when it is a folder, else a video file.

    Raises:
        SourceError: An unknown kind (with a "did you mean"), a missing path, an unreadable file.
    """
    text = str(spec)
    kind, sep, rest = text.partition(":")
    if sep and kind in SOURCES:
        return SOURCES[kind](rest)
    if text == "camera":
        return camera_source("0")
    path = Path(text)
    if path.is_dir():
        return FramesFolder(path)
    if path.is_file():
        return video_source(text)
    if sep and len(kind) > 1 and kind.isidentifier():
        close = difflib.get_close_matches(kind, list(SOURCES), n=1)
        hint = f" (did you mean {close[0]}:{rest}?)" if close else ""
        known = ", ".join(SOURCES)
        raise SourceError(f"{text}: unknown source kind {kind!r}{hint}; known: {known}")
    raise SourceError(
        f"{text}: no such file or folder (a source is camera:N, a video file or a folder of images)"
    )
