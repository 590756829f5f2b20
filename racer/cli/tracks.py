"""``racer tracks``: list, show, import and generate tracks (thin wrappers over racer.sim)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from racer.sim.track_registry import get_track, import_deepracer, list_tracks
from racer.sim.trackgen import DEFAULT_LENGTH, DEFAULT_MIN_RADIUS, DEFAULT_WIDTH, generate_track
from racer.sim.trackio import TrackError, save_track

app = typer.Typer(no_args_is_help=True, add_completion=False)
console = Console()
err_console = Console(stderr=True)


def _fail(exc: Exception, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def safe_file_name(name: str) -> str:
    """A file-name-safe form of a track name: ``generated:3:reverse`` -> ``generated_3_reverse``."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem if name.endswith(".json") else name)
    return cleaned.strip("._") or "track"


_DIRECTIONS = {"counterclockwise": "CCW", "clockwise": "CW"}


@app.command("list")
def list_command() -> None:
    """List built-in and user tracks with length, width and direction."""
    table = Table(caption="Add ':reverse' to a name to drive the track the other way.")
    table.add_column("name", no_wrap=True)
    table.add_column("display name")
    table.add_column("length", justify="right", no_wrap=True)
    table.add_column("width", justify="right", no_wrap=True)
    table.add_column("dir", no_wrap=True)
    table.add_column("source", no_wrap=True)
    for info in list_tracks():
        width = (
            f"{info.min_width:.2f} m"
            if info.max_width - info.min_width < 0.01
            else f"{info.min_width:.2f}–{info.max_width:.2f} m"
        )
        table.add_row(
            info.name,
            info.display_name,
            f"{info.length:.2f} m",
            width,
            _DIRECTIONS.get(info.direction, info.direction),
            info.source,
        )
    console.print(table)


@app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="Track name, NAME:reverse, generated:SEED or file.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="PNG file to write (default: NAME.png).")
    ] = None,
) -> None:
    """Draw a track to a PNG file and print its path."""
    from racer.viz.trackplot import plot_track

    try:
        track = get_track(name)
    except TrackError as exc:
        raise _fail(exc) from None
    path = out or Path(f"{safe_file_name(name)}.png")
    try:
        written = plot_track(track, path)
    except OSError as exc:
        raise _fail(exc) from None
    console.print(str(written), highlight=False, soft_wrap=True)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="DeepRacer (N, 6) waypoint .npy file.")],
    name: Annotated[str | None, typer.Option(help="Track name (default: file name).")] = None,
    display_name: Annotated[str | None, typer.Option(help="Human-readable name.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option(help="Folder to write to (default: $RACER_HOME/tracks).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Convert a DeepRacer waypoint file into a racer track and print where it was written."""
    try:
        written = import_deepracer(
            file, name=name, display_name=display_name, out_dir=out_dir, overwrite=force
        )
    except TrackError as exc:
        raise _fail(exc) from None
    console.print(str(written), highlight=False, soft_wrap=True)


@app.command("generate")
def generate_command(
    seed: Annotated[int, typer.Argument(help="Random seed; the same seed gives the same track.")],
    width: Annotated[float, typer.Option(help="Track width, metres.")] = DEFAULT_WIDTH,
    min_radius: Annotated[
        float, typer.Option(help="Smallest turn radius, metres.")
    ] = DEFAULT_MIN_RADIUS,
    length: Annotated[float, typer.Option(help="Approximate length, metres.")] = DEFAULT_LENGTH,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the track as JSON (.json) or a picture (.png)."),
    ] = None,
) -> None:
    """Make a random track; print its name (usable anywhere a track name is) or write it."""
    try:
        track = generate_track(seed, width=width, min_radius=min_radius, approx_length=length)
    except ValueError as exc:
        raise _fail(exc, code=2) from None
    if out is None:
        console.print(f"{track.name}  ({track.length:.2f} m, {track.direction})", highlight=False)
        return
    try:
        if out.suffix.lower() == ".png":
            from racer.viz.trackplot import plot_track

            written = plot_track(track, out)
        else:
            written = save_track(track, out)
    except (TrackError, OSError) as exc:
        raise _fail(exc) from None
    console.print(str(written), highlight=False, soft_wrap=True)


@app.command("optimal")
def optimal_command(
    name: Annotated[str, typer.Argument(help="Track name, NAME:reverse, generated:SEED or file.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="PNG file to write (default: NAME_optimal.png)."),
    ] = None,
    drive: Annotated[
        bool, typer.Option(help="Also drive the line in the simulator and report the lap.")
    ] = False,
) -> None:
    """Compute the fastest possible lap: measured car limits, racing line, lap times, picture."""
    from racer.sim.car_limits import measure_limits
    from racer.sim.racing_line import drive_racing_line, optimal_lap
    from racer.viz.racing_line import plot_racing_line

    try:
        track = get_track(name)
        limits = measure_limits()
        line = optimal_lap(track, limits)
    except (TrackError, ValueError) as exc:
        raise _fail(exc) from None
    console.print(f"car limits (measured): {limits.describe()}", highlight=False, soft_wrap=True)
    console.print(
        f"optimal lap        {line.lap_time:.3f} s  (racing line {line.length:.2f} m)\n"
        f"centre-line lap    {line.centre_lap_time:.3f} s\n"
        f"centre / optimal   {line.centre_lap_time / line.lap_time:.3f}  "
        f"({100 * line.improvement:.1f} % saved by the racing line)",
        highlight=False,
    )
    if drive:
        result = drive_racing_line(track, line)
        if result.lap_time is None:
            console.print("simulator lap      not completed", highlight=False)
        else:
            console.print(
                f"simulator lap      {result.lap_time:.3f} s  ({result.ratio:.3f} × optimal, "
                f"{result.wheels_off_steps} steps with a wheel off)",
                highlight=False,
            )
    path = out or Path(f"{safe_file_name(name)}_optimal.png")
    try:
        written = plot_racing_line(track, line, path)
    except OSError as exc:
        raise _fail(exc) from None
    console.print(str(written), highlight=False, soft_wrap=True)
