"""``racer analyze``: summarise and chart training and evaluation logs (racer's and DeepRacer's)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from racer.cli.errors import fail_on_user_error

if TYPE_CHECKING:
    from racer.analyze import AnalysisReport, PhaseSummary

MAX_ITERATION_ROWS = 25
"""Longer per-iteration tables show every k-th iteration (and the last)."""


def analyze(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Run folders (models/NAME), simtrace CSVs, RoboMaker logs or DeepRacer "
            ".tar.gz log downloads. Several are overlaid in the charts.",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the PNGs.")] = Path(
        "analysis"
    ),
    track: Annotated[
        str | None,
        typer.Option(help="Track for the maps (default: the run's config.yaml, else guessed)."),
    ] = None,
    episodes_per_iteration: Annotated[
        int,
        typer.Option(min=1, help="Episodes per iteration for logs that do not mark iterations."),
    ] = 20,
) -> None:
    """Summarise training and evaluation logs and draw charts: reward, progress, laps, maps."""
    from racer.analyze import LogFormatError
    from racer.analyze import analyze as run_analysis

    console = Console()
    err = Console(stderr=True)
    try:
        with fail_on_user_error(err):
            report = run_analysis(
                paths, out, track=track, episodes_per_iteration=episodes_per_iteration
            )
    except LogFormatError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    print_report(console, report)


def _num(value: float, fmt: str = "{:.1f}", unit: str = "") -> str:
    return "–" if math.isnan(value) else fmt.format(value) + unit


def _pct(value: float) -> str:
    return _num(100.0 * value, "{:.0f}", "%")


def print_report(console: Console, report: AnalysisReport) -> None:
    """Print sources, the summary table, per-iteration tables, files and notes."""
    for r in report.sources:
        s = r.source
        skipped = f", {len(s.skipped)} duplicate file(s) skipped" if s.skipped else ""
        console.print(
            f"[bold]{s.label}[/]: {s.path} ({s.container}, {', '.join(s.formats)}, "
            f"{len(s.files)} file(s){skipped}); track: {r.track.name or '–'} ({r.track.how})",
            highlight=False,
        )
    phases = [p for r in report.sources for p in r.summaries]
    console.print(_summary_table(phases))
    for p in phases:
        console.print(_iteration_table(p))
    console.print(f"Wrote {len(report.files)} files to [bold]{report.out_dir}[/]:", highlight=False)
    for f in report.files:
        console.print(f"  {f.name}", highlight=False)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


_SUMMARY_ROWS: tuple[tuple[str, Callable[[PhaseSummary], str]], ...] = (
    (
        "episodes",
        lambda p: str(p.episodes) + (f" (+{p.unfinished} cut off)" if p.unfinished else ""),
    ),
    ("iterations", lambda p: str(p.iterations)),
    ("completed laps", lambda p: _pct(p.completion_rate)),
    ("mean progress", lambda p: _num(p.mean_progress, unit="%")),
    ("mean reward / episode", lambda p: _num(p.mean_reward)),
    ("best lap", lambda p: _num(p.best_lap, "{:.2f}", " s")),
    ("mean lap", lambda p: _num(p.mean_lap, "{:.2f}", " s")),
    ("median lap", lambda p: _num(p.median_lap, "{:.2f}", " s")),
    ("went off track", lambda p: _pct(p.offtrack_rate)),
    ("steps / episode", lambda p: _num(p.steps_per_episode, "{:.0f}")),
)


def _summary_table(phases: list[PhaseSummary]) -> Table:
    """One column per source and phase, one row per number."""
    table = Table(title="Summary", caption="Lap times: completed laps only (tstamp span).")
    table.add_column("")
    for p in phases:
        table.add_column(f"{p.source}\n{p.phase}", justify="right")
    for name, cell in _SUMMARY_ROWS:
        table.add_row(name, *(cell(p) for p in phases))
    return table


def _iteration_table(p: PhaseSummary) -> Table:
    rows = list(p.per_iteration)
    step = max(1, math.ceil(len(rows) / MAX_ITERATION_ROWS))
    shown = rows[::step] + ([rows[-1]] if step > 1 and (len(rows) - 1) % step else [])
    caption = f"every {step}th iteration shown" if step > 1 else None
    table = Table(title=f"{escape(p.source)} · {p.phase} per iteration", caption=caption)
    for name in ("iter", "episodes", "reward", "progress", "complete"):
        table.add_column(name, justify="right")
    for it in shown:
        table.add_row(
            str(it.iteration), str(it.episodes),
            f"{_num(it.reward_mean)} ± {_num(it.reward_std)}",
            f"{_num(it.progress_mean)}%", _pct(it.completion_rate),
        )  # fmt: skip
    return table
