"""A study's pictures, 16:9 and large-lettered for a projector: history and importances.

``history.png``: each trial's score by trial number (pruned trials at their last score) and
the best so far. ``importance.png``: how much each tuned setting decides whether a trial lands
among the best (PED-ANOVA over the complete trials, Optuna's importance evaluator that needs no
further package); with one tuned setting, the score against that setting instead, and with
fewer than two complete trials, a note saying so.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import optuna
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from optuna.trial import TrialState

from racer.tune.config import TuneConfig
from racer.tune.objectives import OBJECTIVES
from racer.tune.report import TrialRow

SIZE = (16.0, 9.0)
DPI = 110
FONT = 20
COMPLETE = "#1f6fd1"
PRUNED = "#9a9a9a"
BEST = "#1a9e4b"
BAR = "#e07b16"
ROUGH_BELOW = 10
"""Importances over fewer complete trials are flagged as a rough guide."""


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.13, 0.86, 0.7))
    ax.tick_params(labelsize=FONT - 2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _titles(fig: Figure, title: str, subtitle: str) -> None:
    fig.text(0.03, 0.94, title, fontsize=FONT + 8, weight="bold", va="center")
    fig.text(0.03, 0.885, subtitle, fontsize=FONT - 2, color="#555555", va="center")


def _message(fig: Figure, ax: Axes, text: str) -> None:
    ax.set_axis_off()
    fig.text(0.5, 0.5, text, fontsize=FONT + 4, ha="center", va="center", wrap=True)


def plot_history(rows: list[TrialRow], tune: TuneConfig, path: Path) -> Path:
    """Draw ``history.png``: score per trial and the best so far."""
    fig, ax = _figure()
    complete, pruned = _points(rows, "complete"), _points(rows, "pruned")
    failed = sum(r.state == "fail" for r in rows)
    _titles(
        fig,
        f"Optimisation history — study {tune.name}",
        f"{len(complete[0])} complete, {len(pruned[0])} pruned, {failed} failed trials · "
        f"objective: {tune.objective}",
    )
    if not complete[0] and not pruned[0]:
        _message(fig, ax, "No finished trial yet: nothing to draw.")
        fig.savefig(path)
        return path
    if pruned[0]:
        ax.scatter(*pruned, s=160, marker="x", color=PRUNED, linewidths=3,
                   label="pruned (last score)", zorder=2)  # fmt: skip
    if complete[0]:
        numbers, values = complete
        ax.scatter(numbers, values, s=180, color=COMPLETE, label="complete", zorder=3)
        best = list(itertools.accumulate(values, max))
        ax.step(numbers, best, where="post", color=BEST, linewidth=4, label="best so far", zorder=1)
        top = values.index(best[-1])
        ax.annotate(f"best: trial {numbers[top]}\n{values[top]:,.1f}", (numbers[top], values[top]),
                    xytext=(0, 22), textcoords="offset points", fontsize=FONT - 2, color=BEST,
                    weight="bold", ha="center", va="bottom",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})  # fmt: skip
        ax.margins(y=0.22)
    numbers = complete[0] + pruned[0]
    pad = max(0.5, 0.04 * (max(numbers) - min(numbers)))  # whole trial numbers, also for one
    ax.set_xlim(min(numbers) - pad, max(numbers) + pad)
    ax.set_xlabel("trial", fontsize=FONT)
    ax.set_ylabel(OBJECTIVES[tune.objective].label, fontsize=FONT)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=FONT - 4, loc="best", frameon=True, framealpha=0.9)
    fig.savefig(path)
    return path


def _points(rows: list[TrialRow], state: str) -> tuple[list[int], list[float]]:
    """Trial numbers and scores of the trials in ``state``, by number."""
    pairs = sorted((r.number, r.value) for r in rows if r.state == state and r.value is not None)
    return [n for n, _ in pairs], [v for _, v in pairs]


def plot_importance(study: optuna.Study, tune: TuneConfig, path: Path) -> tuple[Path, str | None]:
    """Draw ``importance.png``.

    Returns:
        The path, and a note when the picture is not an importance chart (and why).
    """
    fig, ax = _figure()
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    names = [p.name for p in tune.params]
    note: str | None = None
    if len(complete) < 2:
        note = f"parameter importance needs 2 complete trials; the study has {len(complete)}"
        _titles(fig, f"Parameter importance — study {tune.name}", "not enough trials yet")
        _message(fig, ax, f"Parameter importance needs at least two complete trials;\n"
                          f"this study has {len(complete)}.")  # fmt: skip
    elif len(names) == 1:
        note = f"one tuned setting: importance.png shows the score against {names[0]}"
        _titles(
            fig,
            f"Score against {names[0]} — study {tune.name}",
            f"One tuned setting: its importance is 100 % by definition, so here is how the "
            f"score varies with it ({len(complete)} complete trials).",
        )
        _slice(ax, complete, tune)
    else:
        importances = _importances(study)
        rough = "; few trials: a rough guide" if len(complete) < ROUGH_BELOW else ""
        _titles(
            fig,
            f"Parameter importance — study {tune.name}",
            f"How much each setting decides a place among the best trials "
            f"(PED-ANOVA, {len(complete)} complete trials{rough})",
        )
        _bars(ax, importances)
    fig.savefig(path)
    return path, note


def _importances(study: optuna.Study) -> dict[str, float]:
    evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    return {k: float(v) for k, v in found.items()}


def _bars(ax: Axes, importances: dict[str, float]) -> None:
    names = list(importances)[::-1]  # the largest on top
    left = min(0.45, 0.05 + 0.012 * max(len(n) for n in names))  # room for the names
    ax.set_position((left, 0.13, 0.93 - left, 0.7))
    values = [importances[n] for n in names]
    bars = ax.barh(names, values, color=BAR, height=0.6)
    for bar, value in zip(bars, values, strict=True):
        ax.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2, f"{value:.0%}",
                va="center", fontsize=FONT, weight="bold")  # fmt: skip
    ax.set_xlim(0, 1.12)
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.tick_params(axis="y", labelsize=FONT + 2)
    ax.set_xlabel("importance", fontsize=FONT)
    ax.grid(axis="x", alpha=0.3)


def _slice(ax: Axes, trials: list[Any], tune: TuneConfig) -> None:
    spec = tune.params[0]
    xs = [t.params[spec.name] for t in trials]
    ys = [t.value for t in trials]
    if spec.kind == "choice":
        labels = [str(c) for c in spec.choices]
        positions = [labels.index(str(x)) for x in xs]
        ax.scatter(positions, ys, s=200, color=COMPLETE, zorder=3)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlim(-0.5, len(labels) - 0.5)
    else:
        ax.scatter(xs, ys, s=200, color=COMPLETE, zorder=3)
        if spec.kind == "loguniform":
            ax.set_xscale("log")
    best = max(trials, key=lambda t: t.value)
    value = best.params[spec.name]
    shown = f"{value:.3g}" if isinstance(value, float) else str(value)
    ax.set_xlabel(f"{spec.name}  (best: {shown})", fontsize=FONT)
    ax.set_ylabel(OBJECTIVES[tune.objective].label, fontsize=FONT)
    ax.grid(alpha=0.3)
