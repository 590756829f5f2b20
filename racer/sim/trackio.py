"""Reading and writing track files (racer's own JSON format and DeepRacer's ``.npy``).

The JSON format is specified in ``docs/track-format.md``. Every loaded track is validated with
:func:`validate_track`; errors are :class:`TrackError` whose message starts with the file name.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from racer.sim.track import Track
from racer.sim.trackcheck import TrackError, validate_track

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TrackError",
    "from_deepracer_array",
    "load_track",
    "save_track",
    "track_from_dict",
    "track_to_dict",
    "validate_track",
]

FORMAT_NAME = "racer-track"
FORMAT_VERSION = 1
#: Digits kept after the decimal point when saving (0.1 micrometre).
SAVE_DECIMALS = 7

_REQUIRED_KEYS = ("format", "version", "name", "centerline")
_OPTIONAL_KEYS = ("display_name", "closed", "width", "left_border", "right_border", "metadata")
_ALL_KEYS = _REQUIRED_KEYS + _OPTIONAL_KEYS


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
    clockwise one. Borders are kept as they are, also where the centre is not midway.

    Args:
        arr: The array.
        name: Registry name for the track.
        display_name: Human name.
        metadata: Provenance.
        source: File name used in error messages.

    Returns:
        The track, in the file's direction of travel (not yet validated).

    Raises:
        TrackError: If the array is not ``(N, 6)`` finite numbers with N >= 3.
    """
    a = np.asarray(arr)
    if a.ndim != 2 or a.shape[1] != 6:
        raise TrackError(f"{source}: expected an (N, 6) array of waypoints, got shape {a.shape}")
    if a.shape[0] < 3:
        raise TrackError(f"{source}: a track needs at least 3 waypoints, got {a.shape[0]}")
    try:
        a = a.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TrackError(f"{source}: waypoints are not numbers ({exc})") from None
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


# ---------------------------------------------------------------------- loading
def load_track(path: str | Path, *, name: str | None = None) -> Track:
    """Read and validate a track file: racer JSON (``.json``) or DeepRacer (``.npy``).

    Args:
        path: The file.
        name: Registry name to give the track; defaults to the file's ``name`` key (JSON) or the
            file name without suffix (``.npy``).

    Returns:
        The validated track.

    Raises:
        TrackError: If the file is missing, unreadable, malformed or describes an invalid track;
            the message names the file and the problem.
    """
    p = Path(path)
    loader = _LOADERS.get(p.suffix.lower())
    if loader is None:
        raise TrackError(
            f"{p}: unknown track file type {p.suffix!r}; expected one of {sorted(_LOADERS)}"
        )
    if not p.is_file():
        raise TrackError(f"{p}: no such track file")
    track = loader(p, name)
    validate_track(track, str(p))
    return track


def _load_json(path: Path, name: str | None) -> Track:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TrackError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrackError(f"{path}: cannot read the file ({exc})") from None
    return track_from_dict(data, source=str(path), name=name)


def _load_npy(path: Path, name: str | None) -> Track:
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise TrackError(f"{path}: not a readable NumPy array file ({exc})") from None
    stem = name or path.stem
    meta = {"source": f"DeepRacer waypoint file {path.name}"}
    return from_deepracer_array(arr, stem, display_name=stem, metadata=meta, source=str(path))


_LOADERS = {".json": _load_json, ".npy": _load_npy}


def track_from_dict(data: Any, *, source: str = "<dict>", name: str | None = None) -> Track:
    """Build a track from the parsed JSON of a racer track file (without validating it).

    Args:
        data: The parsed JSON document.
        source: File name used in error messages.
        name: Registry name overriding the document's ``name``.

    Returns:
        The track.

    Raises:
        TrackError: On a wrong format marker or version, unknown or missing keys, or values of
            the wrong type or shape.
    """
    if not isinstance(data, dict):
        raise TrackError(f"{source}: the top level must be a JSON object, got {_kind(data)}")
    _check_keys(data, source)
    if data["format"] != FORMAT_NAME:
        raise TrackError(f"{source}: 'format' must be {FORMAT_NAME!r}, got {data['format']!r}")
    if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
        raise TrackError(
            f"{source}: unsupported 'version' {data['version']!r}; this racer reads version "
            f"{FORMAT_VERSION}"
        )
    track_name = _string(data, "name", source)
    display = _string(data, "display_name", source) if "display_name" in data else track_name
    closed = data.get("closed", True)
    if not isinstance(closed, bool):
        raise TrackError(f"{source}: 'closed' must be true or false, got {closed!r}")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise TrackError(f"{source}: 'metadata' must be a JSON object, got {_kind(metadata)}")
    centre = _points(data, "centerline", source)
    if "width" in data:
        width = _width(data["width"], len(centre), source)
        return Track.from_centreline(
            name or track_name,
            centre,
            width,
            closed=closed,
            display_name=display,
            metadata=metadata,
        )
    left = _points(data, "left_border", source)
    right = _points(data, "right_border", source)
    for key, arr in (("left_border", left), ("right_border", right)):
        if len(arr) != len(centre):
            raise TrackError(
                f"{source}: '{key}' has {len(arr)} points but 'centerline' has {len(centre)}"
            )
    return Track.from_arrays(
        name or track_name,
        centre,
        left,
        right,
        closed=closed,
        display_name=display,
        metadata=metadata,
    )


def _check_keys(data: dict[str, Any], source: str) -> None:
    for key in data:
        if key not in _ALL_KEYS:
            close = difflib.get_close_matches(str(key), _ALL_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {list(_ALL_KEYS)}"
            raise TrackError(f"{source}: unknown key {key!r}{hint}")
    for key in _REQUIRED_KEYS:
        if key not in data:
            raise TrackError(f"{source}: missing required key {key!r}")
    has_width = "width" in data
    borders = [k for k in ("left_border", "right_border") if k in data]
    if has_width and borders:
        raise TrackError(f"{source}: give either 'width' or 'left_border'/'right_border', not both")
    if not has_width and len(borders) != 2:
        raise TrackError(
            f"{source}: give 'width' or both 'left_border' and 'right_border' "
            f"(found only {borders or 'neither'})"
        )


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), repr(value))


def _string(data: dict[str, Any], key: str, source: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise TrackError(f"{source}: {key!r} must be a non-empty string, got {value!r}")
    return value


def _points(data: dict[str, Any], key: str, source: str) -> NDArray[np.float64]:
    raw = data[key]
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise TrackError(f"{source}: {key!r} must be a list of [x, y] number pairs") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise TrackError(
            f"{source}: {key!r} must be a list of [x, y] number pairs, got shape {arr.shape}"
        )
    if len(arr) < 3:
        raise TrackError(f"{source}: {key!r} needs at least 3 points, got {len(arr)}")
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        raise TrackError(f"{source}: {key!r} point {int(bad[0, 0])} is not a finite number")
    return arr


def _width(raw: Any, n: int, source: str) -> float | NDArray[np.float64]:
    if isinstance(raw, bool):
        raise TrackError(f"{source}: 'width' must be a number or a list of numbers")
    if isinstance(raw, int | float):
        if not math.isfinite(raw) or raw <= 0:
            raise TrackError(f"{source}: 'width' must be a positive finite number, got {raw}")
        return float(raw)
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise TrackError(f"{source}: 'width' must be a number or a list of numbers") from None
    if arr.shape not in ((n,), (n + 1,)):
        raise TrackError(
            f"{source}: 'width' list has shape {arr.shape}; it needs one number per centre point "
            f"({n})"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        i = int(np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))[0])
        raise TrackError(f"{source}: 'width' at point {i} must be a positive finite number")
    return arr


# ---------------------------------------------------------------------- saving
def track_to_dict(track: Track) -> dict[str, Any]:
    """The JSON document for a track, with explicit borders (lossless to 0.1 micrometre)."""

    def pts(arr: NDArray[np.float64]) -> list[list[float]]:
        rounded: list[list[float]] = np.round(arr, SAVE_DECIMALS).tolist()
        return rounded

    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": track.name,
        "display_name": track.display_name,
        "closed": track.closed,
        "centerline": pts(track.centre),
        "left_border": pts(track.left),
        "right_border": pts(track.right),
        "metadata": dict(track.metadata),
    }


def save_track(track: Track, path: str | Path) -> Path:
    """Write a track as racer JSON (after validating it), creating parent folders.

    Args:
        track: The track.
        path: Destination ``.json`` file.

    Returns:
        The path written.

    Raises:
        TrackError: If the track is invalid or the path does not end in ``.json``.
    """
    p = Path(path)
    if p.suffix.lower() != ".json":
        raise TrackError(f"{p}: racer track files end in .json")
    validate_track(track, str(p))
    p.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(track_to_dict(track), indent=1, allow_nan=False)
    p.write_text(_compact_points(text) + "\n", encoding="utf-8")
    return p


def _compact_points(text: str) -> str:
    """Put each ``[x, y]`` pair of an indented JSON dump on one line."""
    import re

    return re.sub(
        r"\[\s*(-?[\d.eE+-]+),\s*(-?[\d.eE+-]+)\s*\]",
        lambda m: f"[{m.group(1)}, {m.group(2)}]",
        text,
    )
