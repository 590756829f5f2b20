"""The errors ``racer drive`` reports to its user as one line (no traceback)."""

from __future__ import annotations


class DriveError(Exception):
    """A problem with what the user gave ``racer drive``: a model, a source, an option."""


class ModelError(DriveError):
    """The model file is missing, unreadable, or not one the car could drive with one camera."""


class SourceError(DriveError):
    """The frame source (camera, video file or frames folder) is missing or unreadable."""


class ServoError(DriveError):
    """The servo calibration file is missing or invalid."""
