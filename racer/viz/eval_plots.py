"""The evaluation picture: every trial's path on the track, coloured by speed, with the results.

A 16:9 slide (1920x1080 by default): the track with each trial's path (one shared speed scale),
crosses where the car left the track or crashed, the race's boxes, and a results column.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from racer.sim.track import Track
from racer.viz.trackplot import GRASS, draw_track

if TYPE_CHECKING:
    from racer.evaluate.report import EvalReport, TrialResult

PANEL = "#1c2a1a"
GOOD = "#7dff9b"
BAD = "#ff8a7a"
EVENT_COLORS = {"off_track": "#ff3030", "crashed": "#ffb020"}
BOX_COLOR = "#ff9614"
SPEED_CMAP = "cool"


def plot_trials(
    track: Track,
    report: EvalReport,
    path: str | Path,
    *,
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Draw an evaluation to a PNG.

    Args:
        track: The track the trials ran on (in its direction of travel).
        report: The evaluation's report (its trials carry their traces).
        path: Output PNG; parent folders are created.
        title: Headline; defaults to the track's name.
        dpi: Resolution (the figure is 16 x 9 inches).

    Returns:
        The path written.
    """
    fig = Figure(figsize=(16.0, 9.0), dpi=dpi, facecolor=GRASS)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.02, 0.66, 0.84))
    draw_track(ax, track)
    if report.config.race_type == "object_avoidance":
        _draw_boxes(ax, report.trials)
    vmax = max(
        [1.0]
        + [float(t.trace.speeds.max()) for t in report.trials if t.trace and t.trace.speeds.size]
    )
    lines = None
    for trial in report.trials:
        lines = _draw_trial(ax, trial, vmax) or lines
    fig.suptitle(
        title or track.display_name, color="white", fontsize=22, fontweight="bold", x=0.02,
        y=0.965, ha="left",
    )  # fmt: skip
    fig.text(0.02, 0.885, _headline(report), color="white", fontsize=15, ha="left")
    _results_column(fig, report)
    if lines is not None:
        cax = fig.add_axes((0.71, 0.09, 0.26, 0.025))
        bar = fig.colorbar(lines, cax=cax, orientation="horizontal")
        bar.set_label("speed (m/s)", color="white", fontsize=14)
        bar.ax.tick_params(colors="white", labelsize=12)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=GRASS)
    return out


def _headline(report: EvalReport) -> str:
    c = report.config
    parts = [f"{report.completed}/{len(report.trials)} trials completed"]
    if report.best_lap_time is not None and report.mean_lap_time is not None:
        parts.append(f"best {report.best_lap_time:.2f} s")
        parts.append(f"mean {report.mean_lap_time:.2f} s")
    parts.append(f"penalties {c.off_track_penalty:g} s off-track, {c.collision_penalty:g} s crash")
    if c.laps > 1:
        parts.append(f"{c.laps} laps per trial")
    return "   ·   ".join(parts)


def _draw_trial(ax: Axes, trial: TrialResult, vmax: float) -> LineCollection | None:
    trace = trial.trace
    if trace is None or len(trace.positions) < 2:
        return None
    pts = trace.positions
    segs = np.stack([pts[:-1], pts[1:]], axis=1)
    # Skip the jumps where a penalty put the car back on the track.
    keep = np.hypot(*(segs[:, 1] - segs[:, 0]).T) < 0.5
    lc = LineCollection(list(segs[keep]), cmap=SPEED_CMAP, linewidths=3.0, alpha=0.9, zorder=7)
    lc.set_array(np.asarray(trace.speeds[1:][keep], dtype=np.float64))
    lc.set_clim(0.0, vmax)
    ax.add_collection(lc)
    for x, y, kind in trace.events:
        ax.plot(
            [x], [y], marker="X", markersize=15, color=EVENT_COLORS.get(kind, "#ff3030"),
            markeredgecolor="white", markeredgewidth=1.5, zorder=9, linestyle="none",
        )  # fmt: skip
    return lc


def _draw_boxes(ax: Axes, trials: tuple[TrialResult, ...]) -> None:
    seen: set[tuple[float, float]] = set()
    for trial in trials:
        if trial.trace is None:
            continue
        for ox, oy, yaw, hl, hw, _h, _shade in trial.trace.objects:
            key = (round(float(ox), 3), round(float(oy), 3))
            if key in seen:
                continue
            seen.add(key)
            c, s = np.cos(yaw), np.sin(yaw)
            local = np.array([[hl, hw], [hl, -hw], [-hl, -hw], [-hl, hw]])
            corners = local @ np.array([[c, s], [-s, c]]) + np.array([ox, oy])
            ax.add_patch(
                Polygon(corners, closed=True, facecolor=BOX_COLOR, edgecolor="black", zorder=6)
            )


def results_panel(fig: Figure) -> Axes:
    """The dark, frameless panel on the right of a results picture, in unit coordinates."""
    panel = fig.add_axes((0.69, 0.17, 0.30, 0.69))
    panel.set_facecolor(PANEL)
    panel.set_xticks([])
    panel.set_yticks([])
    for spine in panel.spines.values():
        spine.set_visible(False)
    panel.set_xlim(0, 1)
    panel.set_ylim(0, 1)
    return panel


def _results_column(fig: Figure, report: EvalReport) -> None:
    """Per-trial lines and totals in a dark panel on the right."""
    panel = results_panel(fig)
    panel.text(0.05, 0.93, "Trial   Result         Time   Off  Crash", color="#c8d0c8",
               fontsize=13, family="monospace", va="center")  # fmt: skip
    n = len(report.trials)
    step = min(0.1, 0.62 / max(n, 1))
    for i, t in enumerate(report.trials):
        result = "finished" if t.completed else t.status.replace("_", " ")
        counts = f"{t.off_track_count:>3}  {t.crash_count:>4}"
        line = f"{t.trial:>4}    {result:<12} {t.time:7.2f}  {counts}"
        panel.text(0.05, 0.84 - i * step, line, color=GOOD if t.completed else BAD,
                   fontsize=13 if n <= 8 else 10, family="monospace", va="center")  # fmt: skip
    best = "—" if report.best_lap_time is None else f"{report.best_lap_time:.2f} s"
    mean = "—" if report.mean_lap_time is None else f"{report.mean_lap_time:.2f} s"
    totals = [
        ("completion", f"{100 * report.completion_rate:.0f} %"),
        ("best lap", best),
        ("mean lap", mean),
    ]
    for i, (label, value) in enumerate(totals):
        y = 0.17 - i * 0.065
        panel.text(0.05, y, label, color="#c8d0c8", fontsize=15, va="center")
        panel.text(0.95, y, value, color="white", fontsize=17, fontweight="bold", va="center",
                   ha="right")  # fmt: skip
