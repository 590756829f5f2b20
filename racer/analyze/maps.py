"""Step maps on the track: each logged position as a dot coloured by speed or steering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import NDArray

from racer.analyze.plots import figure
from racer.analyze.table import StepTable
from racer.sim.track import Track
from racer.viz.trackplot import GRASS, default_title, draw_track

MAX_POINTS = 40_000
"""More steps than this are thinned (evenly, reproducibly) to keep the picture readable."""


def _thin(n: int) -> NDArray[np.int64]:
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, MAX_POINTS, replace=False))


def _map(
    steps: StepTable,
    track: Track,
    path: Path,
    values: NDArray[np.float64],
    *,
    title: str,
    label: str,
    cmap: str,
    limits: tuple[float, float],
) -> Path:
    keep = _thin(len(steps))
    xmin, ymin, xmax, ymax = track.bounds
    aspect = (ymax - ymin + 1.0) / (xmax - xmin + 0.6)
    with figure(path, (12.0, float(np.clip(11.0 * aspect, 5.0, 13.0)))) as fig:
        ax = fig.add_axes((0.02, 0.02, 0.84, 0.88))
        draw_track(ax, track)
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()  # the axis is off, so paint the grass as a patch
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=GRASS, zorder=0))
        size = float(np.clip(60_000 / max(len(keep), 1), 3.0, 22.0))
        dots = ax.scatter(
            steps.x[keep], steps.y[keep], c=values[keep], s=size, cmap=cmap,
            vmin=limits[0], vmax=limits[1], linewidths=0, alpha=0.85, zorder=8,
        )  # fmt: skip
        _colour_bar(fig, dots, label)
        fig.suptitle(f"{title} · {steps.source}", fontsize=21, fontweight="bold", x=0.44, y=0.98)
        ax.set_title(default_title(track), fontsize=14, pad=4)
    return path


def _colour_bar(fig: Figure, mappable: object, label: str) -> None:
    cax = fig.add_axes((0.88, 0.12, 0.025, 0.70))
    bar = fig.colorbar(mappable, cax=cax)  # type: ignore[arg-type]
    bar.set_label(label, fontsize=16)
    bar.ax.tick_params(labelsize=14)


def plot_speed_map(steps: StepTable, track: Track, path: Path) -> Path:
    """Positions coloured by commanded speed (``throttle``)."""
    moving = steps.throttle[(steps.episode_status != "prepare") & np.isfinite(steps.throttle)]
    lo, hi = (float(moving.min()), float(moving.max())) if len(moving) else (0.0, 1.0)
    lo, hi = (lo - 0.5, hi + 0.5) if hi - lo < 0.1 else (lo, hi)
    return _map(
        steps, track, path, steps.throttle, title="Speed on the track",
        label="commanded speed (m/s)", cmap="plasma", limits=(lo, hi),
    )  # fmt: skip


def plot_action_map(steps: StepTable, track: Track, path: Path) -> Path:
    """Positions coloured by commanded steering (left positive)."""
    hi = max(5.0, float(np.nanmax(np.abs(steps.steer))) if len(steps) else 30.0)
    return _map(
        steps, track, path, steps.steer, title="Steering on the track",
        label="steering (°, + = left)", cmap="RdYlBu", limits=(-hi, hi),
    )  # fmt: skip
