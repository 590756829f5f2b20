"""The racing line drawn over a track, coloured by the optimal speed (for slides and screens).

Uses matplotlib's object API with the Agg canvas, like :mod:`racer.viz.trackplot`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from racer.sim.racing_line import RacingLine
from racer.sim.track import Track
from racer.viz.trackplot import GRASS, _figsize, _limits, draw_track

COLOURMAP = "plasma"
"""Slow corners dark purple, full speed bright yellow: readable on a projector."""


def racing_line_title(track: Track, line: RacingLine) -> str:
    """``Display name — optimal lap 4.40 s (centre line 5.07 s, 13 % faster)``."""
    return (
        f"{track.display_name} — optimal lap {line.lap_time:.2f} s "
        f"(centre line {line.centre_lap_time:.2f} s, {100 * line.improvement:.0f} % faster)"
    )


def plot_racing_line(
    track: Track,
    line: RacingLine,
    path: str | Path,
    *,
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """Draw the track and its racing line, coloured by speed, to a PNG file.

    Args:
        track: The track.
        line: Its racing line.
        path: Output file (``.png``); parent folders are created.
        title: Title text; defaults to :func:`racing_line_title`.
        dpi: Resolution.

    Returns:
        The path written.
    """
    limits = _limits(track)
    width, height = _figsize(limits)
    fig = Figure(figsize=(width * 1.1, height), dpi=dpi, facecolor=GRASS)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.86, 0.88))
    draw_track(ax, track)
    pts = np.vstack([line.points, line.points[:1]])
    segments = np.stack([pts[:-1], pts[1:]], axis=1)
    speeds = line.speeds
    norm = Normalize(vmin=float(np.floor(speeds.min() * 2) / 2), vmax=line.limits.top_speed)
    lc = LineCollection(
        list(segments), cmap=COLOURMAP, norm=norm, linewidths=4.5, zorder=6, capstyle="round"
    )
    lc.set_array(0.5 * (speeds + np.roll(speeds, -1)))
    ax.add_collection(lc)
    slowest = int(np.argmin(speeds))
    ax.plot(*line.points[slowest], "o", ms=9, mfc="white", mec="black", zorder=7)
    ax.annotate(
        f"{speeds[slowest]:.1f} m/s",
        xy=(float(line.points[slowest, 0]), float(line.points[slowest, 1])),
        xytext=(8, 8),
        textcoords="offset points",
        color="white",
        fontsize=13,
        fontweight="bold",
        zorder=8,
    )
    cax = fig.add_axes((0.9, 0.12, 0.025, 0.7))
    bar = fig.colorbar(lc, cax=cax)
    bar.set_label("optimal speed, m/s", color="white", fontsize=13)
    bar.ax.tick_params(colors="white", labelsize=12)
    bar.outline.set_edgecolor("white")
    fig.suptitle(
        title or racing_line_title(track, line),
        color="white",
        fontsize=16,
        fontweight="bold",
        y=0.96,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=GRASS)
    return out
