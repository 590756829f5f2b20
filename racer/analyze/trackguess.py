"""Which track a log was driven on: ``--track``, the run's ``config.yaml``, or its ``track_len``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from racer.analyze.readers import Source
from racer.sim.track import Track
from racer.sim.track_registry import builtin_track_names, get_track
from racer.sim.trackio import TrackError

LENGTH_TOLERANCE = 0.03
"""Metres between a log's ``track_len`` and a built-in track's length to call it a match."""


@dataclass(frozen=True)
class TrackChoice:
    """The track for a source's maps, and how it was chosen.

    Attributes:
        track: The track, or None when unknown (maps are skipped).
        how: A phrase for the report, e.g. ``"from config.yaml"``.
    """

    track: Track | None
    how: str

    @property
    def name(self) -> str | None:
        """The track's name, if known."""
        return None if self.track is None else self.track.name


def choose_track(source: Source, override: str | None = None) -> TrackChoice:
    """Pick the track: ``override`` > the run's ``config.yaml`` > a match of ``track_len``.

    Args:
        source: The source.
        override: A track name from the command line.

    Returns:
        The choice (the track is None when no rule gives one).

    Raises:
        TrackError: If ``override`` names no track.
    """
    if override:
        return TrackChoice(get_track(override), "given with --track")
    if source.config_track:
        try:
            return TrackChoice(get_track(source.config_track), "from the run's config.yaml")
        except TrackError as exc:
            note = f"config.yaml's track failed to load ({exc}); "
            guess = guess_track(source)
            return TrackChoice(guess.track, note + guess.how)
    return guess_track(source)


def guess_track(source: Source) -> TrackChoice:
    """Match the log's ``track_len`` against the built-in tracks' lengths."""
    lengths = source.steps.track_len[np.isfinite(source.steps.track_len)]
    if not len(lengths):
        return TrackChoice(None, "unknown: the log has no track_len; pass --track")
    logged = float(np.median(lengths))
    matches = [
        track
        for track in (get_track(name) for name in builtin_track_names())
        if abs(track.length - logged) <= LENGTH_TOLERANCE
    ]
    if len(matches) == 1:
        return TrackChoice(matches[0], f"guessed from track_len {logged:.3f} m")
    if not matches:
        return TrackChoice(None, f"unknown: no built-in track is {logged:.2f} m long; pass --track")
    names = ", ".join(t.name for t in matches)
    return TrackChoice(None, f"unknown: track_len {logged:.2f} m fits {names}; pass --track")
