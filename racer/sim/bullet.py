"""pybullet, imported without the build-time banner it prints."""

from __future__ import annotations

import ctypes
import os
import sys
from types import ModuleType


def _import_quietly() -> ModuleType:
    """Import pybullet with standard output and error at /dev/null, flushing C's buffers."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in saved:
            os.dup2(devnull, fd)
        import pybullet

        ctypes.CDLL(None).fflush(None)
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
    return pybullet


pb = _import_quietly()


def connect_direct() -> int:
    """A new pybullet client in ``DIRECT`` mode (no window, no server).

    Returns:
        The physics client id.
    """
    return int(pb.connect(pb.DIRECT))


__all__ = ["connect_direct", "pb"]
