"""``racer submit`` and ``racer join``: enter a model in a race on a racer race server."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from racer.cli.errors import fail_on_user_error
from racer.export.errors import ExportError
from racer.server.client import NO_TOKEN, RaceClient, ServerError
from racer.server.uploads import UploadError
from racer.train.run import find_model

METADATA_FILE = "model_metadata.json"
SERVER_HELP = "The race server's address, e.g. http://localhost:8000."


def _onnx_file(path: Path) -> tuple[Path, Path | None]:
    """An ``.onnx`` file to upload and the ``model_metadata.json`` beside it, if there is one."""
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    beside = path.with_name(METADATA_FILE)
    return path, beside if beside.is_file() else None


def _export(model: str, dest: Path, models_dir: Path, which: str, console: Console) -> Path:
    """Export a trained model (run name, run folder or model .zip) to ONNX at ``dest``."""
    try:
        from racer.export import export_policy
    except ImportError as exc:
        raise ExportError(
            f"exporting a trained model needs {exc.name or 'PyTorch'}: pip install "
            "'racer[train,export]', or submit an .onnx file written by `racer export`"
        ) from None
    console.print(
        f"Exporting [bold]{escape(model)}[/] ({which} weights) to ONNX, checking it on "
        "1000 simulator frames ...",
        highlight=False,
    )
    result = export_policy(model, "onnx", dest, models_dir=models_dir, which=which)
    return Path(result.path)


def _default_name(model: str) -> str:
    """The leaderboard name of a model: its file or run folder's name."""
    path = Path(model)
    return path.stem if path.suffix.lower() in (".onnx", ".zip") else path.name or model


def _seconds(value: Any) -> str:
    """A time in seconds as printed; a dash when there is none."""
    if isinstance(value, dict):
        value = value.get("time", value.get("seconds"))
    return f"{float(value):.3f} s" if isinstance(value, int | float) else "—"


def _rank(client: RaceClient, race: str, entry: dict[str, Any]) -> str:
    """The submission's place on the leaderboard, if the server tells it."""
    if entry.get("rank") is not None:
        return str(entry["rank"])
    try:
        board = client.leaderboard(race)
    except ServerError:
        return "—"
    rows: Any = next((board[k] for k in ("entries", "rows", "leaderboard") if k in board), [])
    for i, row in enumerate(rows if isinstance(rows, list) else []):
        if isinstance(row, dict) and entry.get("id") in (row.get("submission_id"), row.get("id")):
            return str(row.get("rank", i + 1))
    return "—"


def _result_table(entry: dict[str, Any], rank: str) -> Table:
    """Lap times and the summary of an evaluated submission."""
    name = entry.get("model_name", "model")
    table = Table(title=f"{name} · submission {entry.get('id')}")
    table.add_column("")
    table.add_column("Time", justify="right")
    for i, lap in enumerate(entry.get("lap_times") or [], start=1):
        table.add_row(f"Lap {i}", _seconds(lap))
    table.add_section()
    table.add_row("Best lap", _seconds(entry.get("best_lap")))
    table.add_row("Average lap", _seconds(entry.get("average_lap")))
    table.add_row("Total", _seconds(entry.get("total_time")))
    for label, key in (("Laps", "laps_completed"), ("Off-track", "off_tracks")):
        table.add_row(label, str(entry.get(key, "—")))
    table.add_row("Crashes", str(entry.get("crashes", "—")))
    table.add_row("Rank", rank)
    return table


def submit(
    model: Annotated[
        str,
        typer.Argument(
            help="An .onnx file (metadata inside, or a model_metadata.json beside it), or a "
            "trained model: a name under models/, a run folder or a model .zip (exported to "
            "ONNX first).",
            show_default=False,
        ),
    ],
    race: Annotated[
        str, typer.Option("--race", help="The race to enter (its name on the server).")
    ],
    server: Annotated[str, typer.Option("--server", envvar="RACER_SERVER", help=SERVER_HELP)],
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="RACER_TOKEN", help="Your racer token (from racer join)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="The model's name on the leaderboard; default: its file or run name."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the evaluation and show it.")
    ] = True,
    which: Annotated[
        str, typer.Option(help="Weights of a trained model: best or latest.")
    ] = "best",
    models_dir: Annotated[
        Path, typer.Option(help="Folder of run folders (model names are looked up here).")
    ] = Path("models"),
    wait_timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds to wait for the evaluation.")
    ] = 3600.0,
) -> None:
    """Enter a model in a race on a race server, and show its result.

    An .onnx file is uploaded as it is; a trained model is exported to ONNX (and checked)
    first. The server checks the upload, queues an evaluation, and ranks the laps.
    """
    console = Console()
    with fail_on_user_error(console):
        if not token:
            raise ServerError(NO_TOKEN)
        label = name or _default_name(model)
        path = Path(model).expanduser()
        with tempfile.TemporaryDirectory(prefix="racer-submit-") as tmp:
            if path.suffix.lower() == ".onnx":
                upload, metadata = _onnx_file(path)
            elif path.is_file() and path.suffix.lower() != ".zip":
                raise UploadError(
                    415,
                    f"{path} is not an ONNX model; racer submit sends an .onnx file or a "
                    "trained racer model (a name under models/, a run folder or a model .zip)",
                )
            else:
                find_model(model, models_dir, which)  # a clean error before torch loads
                safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label) or "model"
                upload = _export(model, Path(tmp) / f"{safe}.onnx", models_dir, which, console)
                metadata = None
            with RaceClient(server, token) as client:
                entry = client.submit(race, upload, label, metadata)
                url = client.submission_url(entry["id"])
                console.print(
                    f"Submitted [bold]{escape(label)}[/] to [bold]{escape(race)}[/] as "
                    f"submission {entry['id']} ({escape(str(entry.get('state', 'queued')))}): "
                    f"{escape(url)}",
                    highlight=False,
                    soft_wrap=True,
                )
                if not wait:
                    return
                with console.status("Waiting for the evaluation ..."):
                    entry = client.wait(entry["id"], timeout=wait_timeout)
                rank = _rank(client, race, entry) if entry.get("state") == "done" else "—"
    _show(console, entry, rank)


def _show(console: Console, entry: dict[str, Any], rank: str) -> None:
    """The evaluated submission's table, or why it has no result; exit 1 when it has none."""
    state = entry.get("state")
    if state == "done":
        console.print(_result_table(entry, rank))
        return
    reason = entry.get("error") or ("removed from the race" if state == "removed" else "no reason")
    console.print(f"[bold red]{escape(str(state))}:[/] {escape(str(reason))}", highlight=False)
    raise typer.Exit(1)


def join(
    server: Annotated[str, typer.Option("--server", envvar="RACER_SERVER", help=SERVER_HELP)],
    code: Annotated[str, typer.Option("--code", help="The invite code you were given.")],
    name: Annotated[str, typer.Option("--name", help="Your racer name on the leaderboards.")],
) -> None:
    """Join a race server with an invite code, and get your racer token."""
    console = Console()
    with fail_on_user_error(console), RaceClient(server) as client:
        racer = client.redeem(code, name)
    token = str(racer["token"])
    console.print(
        f"Welcome, [bold]{escape(str(racer.get('name', name)))}[/]! Your racer token "
        "(keep it secret):",
        highlight=False,
    )
    console.print(f"  {escape(token)}", highlight=False, soft_wrap=True)
    console.print("Use it with:", highlight=False)
    console.print(
        f"  export RACER_SERVER={escape(server)}\n  export RACER_TOKEN={escape(token)}\n"
        "  racer submit MODEL --race RACE",
        highlight=False,
        soft_wrap=True,
    )
