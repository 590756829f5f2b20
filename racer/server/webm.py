"""The browser video: the evaluator's MPEG-4 file re-encoded as VP8 WebM.

Chromium does not play MPEG-4 Part 2 in a ``<video>`` tag; OpenCV writes VP8 WebM, which
every browser plays. The evaluator's 1280x720 frames are downscaled to 960x540.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2

WEBM_FILE = "video.webm"
WEBM_SIZE = (960, 540)
"""Width and height of the browser video (the evaluator's 1280x720, downscaled)."""


class VideoError(RuntimeError):
    """OpenCV cannot read the evaluator's video or write a WebM."""


def browser_video(files: dict[str, Path], out: Path) -> None:
    """Replace the evaluator's MPEG-4 video (and camera recording) by ``video.webm``."""
    mp4 = files["video"]
    webm = out / WEBM_FILE
    transcode_webm(mp4, webm)
    mp4.unlink(missing_ok=True)
    camera = files.pop("camera", None)
    if camera is not None and camera.is_file():
        camera.unlink()
    elif camera is not None and camera.is_dir():
        shutil.rmtree(camera)
    files["video"] = webm


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Send the process's stderr (file descriptor 2, where OpenCV writes) to /dev/null."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def transcode_webm(src: Path, dest: Path, size: tuple[int, int] = WEBM_SIZE) -> int:
    """Re-encode a video as VP8 WebM (which browsers play), frame by frame with OpenCV.

    Args:
        src: Any video OpenCV reads.
        dest: The ``.webm`` file (replaced).
        size: (width, height) of the output; frames of another size are resized.

    Returns:
        Frames written.

    Raises:
        VideoError: OpenCV cannot read ``src`` or write a VP8 WebM.
    """
    capture = cv2.VideoCapture(str(src))
    if not capture.isOpened():
        raise VideoError(f"cannot read the video {src.name}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 15.0
    dest.unlink(missing_ok=True)
    with _stderr_silenced():  # OpenCV warns that VP8's tag is not WebM's, then uses the right one
        writer = cv2.VideoWriter(
            str(dest), cv2.CAP_FFMPEG, cv2.VideoWriter.fourcc(*"VP80"), fps, size
        )
    if not writer.isOpened():
        capture.release()
        raise VideoError("OpenCV cannot write a VP8 WebM video on this machine")
    frames = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if (frame.shape[1], frame.shape[0]) != size:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            writer.write(frame)
            frames += 1
    finally:
        writer.release()
        capture.release()
    return frames
