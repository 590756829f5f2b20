"""Track pictures for slides and screens: asphalt between white borders, start line, scale bar.

Uses matplotlib's object API with the Agg canvas, so no pyplot state is created or left behind.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrow, PathPatch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from numpy.typing import NDArray

from racer.sim.track import Track

GRASS = "#3d6b35"
ASPHALT = "#55585c"
BORDER = "#ffffff"
CENTRE = "#ffd21f"
TRAJECTORY = "#ff3b6b"
ARROW = "#ffffff"
_AXES = (0.02, 0.02, 0.96, 0.88)  # left, bottom, width, height as figure fractions


def plot_track(
    track: Track,
    path: str | Path,
    *,
    title: str | None = None,
    trajectory: NDArray[np.float64] | None = None,
    dpi: int = 150,
) -> Path:
    """Draw a track to a PNG file.

    Args:
        track: The track.
        path: Output file (``.png``); parent folders are created.
        title: Title text; defaults to the display name with length and width.
        trajectory: Optional (M, 2) path of a car, drawn on top.
        dpi: Resolution.

    Returns:
        The path written.
    """
    limits = _limits(track)
    fig = Figure(figsize=_figsize(limits), dpi=dpi, facecolor=GRASS)
    FigureCanvasAgg(fig)
    ax = fig.add_axes(_AXES)
    draw_track(ax, track)
    if trajectory is not None:
        traj = np.asarray(trajectory, dtype=np.float64).reshape(-1, 2)
        ax.plot(traj[:, 0], traj[:, 1], color=TRAJECTORY, lw=2.0, zorder=6, solid_capstyle="round")
    fig.suptitle(
        title or default_title(track), color="white", fontsize=16, fontweight="bold", y=0.96
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=GRASS)
    return out


def draw_track(ax: Axes, track: Track) -> None:
    """Draw a track onto existing axes: surface, borders, centre line, start line, arrow, scale.

    Sets equal aspect, hides the axis frame and sets limits that leave room for the scale bar.

    Args:
        ax: Matplotlib axes (of a figure made without pyplot).
        track: The track.
    """
    limits = _limits(track)
    ax.set_facecolor(GRASS)
    ax.set_aspect("equal")
    ax.set_axis_off()
    _draw_surface(ax, track)
    _draw_lines(ax, track)
    _draw_start_line(ax, track)
    _draw_direction(ax, track)
    ax.set_xlim(limits[0], limits[2])
    ax.set_ylim(limits[1], limits[3])
    xmin, ymin, xmax, _ = track.bounds
    _draw_scale_bar(ax, xmin, (limits[1] + ymin) / 2, xmax - xmin)


def default_title(track: Track) -> str:
    """``Display name — 17.71 m, 0.76 m wide`` (a range when the width varies)."""
    lo, hi = float(track.widths.min()), float(track.widths.max())
    width = f"{lo:.2f} m wide" if hi - lo < 0.01 else f"{lo:.2f}–{hi:.2f} m wide"
    return f"{track.display_name} — {track.length:.2f} m, {width}"


def _limits(track: Track) -> tuple[float, float, float, float]:
    """Axes limits: the track with a margin, and room for the scale bar below it."""
    xmin, ymin, xmax, ymax = track.bounds
    pad = 0.2 + 0.03 * max(xmax - xmin, ymax - ymin)
    return xmin - pad, ymin - 2.2 * pad, xmax + pad, ymax + pad


def _figsize(limits: tuple[float, float, float, float]) -> tuple[float, float]:
    xmin, ymin, xmax, ymax = limits
    width = 12.0
    axes_h = width * _AXES[2] * (ymax - ymin) / (xmax - xmin)
    return width, float(np.clip(axes_h / _AXES[3], 4.0, 16.0))


def _ring(points: NDArray[np.float64], closed: bool) -> list[tuple[float, float]]:
    pts = [(float(x), float(y)) for x, y in points]
    return pts + pts[:1] if closed else pts


def _draw_surface(ax: Axes, track: Track) -> None:
    if track.closed:
        # Two rings of opposite orientation: the non-zero fill rule leaves the infield empty.
        outer = _ring(track.left, True)
        inner = _ring(track.right[::-1], True)
        verts = outer + inner
        codes = [
            code
            for ring in (outer, inner)
            for code in [MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 2) + [MplPath.CLOSEPOLY]
        ]
        patch = PathPatch(MplPath(verts, codes), facecolor=ASPHALT, edgecolor="none", zorder=1)
        ax.add_patch(patch)
    else:
        poly = np.vstack([track.left, track.right[::-1]])
        ax.add_patch(Polygon(poly, closed=True, facecolor=ASPHALT, edgecolor="none", zorder=1))


def _draw_lines(ax: Axes, track: Track) -> None:
    for border in (track.left, track.right):
        pts = np.asarray(_ring(border, track.closed))
        ax.plot(pts[:, 0], pts[:, 1], color=BORDER, lw=2.2, zorder=3, solid_joinstyle="round")
    c = np.asarray(_ring(track.centre, track.closed))
    ax.plot(c[:, 0], c[:, 1], color=CENTRE, lw=1.4, ls=(0, (6, 5)), zorder=2)


def _draw_start_line(ax: Axes, track: Track) -> None:
    """A two-row chequered band across the track at s = 0."""
    heading = float(track.heading_at(0.0)[0])
    along = np.array([math.cos(heading), math.sin(heading)])
    normal = np.array([-along[1], along[0]])
    origin = track.centre[0]
    left_w, right_w = float(track.left_widths[0]), float(track.right_widths[0])
    cells = max(4, round((left_w + right_w) / 0.09))
    size = (left_w + right_w) / cells
    deg = math.degrees(heading)
    for row in range(2):
        for col in range(cells):
            corner = origin + normal * (-right_w + col * size) + along * (row - 1) * size
            colour = "black" if (row + col) % 2 else "white"
            ax.add_patch(
                Rectangle(
                    (float(corner[0]), float(corner[1])), size, size, angle=deg - 90.0,
                    rotation_point="xy", facecolor=colour, edgecolor="none", zorder=4,
                )
            )  # fmt: skip


def _draw_direction(ax: Axes, track: Track) -> None:
    """An arrow on the centre line shortly after the start, pointing the way cars drive."""
    s0 = min(0.9, 0.08 * track.length)
    length = min(0.6, 0.05 * track.length)
    start = track.point_at(s0)
    end = track.point_at(s0 + length)
    d = end - start
    width = 0.35 * float(track.widths.min())
    ax.add_patch(
        FancyArrow(
            float(start[0]), float(start[1]), float(d[0]), float(d[1]),
            width=width * 0.35, head_width=width, head_length=min(0.3, length * 0.5),
            length_includes_head=True, facecolor=ARROW, edgecolor="black", lw=1.0, zorder=5,
        )
    )  # fmt: skip


def _draw_scale_bar(ax: Axes, x: float, y: float, span: float) -> None:
    metres = next(m for m in (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 1e9) if m >= span / 8)
    h = 0.06 * max(metres, 0.5)
    for i, colour in enumerate(("white", "black")):
        half = metres / 2
        ax.add_patch(
            Rectangle(
                (x + i * half, y - h / 2), half, h, facecolor=colour, edgecolor="white", lw=1.0
            )
        )
    ax.text(x + metres + 0.1 * metres, y, f"{metres:g} m", color="white", fontsize=12,
            va="center", ha="left", fontweight="bold")  # fmt: skip
