"""``racer evaluate``: race a trained model under DeepRacer's evaluation rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from racer.cli.errors import fail_on_user_error
from racer.evaluate.config import EvalConfigError

_GRID = "Grid (several models, tracks, perturbations; optionally on Ray)"


def _load(model: str, which: str) -> Any:
    """The trained policy (``racer.train.policy.load_policy``, imported only here)."""
    from racer.train.policy import load_policy

    return load_policy(model, which=which)


def _model_dir(model: str, loaded: Any) -> Path:
    """The run folder the results go under."""
    for attr in ("run_dir", "path", "folder"):
        value = getattr(loaded, attr, None)
        if isinstance(value, str | Path) and Path(value).is_dir():
            return Path(value)
    p = Path(model)
    if p.suffix == ".zip":
        return p.parent
    return p if p.is_dir() or len(p.parts) > 1 else Path("models") / model


def evaluate(
    model: Annotated[
        str | None,
        typer.Argument(help="Model: a name under models/, a run folder, or a model .zip."),
    ] = None,
    track: Annotated[
        str | None,
        typer.Option(
            help="Track (any `racer tracks list` name, generated:SEED); default: the model's."
        ),
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Trials, each a lap from the start line.")] = 3,
    race_type: Annotated[
        str | None,
        typer.Option(help="time-trial, object-avoidance or head-to-bot; default: the model's."),
    ] = None,
    off_track_penalty: Annotated[float, typer.Option(help="Seconds frozen after off-track.")] = 5.0,
    collision_penalty: Annotated[float, typer.Option(help="Seconds frozen after a crash.")] = 5.0,
    laps: Annotated[int, typer.Option(min=1, help="Laps per trial.")] = 1,
    max_time: Annotated[
        float, typer.Option(help="Time cap of a trial, simulated seconds incl. penalties.")
    ] = 180.0,
    video: Annotated[
        bool,
        typer.Option(
            "--video",
            help="Also write video.mp4 (and camera.avi, the frames a camera model "
            "decided on, for racer drive).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same results.")] = 0,
    reverse: Annotated[bool, typer.Option("--reverse", help="Drive the track backwards.")] = False,
    boxes: Annotated[int | None, typer.Option(help="Boxes (object avoidance), 1-6.")] = None,
    random_boxes: Annotated[
        bool | None,
        typer.Option("--random-boxes/--fixed-boxes", help="New box places each trial."),
    ] = None,
    bots: Annotated[int | None, typer.Option(help="Bot cars (head-to-bot), 1-6.")] = None,
    bot_speed: Annotated[float | None, typer.Option(help="Bot speed, m/s (0.2-6).")] = None,
    which: Annotated[str, typer.Option(help="Weights to load: best or latest.")] = "best",
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder; default models/NAME/evaluation/<run-id>."),
    ] = None,
    robustness: Annotated[
        bool,
        typer.Option(
            "--robustness",
            help="Race clean, under each sim-to-real perturbation and all together (same "
            "seeds); print the table, write robustness.json. See docs/sim-to-real.md.",
        ),
    ] = False,
    strength: Annotated[
        float,
        typer.Option(
            min=0.0, help="--robustness test strength, a multiple of the sim2real preset."
        ),
    ] = 1.0,
    randomize: Annotated[
        list[str] | None,
        typer.Option(
            "--randomize",
            help="Race under domain randomisation: KEY=VALUE,... or sim2real (repeatable).",
        ),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(help="Grid: models A,B,... (with NAME, if given).", rich_help_panel=_GRID),
    ] = None,
    tracks: Annotated[
        str | None,
        typer.Option(help="Grid: tracks T1,T2,... (default: --track).", rich_help_panel=_GRID),
    ] = None,
    perturbations: Annotated[
        str | None,
        typer.Option(
            help="Grid: perturbations clean,noise,... (the --robustness rows; default clean).",
            rich_help_panel=_GRID,
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            help="Grid: run each cell as a task on the Ray cluster at ADDRESS (local, auto, "
            "HOST:6379); see docs/scaling.md.",
            rich_help_panel=_GRID,
        ),
    ] = None,
    models_dir: Annotated[
        Path, typer.Option(help="Grid: where model names are found.", rich_help_panel=_GRID)
    ] = Path("models"),
) -> None:
    """Race a model DeepRacer's way: trials, penalties, lap times, logs, a picture, a video.

    Results go to models/NAME/evaluation/<track>-<race_type>-seed<k>/: the simtrace
    (evaluation-simtrace/0-iteration.csv), metrics.json, laps.png and, with --video,
    video.mp4 (plus camera.avi for a camera model: the exact frames it decided on, which
    `racer drive` replays).
    With --robustness also robustness.json and robustness/<perturbation>/.

    Grid mode (--models, --tracks, --perturbations or --ray): every model x track x
    perturbation cell, one evaluation each, locally or on Ray; prints one table and writes
    grid.json and grid.csv into --out (default out/grid). See docs/scaling.md.
    """
    from racer.evaluate import eval_config_for_model
    from racer.evaluate import evaluate as run_evaluation
    from racer.evaluate.config import randomization_from_settings
    from racer.train.options import parse_randomize_option

    console = Console()
    if models or tracks or perturbations or ray:
        grid = {"ray": ray, "models_dir": models_dir, "which": which, "trials": trials,
                "seed": seed, "strength": strength, "out": out}  # fmt: skip
        race = {"race_type": race_type, "boxes": boxes, "random_boxes": random_boxes,
                "bots": bots, "bot_speed": bot_speed, "reverse": reverse, "laps": laps,
                "off_track_penalty": off_track_penalty, "collision_penalty": collision_penalty,
                "max_time": max_time}  # fmt: skip
        refused = {"--robustness": robustness, "--video": video, "--randomize": bool(randomize)}
        names = _split(models) if model is None else [model, *_split(models)]
        ways = (_split(tracks) or _split(track), _split(perturbations) or ["clean"])
        _grid(console, names, *ways, grid=grid, race=race, refused=refused)
        return
    with fail_on_user_error(console):
        if model is None:
            raise EvalConfigError("give a model NAME (or --models A,B --tracks T1,T2 for a grid)")
        randomization = randomization_from_settings(parse_randomize_option(randomize))
        if robustness and randomization.enabled:
            raise EvalConfigError("--robustness sets its own perturbations; drop --randomize")
        loaded = _load(model, which)
        config = eval_config_for_model(
            loaded.config,
            track=track,
            race_type=race_type,
            boxes=boxes,
            random_boxes=random_boxes,
            bots=bots,
            bot_speed=bot_speed,
            reverse=reverse,
            trials=trials,
            laps=laps,
            off_track_penalty=off_track_penalty,
            collision_penalty=collision_penalty,
            seed=seed,
            max_time=max_time,
            randomization=randomization,
        )
        out_dir = out or _model_dir(model, loaded) / "evaluation" / config.run_id
        name = Path(model).stem if model.endswith(".zip") else Path(model).name
        console.print(
            f"Evaluating [bold]{name}[/] on [bold]{config.track}[/]"
            f"{' (reversed)' if config.reverse else ''}: {config.race_type.replace('_', ' ')}, "
            f"{config.trials} trial(s), seed {config.seed}"
            f"{' (randomised)' if randomization.enabled else ''}"
        )
        if robustness:
            _robustness(console, loaded, config, out_dir, name, strength, video)
            return
        report = run_evaluation(
            loaded,
            config,
            out_dir,
            video=video,
            model_config=loaded.config,
            model_name=name,
            on_trial=lambda t: console.print(
                f"  trial {t.trial}: {t.status.replace('_', ' ')} in {t.time:.2f} s",
                highlight=False,
            ),
        )
    console.print(_table(report))
    console.print(f"Results in [bold]{report.out_dir}[/]")


def _robustness(
    console: Console,
    loaded: Any,
    config: Any,
    out_dir: Path,
    name: str,
    strength: float,
    video: bool,
) -> None:
    """Run the robustness suite and print its table."""
    from racer.evaluate.robustness import evaluate_robustness

    report = evaluate_robustness(
        loaded,
        config,
        out_dir,
        strength=strength,
        model_config=loaded.config,
        model_name=name,
        video=video,
        on_row=lambda r: console.print(
            f"  {r.perturbation}: {r.completed}/{r.trials} completed", highlight=False
        ),
    )
    console.print(_robustness_table(report))
    if report.skipped:
        console.print(f"Skipped (no camera): {', '.join(report.skipped)}", highlight=False)
    console.print(f"Results in [bold]{report.files['robustness']}[/]")


RESULT_COLUMNS = ("Completed", "Best lap", "Mean lap", "Progress", "Off", "Crash")
"""The columns of one robustness or grid result, in :func:`_result_cells`' order."""


def _result_cells(r: Any, style: str) -> list[str]:
    """A robustness or grid result's cells: completion (in ``style``), laps, progress, events."""
    return [
        f"[{style}]{100 * r.completion_rate:.0f} %[/]",
        "—" if r.best_lap_time is None else f"{r.best_lap_time:.2f} s",
        "—" if r.mean_lap_time is None else f"{r.mean_lap_time:.2f} s",
        f"{r.mean_progress:.0f} %",
        str(r.off_track_count),
        str(r.crash_count),
    ]


def _robustness_table(report: Any) -> Table:
    """One row per perturbation: completion, lap times, progress, off-tracks and crashes."""
    table = Table(
        title=f"Robustness · {report.track} · {report.config.race_type.replace('_', ' ')} · "
        f"strength {report.strength:g}"
    )
    for col in ("Perturbation", *RESULT_COLUMNS):
        table.add_column(col, justify="left" if col == "Perturbation" else "right")
    clean = report.baseline.completion_rate
    for row in report.rows:
        style = "green" if row.completion_rate >= clean else "red"
        table.add_row(row.perturbation, *_result_cells(row, style))
    table.caption = (
        f"{report.config.trials} trial(s) per row, seed {report.config.seed}; each row "
        "randomises only its own options, at the ends of their ranges (docs/sim-to-real.md)"
    )
    return table


def _table(report: Any) -> Table:
    """The per-trial results and the totals as a rich table."""
    table = Table(title=f"{report.track} · {report.config.race_type.replace('_', ' ')}")
    for col in ("Trial", "Status", "Time (s)", "Progress", "Off-track", "Crashes", "Penalty (s)"):
        table.add_column(col, justify="left" if col == "Status" else "right")
    for t in report.trials:
        style = "green" if t.completed else "red"
        table.add_row(
            str(t.trial),
            f"[{style}]{t.status.replace('_', ' ')}[/]",
            f"{t.time:.2f}",
            f"{t.progress:.0f} %",
            str(t.off_track_count),
            str(t.crash_count),
            f"{t.penalty_time:g}",
        )
    best = "—" if report.best_lap_time is None else f"{report.best_lap_time:.2f} s"
    mean = "—" if report.mean_lap_time is None else f"{report.mean_lap_time:.2f} s"
    ratio = report.best_lap_ratio
    yardstick = (
        f" · optimal {report.optimal_lap_time:.2f} s (best = {ratio:.2f} x optimal)"
        if ratio is not None
        else ""
    )
    table.caption = (
        f"completed {report.completed}/{len(report.trials)} "
        f"({100 * report.completion_rate:.0f} %) · best {best} · mean {mean}{yardstick}"
    )
    return table


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _grid(
    console: Console,
    models: list[str],
    tracks: list[str],
    perturbations: list[str],
    *,
    grid: dict[str, Any],
    race: dict[str, Any],
    refused: dict[str, bool],
) -> None:
    """Evaluate every model x track x perturbation cell and print the table."""
    from rich.markup import escape

    from racer.evaluate.grid import GridCellError, evaluate_grid

    with fail_on_user_error(console):
        for flag, given in refused.items():
            if given:
                raise EvalConfigError(f"{flag} is for one evaluation; a grid cannot take it")
        if not models or not tracks:
            raise EvalConfigError("a grid needs models (NAME or --models A,B) and --tracks T1,T2")
        try:
            report = evaluate_grid(
                models,
                tracks,
                perturbations,
                trials=grid["trials"],
                seed=grid["seed"],
                out_dir=grid["out"] or Path("out/grid"),
                models_dir=grid["models_dir"],
                address=grid["ray"],
                which=grid["which"],
                strength=grid["strength"],
                race={k: v for k, v in race.items() if v is not None},
                on_cell=lambda cell, row: console.print(_cell_line(cell, row), highlight=False),
            )
        except (GridCellError, ConnectionError) as exc:
            console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from exc
    console.print(_grid_table(report))
    console.print(f"Results in [bold]{report.files['csv'].parent}[/]")


def _cell_line(cell: Any, row: Any) -> str:
    if row is None:
        return f"  {cell}: skipped (no camera)"
    return f"  {cell}: {row.result.completed}/{row.result.trials} completed"


def _grid_table(report: Any) -> Table:
    """One row per cell: completion, best and mean lap, progress, off-tracks and crashes."""
    table = Table(title=f"Evaluation grid · {report.settings.trials} trial(s) per cell")
    for col in ("Model", "Track", "Perturbation"):
        table.add_column(col)
    for col in RESULT_COLUMNS:
        table.add_column(col, justify="right")
    for row in report.rows:
        r = row.result
        style = "green" if r.completion_rate == 1 else "yellow" if r.completed else "red"
        table.add_row(row.model, row.track, r.perturbation, *_result_cells(r, style))
    if report.skipped:
        table.caption = f"{len(report.skipped)} camera cell(s) skipped: the model has no camera"
    return table
