"""``racer export``: write a trained model in a format a car loads, checked before it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from racer.cli.errors import fail_on_user_error


def export(
    model: Annotated[
        str, typer.Argument(help="Model: a name under models/, a run folder, or a model .zip.")
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="deepracer (the car's .tar.gz), onnx, or openvino (IR folder).",
        ),
    ] = "deepracer",
    out: Annotated[
        Path | None,
        typer.Option(
            help="File or folder to write, or an existing folder to write into; "
            "default models/NAME/export/."
        ),
    ] = None,
    which: Annotated[str, typer.Option(help="Weights to export: best or latest.")] = "best",
    models_dir: Annotated[
        Path, typer.Option(help="Folder of run folders (model names are looked up here).")
    ] = Path("models"),
    frames: Annotated[
        int,
        typer.Option(
            min=1000,
            help="Simulator frames the exported model is checked on (at least 1000).",
        ),
    ] = 1000,
    precision: Annotated[
        str, typer.Option(help="Weights of an openvino export: fp32 or fp16.")
    ] = "fp32",
    seed: Annotated[int, typer.Option(help="Seed of the check's frames.")] = 0,
) -> None:
    """Export a model for a car and check it with the runtime that will load it.

    The file is loaded by OpenVINO or ONNX Runtime and compared with the trained policy on
    simulator frames first; it is written only if the two agree.
    """
    from racer.export import export_policy

    console = Console()
    with fail_on_user_error(console):
        console.print(
            f"Exporting [bold]{escape(model)}[/] as [bold]{escape(format)}[/], "
            f"checking it on {frames} simulator frames ...",
            highlight=False,
        )
        result = export_policy(
            model,
            format,
            out,
            models_dir=models_dir,
            which=which,
            frames=frames,
            seed=seed,
            precision=precision,
        )
    console.print(_table(result))
    console.print(f"Wrote [bold]{escape(str(result.path))}[/]", highlight=False)


def _table(result: Any) -> Table:
    """The file and the parity figures of every check."""
    report = result.report
    table = Table(title=f"{result.format} export · {_size(result.size_bytes)}")
    for col in ("Runtime", "Weights", "Frames", "Max |diff|", "Allowed", "Argmax agreement"):
        table.add_column(col, justify="left" if col in ("Runtime", "Weights") else "right")
    for check in report.checks:
        agreement = "—" if check.agreement is None else f"{100 * check.agreement:.2f} %"
        style = "green" if check.passed else "red"
        table.add_row(
            check.runtime,
            check.precision,
            str(check.frames),
            f"[{style}]{check.max_abs_diff:.2e}[/]",
            f"{check.tolerance:.0e}",
            agreement,
        )
    table.caption = f"{result.path.name} · checked in {result.seconds:.1f} s"
    return table


def _size(size: int) -> str:
    """Bytes as a short human figure."""
    if size < 1024:
        return f"{size} B"
    if size < 1024**2:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024**2:.1f} MB"
