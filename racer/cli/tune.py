"""``racer tune``: sweep training settings with Optuna and rank the trials."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from racer.cli.errors import fail_on_user_error
from racer.cli.options import panel_option

_SWEEP = "Sweep"
_BASE = "Base run (override the --config file)"
INTERRUPTED_EXIT = 130


def _opt(*names: str, help: str, panel: str = _SWEEP, **kw: object) -> typer.models.OptionInfo:
    return panel_option(*names, help=help, panel=panel, **kw)


def tune(
    param: Annotated[
        list[str] | None,
        _opt(
            "--param",
            "-p",
            help="NAME=DIST:ARGS (repeatable): loguniform:LOW:HIGH, uniform:LOW:HIGH, "
            "int:LOW:HIGH[:STEP], choice:A,B,C (A|B|C when values hold commas).",
        ),
    ] = None,
    config: Annotated[
        Path | None, _opt("--config", "-c", help="Base run's YAML settings file.", panel=_BASE)
    ] = None,
    name: Annotated[
        str | None,
        _opt("--name", "-n", help="Study name: tune/NAME/ (default: the config file's stem)."),
    ] = None,
    trials: Annotated[
        int, _opt("--trials", help="Finished trials the study should have (a rerun adds the rest).")
    ] = 30,
    minutes_per_trial: Annotated[
        float, _opt("--minutes-per-trial", "-m", help="Training minutes per trial and seed.")
    ] = 5.0,
    seeds: Annotated[
        str, _opt("--seeds", help="Seeds per trial, e.g. 0,1 (the score is their mean).")
    ] = "0",
    objective: Annotated[
        str, _opt("--objective", help="laps (completion, then lap time) | progress | reward.")
    ] = "laps",
    storage: Annotated[
        str | None,
        _opt("--storage", help="Study database URL (default sqlite:///tune/NAME/study.db)."),
    ] = None,
    pruning: Annotated[
        bool, _opt("--pruning/--no-pruning", help="Stop trials that trail the median early.")
    ] = True,
    ray: Annotated[
        str | None,
        _opt("--ray", help="Run the trials on a Ray cluster at ADDRESS (docs/scaling.md)."),
    ] = None,
    workers: Annotated[
        int | None,
        _opt("--workers", min=1, help="With --ray: trials at a time (default: CPUs / per trial)."),
    ] = None,
    cpus_per_trial: Annotated[
        int, _opt("--cpus-per-trial", min=1, help="With --ray: CPUs (torch threads) per trial.")
    ] = 1,
    out: Annotated[Path | None, _opt("--out", help="Sweep folder (default tune/NAME).")] = None,
    sampler_seed: Annotated[int, _opt("--sampler-seed", help="Seed of the sampler.")] = 0,
    track: Annotated[str | None, _opt("--track", "-t", help="Track.", panel=_BASE)] = None,
    reward: Annotated[
        str | None, _opt("--reward", "-r", help="Reward file or example.", panel=_BASE)
    ] = None,
    sensor: Annotated[
        list[str] | None, _opt("--sensor", "-s", help="Sensor (repeatable).", panel=_BASE)
    ] = None,
    network: Annotated[str | None, _opt("--network", help="Network.", panel=_BASE)] = None,
    action_space: Annotated[
        str | None,
        _opt("--action-space", help="As for racer train (grid:..., continuous:...).", panel=_BASE),
    ] = None,
    max_steps: Annotated[
        int | None, _opt("--max-steps", help="Env-step cap of each trial run.", panel=_BASE)
    ] = None,
    n_envs: Annotated[int | None, _opt("--n-envs", help="Parallel envs.", panel=_BASE)] = None,
    eval_episodes: Annotated[
        int | None, _opt("--eval-episodes", help="Laps per evaluation.", panel=_BASE)
    ] = None,
    max_episode_steps: Annotated[
        int | None, _opt("--max-episode-steps", help="Training episode cap.", panel=_BASE)
    ] = None,
    models_dir: Annotated[
        Path, _opt("--models-dir", help="Where clone_from run names are found.", panel=_BASE)
    ] = Path("models"),
    quiet: Annotated[bool, _opt("--quiet", "-q", help="No per-trial lines.")] = False,
) -> None:
    """Tune training settings: train a trial per drawn configuration and rank them.

    Each trial trains the base run (--config and the options below) with values drawn for
    every --param, and is scored on its evaluation laps. Results go to tune/NAME/: a ranked
    trials.csv, best.yaml (for racer train --config), history.png and importance.png.
    Ctrl-C stops cleanly; the same command resumes the study.
    """
    from racer.rewards.library import UnknownExampleError
    from racer.train.options import parse_action_space_option, resolve_run
    from racer.tune.config import TuneConfig
    from racer.tune.params import TuneError, parse_params

    console = Console()
    options: dict[str, Any] = {
        "track": track, "reward": reward, "network": network, "max_steps": max_steps,
        "n_envs": n_envs, "eval_episodes": eval_episodes, "max_episode_steps": max_episode_steps,
        "sensors": tuple(sensor) if sensor else None,
    }  # fmt: skip
    try:
        with fail_on_user_error(console):
            if action_space is not None:
                options["action_space"] = parse_action_space_option(action_space)
            base = resolve_run(options, config_file=config, models_dir=models_dir).config
            sweep = TuneConfig(
                name=name or (config.stem if config is not None else "tune"),
                base=base,
                params=parse_params(param or [], base),
                trials=trials,
                minutes_per_trial=minutes_per_trial,
                seeds=_seeds(seeds),
                objective=objective,
                storage=storage,
                out_dir=out,  # type: ignore[arg-type]  # None: tune/NAME
                pruning=pruning,
                sampler_seed=sampler_seed,
                models_dir=models_dir,
            )
            result = _run(sweep, ray, console, quiet, workers, cpus_per_trial)
    except (TuneError, UnknownExampleError) as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    _report(result, console)


def _seeds(text: str) -> tuple[int, ...]:
    from racer.tune.params import TuneError

    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise TuneError(f"--seeds {text!r}: expected whole numbers, e.g. 0,1,2") from None


def _run(
    sweep: Any, ray: str | None, console: Console, quiet: bool, workers: int | None, cpus: int
) -> Any:
    import optuna

    from racer.tune.executors import tune_study

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # racer.tune logs trials itself
    log = logging.getLogger("racer.tune")
    if not quiet and not log.handlers:
        log.addHandler(RichHandler(console=console, show_path=False, markup=False))
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    if ray is not None:
        return tune_study(sweep, "ray", address=ray, workers=workers, cpus_per_trial=cpus)
    if workers is not None or cpus != 1:
        from racer.tune.params import TuneError

        raise TuneError("--workers and --cpus-per-trial need --ray (a local sweep runs one trial)")
    return tune_study(sweep, "local")


def _report(result: Any, console: Console) -> None:
    from racer.tune.report import ranked_table

    sweep, outputs = result.tune, result.outputs
    console.print(ranked_table(list(outputs.rows), sweep))
    best = outputs.best
    if best is not None:
        console.print(
            f"best: trial {best.number}, {sweep.objective} {best.value:,.1f}; "
            f"train it with: racer train --config {outputs.best_config}",
            highlight=False,
            soft_wrap=True,
        )
    files = [outputs.trials_csv, outputs.history, outputs.importance]
    console.print(
        f"in {sweep.out_dir}: " + ", ".join(p.name for p in files), highlight=False, soft_wrap=True
    )
    for note in outputs.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if result.interrupted:
        console.print(
            f"[yellow]interrupted:[/] {result.finished} of {sweep.trials} trials finished; "
            "run the same command again to resume",
            highlight=False,
        )
        raise typer.Exit(INTERRUPTED_EXIT)
