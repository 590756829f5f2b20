"""``racer demo``: racer's main job — a scripted lap, then a first model trained, raced, charted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from racer.cli.errors import fail_on_user_error


def demo(
    track: Annotated[
        str, typer.Option(help="Track (any name `racer tracks list` shows).")
    ] = "reinvent_base",
    minutes: Annotated[
        float,
        typer.Option(help="Most minutes of training for the first model; 0 skips training."),
    ] = 10.0,
    stop_when_clean: Annotated[
        bool,
        typer.Option(
            "--stop-when-clean/--full-time",
            help="Stop training at the first clean periodic evaluation, or train all the minutes.",
        ),
    ] = True,
    name: Annotated[str, typer.Option(help="Run name of the first model (replaced).")] = "demo",
    out_dir: Annotated[Path, typer.Option(help="Folder for the scripted lap's picture.")] = Path(
        "out/demo"
    ),
    models_dir: Annotated[Path, typer.Option(help="Folder of run folders.")] = Path("models"),
    trials: Annotated[int, typer.Option(min=1, help="Evaluation trials.")] = 3,
    max_time: Annotated[
        float, typer.Option(help="Time cap of an evaluation trial, simulated seconds.")
    ] = 60.0,
) -> None:
    """Drive a scripted lap, then train a small camera model, race it and chart it."""
    from racer.demo import draw_scripted_lap

    console = Console()
    with fail_on_user_error(console):
        lap, picture = draw_scripted_lap(track, out_dir)
    status = f"{lap.lap_time:.2f} s" if lap.lap_time is not None else lap.status
    console.print(f"[bold]1. Scripted lap[/] on {lap.track}: {status}  ->  {picture}")
    if minutes <= 0:
        return
    from racer.first_model import first_model

    until = "until its evaluation laps are clean, at most" if stop_when_clean else "for"
    console.print(f"[bold]2. Training[/] a camera model {until} {minutes:g} minutes (Ctrl-C "
                  "stops and keeps it)")  # fmt: skip
    with fail_on_user_error(console):
        done = first_model(
            name, track, minutes, models_dir, console=console, trials=trials, max_time=max_time,
            stop_when_clean=stop_when_clean,
        )  # fmt: skip
    report = done.evaluation
    table = Table(title=f"3. Evaluation of {name} on {track}: {trials} trials, DeepRacer's rules")
    for column in ("trial", "result", "lap time", "off-tracks"):
        table.add_column(column)
    for i, t in enumerate(report.trials, 1):
        lap_time = f"{t.lap_time:.2f} s" if t.lap_time is not None else "-"
        table.add_row(str(i), t.status, lap_time, str(t.off_track_count))
    console.print(table)
    files = report.files
    console.print("[bold]Where to look[/]")
    console.print(f"  video:         {files.get('video')}")
    console.print(f"  laps picture:  {files.get('laps')}")
    console.print(f"  charts:        {done.analysis_dir}/")
    console.print(f"  model folder:  {done.training.run_dir}/")
