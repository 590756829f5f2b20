"""The racing licence: a certificate PNG for a racer whose best lap beat a race's qualifying time.

A 1600x1000 card drawn with matplotlib's Agg canvas (no pyplot state), legible on a projector:
the title, the racer's name large (shrunk to fit, then shortened with an ellipsis), the race,
the track's name beside its outline, the lap time against the qualifying time, the date of
issue and a licence number derived from the race and the racer (the same pair always gets the
same number).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text
from numpy.typing import NDArray

WIDTH, HEIGHT, DPI = 1600, 1000, 100
BACKGROUND = "#0f1620"
CARD = "#17212e"
EDGE = "#f2b632"
INK = "#f4f6f8"
MUTED = "#8f9bab"
GOOD = "#5fe08a"
SLOW = "#ff8a7a"
TRACK = "#3b4757"
LINE = "#f2b632"
TITLE = "racer — racing licence"


def licence_number(race: str, racer: str) -> str:
    """The licence number of a racer in a race, e.g. ``RL-3F9A-0C21``."""
    digest = hashlib.sha256(f"{race}\n{racer}".encode()).hexdigest()[:8].upper()
    return f"RL-{digest[:4]}-{digest[4:]}"


def write_licence(
    path: Path,
    *,
    racer: str,
    race: str,
    track: str,
    lap_time: float,
    qualifying_time: float,
    issued: date,
    track_points: NDArray[np.float64] | None = None,
) -> Path:
    """Draw a racer's licence to a PNG (1600x1000 px).

    Args:
        path: The PNG to write (its folder is created).
        racer: The racer's name.
        race: The race's name.
        track: The track's registry name (its display name and outline are looked up) or a
            name to show as it is.
        lap_time: The racer's best lap, seconds.
        qualifying_time: The race's qualifying time, seconds.
        issued: Date of issue.
        track_points: (N, 2) centre line to draw; None: the named track's, if it is known.

    Returns:
        The path written.
    """
    name, points = _track(track, track_points)
    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor=BACKGROUND)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(0, HEIGHT)
    ax.set_axis_off()
    ax.add_patch(
        FancyBboxPatch(
            (40, 40), WIDTH - 80, HEIGHT - 80, boxstyle="round,pad=0,rounding_size=36",
            facecolor=CARD, edgecolor=EDGE, linewidth=5,
        )
    )  # fmt: skip
    ax.add_patch(FancyBboxPatch((40, 820), WIDTH - 80, 6, boxstyle="square,pad=0", color=EDGE))
    ax.text(90, 885, TITLE, color=EDGE, fontsize=44, fontweight="bold", va="center")
    badge = "QUALIFIED" if lap_time <= qualifying_time else "NOT QUALIFIED"
    stamp = {"boxstyle": "round,pad=0.45", "facecolor": EDGE, "edgecolor": "none"}
    ax.text(WIDTH - 90, 885, badge, color=CARD, fontsize=24, fontweight="bold", ha="right",
            va="center", bbox=stamp)  # fmt: skip
    renderer = canvas.get_renderer()
    left_w = 860.0
    _label(ax, 90, 760, "LICENSED RACER")
    _fitted(ax, renderer, 90, 690, racer, 64, left_w, bold=True, smallest=0.45)
    _label(ax, 90, 600, "RACE")
    _fitted(ax, renderer, 90, 555, race, 30, left_w)
    _label(ax, 90, 480, "TRACK")
    _fitted(ax, renderer, 90, 435, name, 30, left_w)
    _times(ax, renderer, lap_time, qualifying_time)
    _label(ax, 90, 175, "ISSUED")
    ax.text(90, 132, issued.isoformat(), color=INK, fontsize=26, va="center")
    _label(ax, 480, 175, "LICENCE NO.")
    ax.text(480, 132, licence_number(race, racer), color=INK, fontsize=26, va="center",
            family="monospace")  # fmt: skip
    _outline(fig, points)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor=BACKGROUND)
    return out


def _track(name: str, points: NDArray[np.float64] | None) -> tuple[str, NDArray[np.float64] | None]:
    """The track's display name and centre line (looked up when not given)."""
    from racer.sim.track_registry import get_track
    from racer.sim.trackcheck import TrackError

    try:
        found = get_track(name)
    except (TrackError, OSError, ValueError):
        return name, points
    return found.display_name, found.centre if points is None else points


def _label(ax: Axes, x: float, y: float, text: str) -> None:
    ax.text(x, y, text, color=MUTED, fontsize=17, fontweight="bold", va="center")


def _fitted(
    ax: Axes, renderer: object, x: float, y: float, text: str, size: float, width: float,
    *, bold: bool = False, smallest: float = 0.6,
) -> Text:  # fmt: skip
    """Text at most ``width`` pixels wide: the font shrinks to ``smallest``, then it is cut."""
    text = " ".join(text.split()) or "—"
    artist = ax.text(x, y, text, color=INK, fontsize=size, va="center",
                     fontweight="bold" if bold else "normal")  # fmt: skip
    scale = 1.0
    while artist.get_window_extent(renderer).width > width and scale > smallest + 1e-9:  # type: ignore[arg-type]
        scale -= 0.05
        artist.set_fontsize(size * scale)
    shown = text
    while artist.get_window_extent(renderer).width > width and len(shown) > 1:  # type: ignore[arg-type]
        shown = shown[:-1]
        artist.set_text(shown.rstrip() + "…")
    return artist


def _times(ax: Axes, renderer: object, lap_time: float, qualifying_time: float) -> None:
    """The lap time, big, with the qualifying time and the margin beside it."""
    margin = lap_time - qualifying_time
    colour = GOOD if margin <= 0 else SLOW
    _label(ax, 90, 345, "BEST LAP")
    lap = ax.text(90, 270, f"{lap_time:.3f} s", color=colour, fontsize=58, fontweight="bold",
                  va="center")  # fmt: skip
    right = lap.get_window_extent(renderer).x1 + 50  # type: ignore[arg-type]
    _label(ax, right, 345, "QUALIFYING TIME")
    ax.text(right, 290, f"{qualifying_time:.3f} s", color=INK, fontsize=28, va="center")
    sign = "−" if margin <= 0 else "+"
    word = "under" if margin <= 0 else "over"
    ax.text(right, 245, f"{sign}{abs(margin):.3f} s {word}", color=colour, fontsize=20,
            va="center")  # fmt: skip


def _outline(fig: Figure, points: NDArray[np.float64] | None) -> None:
    """The track's centre line as a stylised road in the card's right part."""
    ax = fig.add_axes((0.625, 0.12, 0.33, 0.66))
    ax.set_axis_off()
    ax.set_aspect("equal")
    pts = None if points is None else np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if pts is None or len(pts) < 2:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "track outline\nnot available", color=MUTED, fontsize=20,
                ha="center", va="center")  # fmt: skip
        return
    steps = np.hypot(*np.diff(pts, axis=0).T)
    closed = float(np.hypot(*(pts[-1] - pts[0]))) <= 3.0 * float(np.median(steps)) + 1e-9
    ring = np.vstack([pts, pts[:1]]) if closed else pts
    ax.plot(ring[:, 0], ring[:, 1], color=TRACK, lw=26, solid_capstyle="round",
            solid_joinstyle="round")  # fmt: skip
    ax.plot(ring[:, 0], ring[:, 1], color=LINE, lw=3.5, solid_joinstyle="round")
    start = pts[0]
    ax.plot([start[0]], [start[1]], marker="o", markersize=20, color=INK,
            markeredgecolor=CARD, markeredgewidth=3)  # fmt: skip
    (xmin, ymin), (xmax, ymax) = pts.min(axis=0), pts.max(axis=0)
    pad = 0.08 * max(xmax - xmin, ymax - ymin, 1e-6)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
