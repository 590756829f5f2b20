"""Charts for slides: per-iteration curves, lap-time and action histograms.

Dark text on a light background, big fonts, one colour per source (training solid with a ±1
standard-deviation band, evaluation dashed). Matplotlib's object API with the Agg canvas only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from racer.analyze.episodes import EpisodeTable
from racer.analyze.summary import IterationSummary, PhaseSummary
from racer.analyze.table import EVALUATION, StepTable

STYLE: dict[str, Any] = {
    "font.size": 16,
    "axes.titlesize": 21,
    "axes.titleweight": "bold",
    "axes.labelsize": 18,
    "xtick.labelsize": 15,
    "ytick.labelsize": 15,
    "legend.fontsize": 14,
    "lines.linewidth": 2.8,
    "lines.markersize": 8,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "text.color": "#1a1a1a",
    "axes.labelcolor": "#1a1a1a",
    "xtick.color": "#1a1a1a",
    "ytick.color": "#1a1a1a",
}
PALETTE = ("#1f5fbf", "#e8590c", "#2b8a3e", "#862e9c", "#0b7285", "#a61e4d", "#5c940d", "#495057")
FIGSIZE = (12.0, 6.75)
DPI = 120


def colour(index: int) -> str:
    """The colour of the ``index``-th source."""
    return PALETTE[index % len(PALETTE)]


@contextmanager
def figure(path: Path, figsize: tuple[float, float] = FIGSIZE) -> Iterator[Figure]:
    """A figure in the house style, saved to ``path`` when the block ends."""
    with mpl.rc_context(cast(Any, STYLE)):
        fig = Figure(figsize=figsize, dpi=DPI)
        FigureCanvasAgg(fig)
        yield fig
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, bbox_inches="tight", pad_inches=0.25)


@dataclass(frozen=True)
class IterationMetric:
    """A per-iteration quantity to plot.

    Attributes:
        title: Chart title.
        ylabel: Y-axis label.
        mean: The value of an iteration.
        std: Its spread, for the band (None: no band).
        percent: Show the axis in percent (values are 0–100 or 0–1 with ``scale``).
        scale: Factor from the value to percent.
    """

    title: str
    ylabel: str
    mean: Callable[[IterationSummary], float]
    std: Callable[[IterationSummary], float] | None = None
    percent: bool = False
    scale: float = 1.0


ITERATION_METRICS: dict[str, IterationMetric] = {
    "reward": IterationMetric(
        "Reward per episode", "episode reward", lambda s: s.reward_mean, lambda s: s.reward_std
    ),
    "progress": IterationMetric(
        "Progress per episode",
        "progress",
        lambda s: s.progress_mean,
        lambda s: s.progress_std,
        percent=True,
    ),
    "completion": IterationMetric(
        "Completed laps", "episodes completing a lap", lambda s: s.completion_rate, None, True, 100
    ),
}
"""The per-iteration charts, by file-name stem ``<key>_per_iteration.png``."""


def plot_per_iteration(
    summaries: Sequence[tuple[int, PhaseSummary]], metric: str, path: Path
) -> Path:
    """One per-iteration chart, all sources overlaid.

    Args:
        summaries: ``(source index, phase summary)`` pairs; the index picks the colour.
        metric: A key of :data:`ITERATION_METRICS`.
        path: The PNG to write.

    Returns:
        ``path``.
    """
    spec = ITERATION_METRICS[metric]
    with figure(path) as fig:
        ax = fig.add_subplot()
        for index, phase in summaries:
            _iteration_line(ax, spec, phase, colour(index))
        ax.set_title(spec.title + (" (mean ± 1 sd)" if spec.std else ""))
        ax.set_xlabel("iteration")
        ax.set_ylabel(spec.ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if spec.percent:
            ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
            ax.set_ylim(-2, 105)
        _legend(ax)
    return path


DENSE_POINTS = 120
"""Above this many iterations a line is drawn without markers."""


def _legend(ax: Axes) -> None:
    """Inside the axes for a few entries, below them for many."""
    entries = len(ax.get_legend_handles_labels()[1])
    if entries <= 4:
        ax.legend(loc="best", frameon=True, framealpha=0.9)
    else:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)


def _iteration_line(ax: Axes, spec: IterationMetric, phase: PhaseSummary, c: str) -> None:
    its = phase.per_iteration
    x = np.array([s.iteration for s in its], dtype=float)
    y = np.array([spec.mean(s) for s in its]) * spec.scale
    evaluation = phase.phase == EVALUATION
    dense = len(x) > DENSE_POINTS  # markers on hundreds of points hide the line
    ax.plot(
        x, y, color=c, ls="--" if evaluation else "-",
        marker=None if dense else ("s" if evaluation else "o"), lw=1.6 if dense else None,
        label=f"{phase.source} · {phase.phase}",
    )  # fmt: skip
    if spec.std is not None and len(x) > 1:
        sd = np.array([spec.std(s) for s in its]) * spec.scale
        ax.fill_between(x, y - sd, y + sd, color=c, alpha=0.10 if evaluation else 0.18, lw=0)


def plot_lap_times(tables: Sequence[tuple[int, EpisodeTable]], path: Path) -> Path | None:
    """Histogram of completed-lap times, sources overlaid; None (nothing written) without laps."""
    laps = [(i, t.source, t.lap_time[np.isfinite(t.lap_time)]) for i, t in tables]
    laps = [entry for entry in laps if len(entry[2])]
    if not laps:
        return None
    every = np.concatenate([v for _, _, v in laps])
    width = max(0.1, float(np.ptp(every)) / 20)
    lo, hi = float(every.min()) - width, float(every.max()) + width
    bins = np.arange(lo, hi + width, width)
    with figure(path) as fig:
        ax = fig.add_subplot()
        labels = [f"{name}: {_plural(len(v), 'lap')}, best {v.min():.2f} s" for _, name, v in laps]
        ax.hist(
            [v for _, _, v in laps], bins=bins.tolist(), color=[colour(i) for i, _, _ in laps],
            label=labels,
        )  # fmt: skip
        ax.set_title("Lap times of completed laps")
        ax.set_xlabel("lap time (s)")
        ax.set_ylabel("laps")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        ax.set_ylim(0, ax.get_ylim()[1] * (1.2 + 0.1 * len(laps)))  # room for the legend
        _legend(ax)
    return path


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def plot_actions(steps: StepTable, path: Path) -> Path:
    """How often each action was chosen (discrete), or steering × speed density (continuous)."""
    moving = steps.select(steps.episode_status != "prepare")
    with figure(path) as fig:
        ax = fig.add_subplot()
        if moving.continuous:
            _continuous_histogram(fig, ax, moving)
        else:
            _discrete_histogram(ax, moving)
        ax.set_title(f"Actions chosen · {steps.source}", pad=14)
    return path


def _discrete_histogram(ax: Axes, steps: StepTable) -> None:
    ok = np.isfinite(steps.action)
    actions = steps.action[ok].astype(np.int64)
    index, counts = np.unique(actions, return_counts=True)
    labels = []
    for a in index:
        rows = actions == a
        steer = float(np.median(steps.steer[ok][rows]))
        speed = float(np.median(steps.throttle[ok][rows]))
        labels.append(f"{a}\n{steer:+.0f}°\n{speed:.1f} m/s")
    share = 100.0 * counts / max(1, counts.sum())
    ax.bar(range(len(index)), share, color=colour(0), edgecolor="#0b2a5a")
    ax.set_xticks(range(len(index)), labels, fontsize=12 if len(index) > 10 else 14)
    ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_xlabel("action (index, steering, speed)")
    ax.set_ylabel("share of steps")
    ax.grid(axis="x", visible=False)


def _continuous_histogram(fig: Figure, ax: Axes, steps: StepTable) -> None:
    reach = max(5.0, float(np.nanmax(np.abs(steps.steer))) if len(steps) else 30.0)
    lo, hi = (
        (float(np.nanmin(steps.throttle)), float(np.nanmax(steps.throttle)))
        if len(steps)
        else (0, 1)
    )
    lo, hi = (lo - 0.1, hi + 0.1) if hi - lo < 0.05 else (lo, hi)
    h = ax.hist2d(
        steps.steer, steps.throttle, bins=(31, 20), range=np.array([[-reach, reach], [lo, hi]]),
        cmap="viridis", norm=LogNorm(), cmin=1,
    )  # fmt: skip
    bar = fig.colorbar(h[3], ax=ax)
    bar.set_label("steps (log scale)")
    ax.set_xlabel("steering (°, + = left)")
    ax.set_ylabel("speed (m/s)")
    ax.grid(visible=False)
