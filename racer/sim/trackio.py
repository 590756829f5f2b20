"""Reading and writing track files (racer's own JSON format and DeepRacer's ``.npy``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.sim.track import Track


class TrackError(ValueError):
    """A track file or track geometry is invalid; the message names the file and the problem."""


def from_deepracer_array(
    arr: NDArray[np.float64],
    name: str,
    *,
    display_name: str | None = None,
    metadata: dict[str, Any] | None = None,
    source: str = "<array>",
) -> Track:
    """Convert DeepRacer's ``(N, 6)`` waypoint array into a :class:`Track`.

    Rows are ``centre_x, centre_y, inner_x, inner_y, outer_x, outer_y`` in the direction of
    travel. The inner border is on the left of a counter-clockwise loop and on the right of a
    clockwise one.

    Args:
        arr: The array.
        name: Registry name for the track.
        display_name: Human name.
        metadata: Provenance.
        source: File name used in error messages.

    Returns:
        The track, in the file's direction of travel.

    Raises:
        TrackError: If the array is not ``(N, 6)`` finite numbers with N >= 3.
    """
    a = np.asarray(arr)
    if a.ndim != 2 or a.shape[1] != 6:
        raise TrackError(f"{source}: expected an (N, 6) array of waypoints, got shape {a.shape}")
    if a.shape[0] < 3:
        raise TrackError(f"{source}: a track needs at least 3 waypoints, got {a.shape[0]}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        bad = int(np.argwhere(~np.isfinite(a))[0, 0])
        raise TrackError(f"{source}: waypoint row {bad} holds a NaN or infinite value")
    centre, inner, outer = a[:, 0:2], a[:, 2:4], a[:, 4:6]
    closed = bool(np.allclose(centre[0], centre[-1], atol=1e-6))
    probe = Track.from_arrays(name, centre, inner, outer, closed=closed)
    if probe.signed_area >= 0:
        left, right = inner, outer
    else:
        left, right = outer, inner
    return Track.from_arrays(
        name, centre, left, right, closed=closed, display_name=display_name, metadata=metadata
    )
