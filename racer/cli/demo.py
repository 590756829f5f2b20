"""``racer demo``: the scripted lap and its picture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from racer.cli.errors import fail_on_user_error


def demo(
    track: Annotated[
        str, typer.Option(help="Track to lap (any name `racer tracks list` shows).")
    ] = "reinvent_base",
    out_dir: Annotated[Path, typer.Option(help="Folder for the picture.")] = Path("out/demo"),
) -> None:
    """Drive a scripted lap (pure pursuit) and draw it: racer's simulator at a glance."""
    from racer.demo import run_demo

    console = Console()
    with fail_on_user_error(console):
        lap, path = run_demo(track, out_dir)
    if lap.lap_time is not None:
        console.print(
            f"[bold green]Lap complete[/] on {lap.track}: {lap.lap_time:.2f} s, "
            f"{lap.steps} steps, {lap.off_track_count} off-track"
        )
    else:
        console.print(f"[bold red]No lap[/] on {lap.track}: status {lap.status}")
    console.print(f"Picture of the lap: [bold]{path}[/]")
    if lap.lap_time is None:
        raise typer.Exit(1)
