"""``racer reward``: check reward functions and list the shipped examples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(no_args_is_help=True, add_completion=False)


def _resolve(file_or_example: str) -> Path:
    """A reward file path, or the file of a shipped example of that name."""
    from racer.rewards.library import example_path, list_examples

    path = Path(file_or_example).expanduser()
    stem = file_or_example.removesuffix(".py")
    if path.is_file() or (file_or_example.endswith(".py") and stem not in list_examples()):
        return path  # a missing file is reported by the loader
    return example_path(file_or_example)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


@app.command("check")
def check(
    file_or_example: Annotated[
        str, typer.Argument(help="A reward function file, or the name of a shipped example.")
    ],
    track: Annotated[str, typer.Option("--track", "-t", help="Track to drive.")] = "reinvent_base",
    speed: Annotated[
        float, typer.Option(help="Commanded speed of the scripted laps, m/s.", min=0.1, max=4.0)
    ] = 1.0,
) -> None:
    """Drive scripted laps through typical situations and report the rewards.

    DeepRacer's validate button, better: every situation (centre line, borders, off track, wrong
    way, boxes, crash) runs with real params. Exits with status 1 on a reward function error.
    """
    from racer.rewards.check import check_reward
    from racer.rewards.library import UnknownExampleError
    from racer.rewards.loader import RewardLoadError
    from racer.sim.track_registry import get_track

    console = Console()
    try:
        path = _resolve(file_or_example)
        the_track = get_track(track)
        report = check_reward(path, the_track, speed=speed)
    except (UnknownExampleError, RewardLoadError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None

    table = Table(title=f"{report.reward_path.name} on {report.track_name} at {speed:g} m/s")
    table.add_column("situation", no_wrap=True, min_width=16)
    for col in ("steps", "min", "mean", "max", "zeros", "negative"):
        table.add_column(col, justify="right")
    table.add_column("status")
    for s in report.situations:
        status = "[red]error[/]" if s.error else "ok"
        table.add_row(
            s.name,
            str(s.count),
            _fmt(s.minimum),
            _fmt(s.mean),
            _fmt(s.maximum),
            f"{s.zero_fraction:.0%}",
            f"{s.negative_fraction:.0%}",
            status,
        )
    console.print(table)
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    for name, message in report.errors:
        console.print(f"[bold red]error in situation {name}:[/]", highlight=False)
        console.print(message, markup=False, highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)
    console.print("[green]no errors[/]")


@app.command("list")
def list_() -> None:
    """List the example reward functions shipped with racer."""
    from racer.rewards.library import example_summary, list_examples

    table = Table(title="example reward functions (use the name with `racer reward check`)")
    table.add_column("name")
    table.add_column("what it teaches")
    for name in list_examples():
        table.add_row(name, example_summary(name))
    Console().print(table)
