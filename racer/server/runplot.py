"""The picture of a race run: its path coloured by speed, its lap times and its score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from racer.evaluate.report import EvalReport
from racer.server.ranking import RaceRules, Standing
from racer.sim.track_registry import get_track

MAX_LAP_ROWS = 20
"""Lap rows the picture lists at most."""
RANKING_LABELS = {"best_lap": "best lap", "average_lap": "average lap", "total_time": "total time"}


def plot_run(
    report: EvalReport, result: Standing, rules: RaceRules, path: Path, title: str | None = None
) -> Path:
    """Draw a race run: its path coloured by speed, its laps and its score (1920x1080 PNG).

    Args:
        report: The evaluation of the run (its one trial carries its trace).
        result: The run's standing.
        rules: The race's rules.
        path: The PNG (replaced).
        title: Headline; the track's name is appended.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    from racer.viz.trackplot import GRASS, draw_track

    trial = report.trials[0]
    fig = Figure(figsize=(16.0, 9.0), dpi=120, facecolor=GRASS)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.02, 0.66, 0.84))
    draw_track(ax, get_track(rules.track + (":reverse" if rules.reverse else "")))
    trace = trial.trace
    if trace is not None and len(trace.positions) > 1:
        pts = trace.positions
        segs = np.stack([pts[:-1], pts[1:]], axis=1)
        keep = np.hypot(*(segs[:, 1] - segs[:, 0]).T) < 0.5  # not the put-backs
        lines = LineCollection(list(segs[keep]), cmap="cool", linewidths=3.0, zorder=7)
        lines.set_array(np.asarray(trace.speeds[1:][keep], dtype=np.float64))
        lines.set_clim(0.0, max(1.0, float(trace.speeds.max())))
        ax.add_collection(lines)
        for x, y, kind in trace.events:
            colour = "#ffb020" if kind == "crashed" else "#ff3030"
            ax.plot([x], [y], marker="X", markersize=15, color=colour, markeredgecolor="white",
                    markeredgewidth=1.5, zorder=9, linestyle="none")  # fmt: skip
        for ox, oy, yaw, hl, hw, *_ in (
            trace.objects if rules.race_type == "object_avoidance" else ()
        ):
            c, s = np.cos(yaw), np.sin(yaw)
            corners = np.array([[hl, hw], [hl, -hw], [-hl, -hw], [-hl, hw]])
            corners = corners @ np.array([[c, s], [-s, c]]) + np.array([ox, oy])
            ax.add_patch(Polygon(corners, facecolor="#ff9614", edgecolor="black", zorder=6))
        bar = fig.colorbar(
            lines, cax=fig.add_axes((0.71, 0.09, 0.26, 0.025)), orientation="horizontal"
        )
        bar.set_label("speed (m/s)", color="white", fontsize=14)
        bar.ax.tick_params(colors="white", labelsize=12)
    headline = " · ".join([*([title] if title else []), report.track])
    head = fig.text(0.02, 0.94, headline, color="white", fontsize=22, fontweight="bold")
    size = 22.0
    while head.get_window_extent(canvas.get_renderer()).width > 0.96 * 1920 and size > 11:
        size -= 1.0
        head.set_fontsize(size)
    fig.text(0.02, 0.885, _rules_line(rules), color="white", fontsize=15)
    _results_panel(fig, trial.status, trial.progress, trial.off_track_count, trial.crash_count,
                   result, rules)  # fmt: skip
    fig.savefig(path, facecolor=GRASS)
    return path


def _laps(n: int) -> str:
    return f"{n} lap" if n == 1 else f"{n} laps"


def _rules_line(rules: RaceRules) -> str:
    ranking = RANKING_LABELS[rules.ranking]
    if rules.ranking != "best_lap":
        ranking += f" of {_laps(rules.ranking_laps)}"
    return "   ·   ".join([
        _laps(rules.laps), f"ranked by {ranking}",
        f"penalties {rules.off_track_penalty:g} s off-track, {rules.collision_penalty:g} s crash",
        f"time cap {rules.time_cap:g} s",
    ])  # fmt: skip


def _results_panel(
    fig: Any, status: str, progress: float, off: int, crashes: int, result: Standing,
    rules: RaceRules,
) -> None:  # fmt: skip
    """Lap times (the best one marked) and the score in a dark panel on the right."""
    from racer.viz.eval_plots import results_panel

    panel = results_panel(fig)
    panel.text(0.06, 0.93, "Lap        Time", color="#c8d0c8", fontsize=14, family="monospace",
               va="center")  # fmt: skip
    rows_shown = min(rules.laps, MAX_LAP_ROWS)
    step = min(0.075, 0.5 / rows_shown)
    best_index = result.lap_times.index(result.best_lap) if result.best_lap is not None else -1
    for i in range(rows_shown):
        lap = result.lap_times[i] if i < len(result.lap_times) else None
        text = f"{i + 1:>3}   {lap:9.3f} s" if lap is not None else f"{i + 1:>3}         —"
        if i == rows_shown - 1 and rules.laps > rows_shown:
            text = f"… {rules.laps - rows_shown + 1} more laps"
        panel.text(0.06, 0.85 - i * step, text + ("   best" if i == best_index else ""),
                   color="#7dff9b" if lap is not None else "#ff8a7a",
                   fontsize=14 if rows_shown <= 8 else 10, family="monospace",
                   va="center")  # fmt: skip
    score = "not ranked" if result.score is None else f"{result.score:.3f} s"
    finish = status.replace("_", " ")
    if status != "lap_complete":
        finish += f" ({progress:.0f} %)"
    rows = [
        ("finish", finish),
        ("off-track / crash", f"{off} / {crashes}"),
        (RANKING_LABELS[rules.ranking], score),
    ]  # fmt: skip
    for i, (label, value) in enumerate(rows):
        y = 0.19 - i * 0.07
        panel.text(0.06, y, label, color="#c8d0c8", fontsize=15, va="center")
        panel.text(0.94, y, value, color="white", fontsize=17, fontweight="bold", va="center",
                   ha="right")  # fmt: skip
