"""Find tracks by name: built-in files, the user's own files, files by path, generated tracks.

Names resolve in this order:

1. ``NAME:reverse`` — the track ``NAME`` driven the other way (:meth:`Track.reversed`).
2. ``generated:SEED`` or ``generated:SEED:width=0.9:min_radius=0.6:length=25`` — a track made
   by :func:`racer.sim.trackgen.generate_track`.
3. A path to a ``.json`` or ``.npy`` file.
4. A built-in track (``tracks/`` in a source checkout, ``racer/_data/tracks`` when installed).
5. A user track, ``$RACER_HOME/tracks/NAME.json`` (``RACER_HOME`` defaults to ``~/.racer``).

Built-in names win over user names. Loaded tracks are cached (tracks are immutable); a file's
cache entry is keyed by its modification time, so an edited file is read again.
"""

from __future__ import annotations

import difflib
import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import racer
from racer.sim.track import Track
from racer.sim.trackio import TrackError, from_deepracer_array, load_track, save_track

log = logging.getLogger(__name__)

REVERSE_SUFFIX = ":reverse"
GENERATED_PREFIX = "generated:"
TRACK_SUFFIXES = (".json", ".npy")


@dataclass(frozen=True)
class TrackInfo:
    """A summary line about one track.

    Attributes:
        name: Name to pass to :func:`get_track`.
        display_name: Human name.
        length: Centre-line length, metres.
        min_width: Narrowest border-to-border width, metres.
        max_width: Widest border-to-border width, metres.
        direction: ``"counterclockwise"`` or ``"clockwise"``.
        source: ``"builtin"``, ``"user"``, ``"file"`` or ``"generated"``.
        path: The file it was read from, if any.
    """

    name: str
    display_name: str
    length: float
    min_width: float
    max_width: float
    direction: str
    source: str
    path: Path | None = None


# ---------------------------------------------------------------------- folders
def builtin_tracks_dir() -> Path:
    """The folder of built-in track files (installed package data, else the source checkout)."""
    package = Path(racer.__file__).resolve().parent
    for candidate in (package / "_data" / "tracks", package.parent / "tracks"):
        if candidate.is_dir():
            return candidate
    raise TrackError(f"{package}: built-in tracks folder not found (a broken installation?)")


def racer_home() -> Path:
    """``$RACER_HOME``, or ``~/.racer`` when the variable is unset or empty."""
    return Path(os.environ.get("RACER_HOME") or "~/.racer").expanduser()


def user_tracks_dir() -> Path:
    """The folder of the user's own tracks, ``$RACER_HOME/tracks`` (may not exist yet)."""
    return racer_home() / "tracks"


def _track_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    files: dict[str, Path] = {}
    for suffix in reversed(TRACK_SUFFIXES):  # .json wins over .npy of the same name
        files.update({p.stem: p for p in sorted(folder.glob(f"*{suffix}")) if p.is_file()})
    return files


def builtin_track_names() -> list[str]:
    """Names of the built-in tracks, sorted."""
    return sorted(_track_files(builtin_tracks_dir()))


def _named_files() -> dict[str, tuple[str, Path]]:
    """Name -> (source, path) for user and built-in tracks; built-ins win."""
    found = {n: ("user", p) for n, p in _track_files(user_tracks_dir()).items()}
    found.update({n: ("builtin", p) for n, p in _track_files(builtin_tracks_dir()).items()})
    return found


# ---------------------------------------------------------------------- lookup
def get_track(name: str) -> Track:
    """The track called ``name`` (see the module docstring for the forms a name can take).

    Args:
        name: Track name, ``NAME:reverse``, ``generated:SEED[:key=value...]`` or a file path.

    Returns:
        The validated, immutable track (cached).

    Raises:
        TrackError: If no track has that name (the message suggests close names) or the file
            is invalid.
    """
    base = name.strip()
    reverse = False
    while base.endswith(REVERSE_SUFFIX):
        base = base[: -len(REVERSE_SUFFIX)]
        reverse = not reverse
    track = _get_forward(base)
    return _reversed(track) if reverse else track


def _get_forward(name: str) -> Track:
    for prefix, resolver in _PREFIXES.items():
        if name.startswith(prefix):
            return resolver(name[len(prefix) :])
    if name.lower().endswith(TRACK_SUFFIXES) or os.sep in name or "/" in name:
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise TrackError(f"{name}: no such track file")
        return _load_cached(str(path), path.stat().st_mtime_ns)
    files = _named_files()
    if name in files:
        path = files[name][1]
        return _load_cached(str(path), path.stat().st_mtime_ns)
    raise TrackError(_unknown_message(name, sorted(files)))


def _unknown_message(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if not close:  # case-insensitive second chance, then substrings ("oval" -> "Oval_track")
        lowered = {k.lower(): k for k in known}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=3)]
        close = close or [k for k in known if name.lower() in k.lower()][:3]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"{name}: unknown track.{hint} Run 'racer tracks list' to see all tracks; "
        f"'generated:SEED' makes a new one."
    )


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int) -> Track:
    del mtime_ns  # part of the cache key only
    p = Path(path)
    return load_track(p, name=p.stem)


@functools.lru_cache(maxsize=64)
def _reversed(track: Track) -> Track:
    return track.reversed()


# ---------------------------------------------------------------------- generated tracks
_GENERATED_KEYS = {"width": "width", "min_radius": "min_radius", "length": "approx_length"}


def parse_generated(spec: str) -> tuple[int, dict[str, float]]:
    """Parse the part after ``generated:``: ``SEED[:width=W][:min_radius=R][:length=L]``.

    Args:
        spec: E.g. ``"42:width=0.9:min_radius=0.6"``.

    Returns:
        The seed and the keyword arguments for :func:`racer.sim.trackgen.generate_track`.

    Raises:
        TrackError: On a non-integer seed, an unknown key or a non-numeric value.
    """
    seed_text, *options = spec.split(":")
    try:
        seed = int(seed_text)
    except ValueError:
        raise TrackError(
            f"generated:{spec}: the seed must be an integer, as in 'generated:42'"
        ) from None
    kwargs: dict[str, float] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if key not in _GENERATED_KEYS or not sep:
            close = difflib.get_close_matches(key, list(_GENERATED_KEYS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {sorted(_GENERATED_KEYS)}"
            raise TrackError(f"generated:{spec}: unknown option {option!r}; {hint}")
        try:
            kwargs[_GENERATED_KEYS[key]] = float(value)
        except ValueError:
            raise TrackError(f"generated:{spec}: {key} must be a number, got {value!r}") from None
    return seed, kwargs


def _get_generated(spec: str) -> Track:
    seed, kwargs = parse_generated(spec)
    return _generate_cached(seed, tuple(sorted(kwargs.items())))


@functools.lru_cache(maxsize=64)
def _generate_cached(seed: int, options: tuple[tuple[str, float], ...]) -> Track:
    from racer.sim.trackgen import DEFAULT_LENGTH, DEFAULT_MIN_RADIUS, DEFAULT_WIDTH, generate_track

    kwargs = dict(options)
    try:
        return generate_track(
            seed,
            width=kwargs.get("width", DEFAULT_WIDTH),
            min_radius=kwargs.get("min_radius", DEFAULT_MIN_RADIUS),
            approx_length=kwargs.get("approx_length", DEFAULT_LENGTH),
        )
    except ValueError as exc:
        raise TrackError(f"generated:{seed}: {exc}") from None


_PREFIXES: dict[str, Callable[[str], Track]] = {GENERATED_PREFIX: _get_generated}


# ---------------------------------------------------------------------- listing
def track_info(track: Track, source: str, path: Path | None = None) -> TrackInfo:
    """Summarise a track for listings."""
    widths = track.widths
    return TrackInfo(
        name=track.name,
        display_name=track.display_name,
        length=track.length,
        min_width=float(widths.min()),
        max_width=float(widths.max()),
        direction=track.direction,
        source=source,
        path=path,
    )


def list_tracks() -> list[TrackInfo]:
    """Built-in tracks, then user tracks, each sorted by name.

    User files that fail to load are left out with a logged warning.
    """
    infos: list[TrackInfo] = []
    files = _named_files()
    order = sorted(files.items(), key=lambda kv: (kv[1][0] != "builtin", kv[0].lower()))
    for _name, (source, path) in order:
        try:
            track = get_track(str(path))
        except TrackError as exc:
            log.warning("skipping %s", exc)
            continue
        infos.append(track_info(track, source, path))
    return infos


# ---------------------------------------------------------------------- importing
def import_deepracer(
    path: str | Path,
    *,
    name: str | None = None,
    display_name: str | None = None,
    out_dir: str | Path | None = None,
    metadata: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Convert a DeepRacer ``(N, 6)`` waypoint file into a racer JSON track file.

    Clockwise files and files whose centre line is not midway between the borders are kept as
    they are (left and right are worked out from the direction of travel).

    Args:
        path: The ``.npy`` file.
        name: Track name (and file name); defaults to the file's name without suffix.
        display_name: Human name; defaults to ``name``.
        out_dir: Destination folder; defaults to :func:`user_tracks_dir`.
        metadata: Extra metadata merged over the default provenance entry.
        overwrite: Replace an existing file of the same name.

    Returns:
        The JSON file written.

    Raises:
        TrackError: If the file is invalid, the name is taken by a built-in track (when writing
            to the user folder) or the destination exists and ``overwrite`` is False.
    """
    src = Path(path)
    if src.suffix.lower() != ".npy":
        raise TrackError(f"{src}: expected a DeepRacer .npy waypoint file")
    track_name = check_track_name(name or src.stem)
    dest_dir = Path(out_dir) if out_dir is not None else user_tracks_dir()
    if out_dir is None and track_name in builtin_track_names():
        raise TrackError(
            f"{track_name}: a built-in track has this name; choose another with --name"
        )
    dest = dest_dir / f"{track_name}.json"
    if dest.exists() and not overwrite:
        raise TrackError(f"{dest}: already exists; choose another --name or remove the file")
    if not src.is_file():
        raise TrackError(f"{src}: no such track file")
    try:
        arr = np.load(src, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise TrackError(f"{src}: not a readable NumPy array file ({exc})") from None
    meta = {"source": f"imported from DeepRacer waypoint file {src.name}"}
    meta.update(metadata or {})
    track = from_deepracer_array(
        arr, track_name, display_name=display_name or track_name, metadata=meta, source=str(src)
    )
    return save_track(track, dest)


def check_track_name(name: str) -> str:
    """Return ``name`` if it is usable as a track and file name, else raise :class:`TrackError`."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
    if not name or name.startswith(".") or not set(name) <= allowed:
        raise TrackError(
            f"{name!r}: track names use letters, digits, '_', '-' and '.', and do not start "
            "with '.'"
        )
    return name
