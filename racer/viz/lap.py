"""A lap picture: the track with the car's path coloured by speed, and its camera views."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from numpy.typing import NDArray

from racer.sim.track import Track
from racer.viz.trackplot import GRASS, default_title, draw_track


def plot_lap(
    track: Track,
    positions: NDArray[np.float64],
    speeds: NDArray[np.float64],
    path: str | Path,
    *,
    frames: Sequence[NDArray[np.uint8]] = (),
    lap_time: float | None = None,
    dpi: int = 120,
) -> Path:
    """Draw a lap to a PNG: path coloured by speed, a colour bar, and camera frames below.

    Args:
        track: The track.
        positions: (M, 2) positions along the lap.
        speeds: (M,) speeds, m/s.
        path: Output PNG.
        frames: Camera frames (H, W) to show in a row under the map.
        lap_time: Shown in the title when given.
        dpi: Resolution.

    Returns:
        The path written.
    """
    n_frames = len(frames)
    fig = Figure(figsize=(12.0, 10.5 if n_frames else 8.0), dpi=dpi, facecolor=GRASS)
    FigureCanvasAgg(fig)
    top = 0.36 if n_frames else 0.04
    ax = fig.add_axes((0.02, top, 0.86, 0.90 - top))
    draw_track(ax, track)
    pts = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    if len(pts) > 1:
        segs = np.stack([pts[:-1], pts[1:]], axis=1)
        vmax = max(1.0, float(np.max(speeds)))
        lc = LineCollection(list(segs), cmap="plasma", linewidths=3.0, zorder=7)
        lc.set_array(np.asarray(speeds[1:], dtype=np.float64))
        lc.set_clim(0.0, vmax)
        ax.add_collection(lc)
        cax = fig.add_axes((0.90, top + 0.05, 0.025, 0.90 - top - 0.1))
        bar = fig.colorbar(lc, cax=cax)
        bar.set_label("speed (m/s)", color="white", fontsize=13)
        bar.ax.tick_params(colors="white", labelsize=11)
    title = default_title(track)
    if lap_time is not None:
        title += f"   ·   lap {lap_time:.2f} s"
    fig.suptitle(title, color="white", fontsize=17, fontweight="bold", y=0.97)
    for i, frame in enumerate(frames):
        w = 0.96 / n_frames
        fax = fig.add_axes((0.02 + i * w, 0.03, w - 0.01, 0.28))
        fax.imshow(frame, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        fax.set_axis_off()
        label = "camera at the start" if i == 0 else f"camera, {i}/{n_frames} of the lap"
        fax.set_title(label, color="white", fontsize=12)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=GRASS)
    return out
