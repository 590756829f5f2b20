"""``racer drive``: run an exported model over a camera, a video or frames, as the car would."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from racer.cli.errors import fail_on_user_error


def _line(result: Any) -> str:
    """One frame as a printed line."""
    c = result.command
    action = "" if c.index is None else f"action {c.index:>2}  "
    pwm = "" if result.pwm is None else f"  pwm {result.pwm[0]}/{result.pwm[1]}"
    return (
        f"frame {result.index:>5}  {action}{c.steering_angle:+5.1f} deg {c.speed:4.2f} m/s  ->  "
        f"steering {c.steering:+.3f}  throttle {c.throttle:.3f}{pwm}  {result.latency_ms:5.2f} ms"
    )


def drive(
    model: Annotated[
        Path,
        typer.Argument(
            help="Exported model: NAME.tar.gz (DeepRacer), NAME.onnx or an OpenVINO IR folder.",
            show_default=False,
        ),
    ],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="camera:N, a video file (e.g. an evaluation's camera.avi) or a folder of images.",
            show_default=False,
        ),
    ],
    max_speed: Annotated[
        float,
        typer.Option(min=0.0, max=100.0, help="The car's maximum speed setting, percent."),
    ] = 50.0,
    servo: Annotated[
        Path | None,
        typer.Option(help="Servo calibration (YAML/JSON) to print PWM pulse widths too."),
    ] = None,
    log: Annotated[Path | None, typer.Option(help="Write one CSV row per frame here.")] = None,
    max_frames: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many frames.")
    ] = None,
    runtime: Annotated[str, typer.Option(help="auto, openvino or onnxruntime.")] = "auto",
    threads: Annotated[int, typer.Option(min=1, help="Inference threads.")] = 1,
    precision: Annotated[
        str, typer.Option(help="OpenVINO CPU precision: f32, f16 (as the car) or bf16.")
    ] = "f32",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
) -> None:
    """Drive a model over frames exactly as the physical car would, without moving anything.

    Every frame: the car's preprocessing (160x120, BGR to gray), the network, the car's mapping.
    Prints or logs the action, servo commands and latency of each frame, then a summary.
    Replay an evaluation's camera.avi to check an export before it goes on the car.
    """
    from racer.drive import drive as run_drive

    console = Console()
    with fail_on_user_error(console):
        summary = run_drive(
            model,
            source,
            max_speed=max_speed,
            servo=servo,
            runtime=runtime,
            max_frames=max_frames,
            log=log,
            threads=threads,
            precision=precision,
            on_frame=None
            if quiet
            else lambda r: console.print(_line(r), highlight=False, soft_wrap=True),
        )
    console.print(_table(summary))
    if log is not None:
        console.print(f"Per-frame log in [bold]{escape(str(log))}[/]")


def _table(summary: Any) -> Table:
    """Latency percentiles and throughput as a rich table."""
    table = Table(
        title=f"{summary.model.name} · {summary.format} on {summary.runtime} · {summary.source}"
    )
    for col in ("Stage", "p50 (ms)", "p99 (ms)", "mean (ms)"):
        table.add_column(col, justify="left" if col == "Stage" else "right")
    for label, stats in (
        ("preprocess", summary.preprocess),
        ("inference", summary.inference),
        ("total", summary.latency),
    ):
        table.add_row(label, f"{stats.p50:.2f}", f"{stats.p99:.2f}", f"{stats.mean:.2f}")
    stopped = " (stopped by Ctrl-C)" if summary.interrupted else ""
    table.caption = (
        f"{summary.frames} frames{stopped} · {summary.fps:.1f} fps with reading the source · "
        f"{1000.0 / max(summary.latency.mean, 1e-9):.0f} fps of preprocessing + inference"
    )
    return table
