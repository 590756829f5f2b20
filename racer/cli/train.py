"""``racer train``: parse options, resolve the run's configuration, call :func:`train`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from racer.cli.errors import fail_on_user_error
from racer.cli.options import panel_option

_RUN = "Run"
_HYPER = "Training settings (DeepRacer's hyperparameters)"
_ENV = "Car, track and race"
_BUDGET = "Budget, evaluation and checkpoints"
_SIM2REAL = "Domain randomisation (sim-to-real)"


def _opt(*names: str, help: str, panel: str = _HYPER, **kw: object) -> typer.models.OptionInfo:
    return panel_option(*names, help=help, panel=panel, **kw)


def train(
    name: Annotated[
        str | None, _opt("--name", "-n", help="Run name: models/NAME/.", panel=_RUN)
    ] = None,
    track: Annotated[
        str | None, _opt("--track", "-t", help="Track name or file.", panel=_ENV)
    ] = None,
    reward: Annotated[
        str | None, _opt("--reward", "-r", help="Reward function file or example name.", panel=_ENV)
    ] = None,
    minutes: Annotated[
        float | None,
        _opt("--minutes", "-m", help="Time budget (with --resume: more minutes).", panel=_BUDGET),
    ] = None,
    max_steps: Annotated[
        int | None,
        _opt("--max-steps", help="Env-step budget (with --resume: more steps).", panel=_BUDGET),
    ] = None,
    action_space: Annotated[
        str | None,
        _opt(
            "--action-space",
            help="grip-matched (default) | deepracer-default | grid:-30,-15,0,15,30x1,2 | "
            "continuous:-30,30x0.5,2 | JSON/YAML | a .json/.yaml file (model_metadata.json works).",
            panel=_ENV,
        ),
    ] = None,
    sensor: Annotated[
        list[str] | None,
        _opt(
            "--sensor",
            "-s",
            help="Sensor (repeatable): FRONT_FACING_CAMERA, STEREO_CAMERAS, LIDAR, "
            "SECTOR_LIDAR, STATE.",
            panel=_ENV,
        ),
    ] = None,
    network: Annotated[
        str | None, _opt("--network", help="DEEP_CONVOLUTIONAL_NETWORK_SHALLOW, ..._DEEP or MLP.")
    ] = None,
    image_pooling: Annotated[
        int | None,
        _opt(
            "--image-pooling",
            help="1 (the full 160x120 image) | 2 (the CNN sees 80x60: about 3x the env-steps/s "
            "on a CPU without bf16 units).",
        ),
    ] = None,
    batch_size: Annotated[int | None, _opt("--batch-size", help="batch_size.")] = None,
    epochs: Annotated[int | None, _opt("--epochs", help="num_epochs.")] = None,
    lr: Annotated[float | None, _opt("--lr", help="Learning rate.")] = None,
    entropy: Annotated[float | None, _opt("--entropy", help="beta_entropy.")] = None,
    discount: Annotated[float | None, _opt("--discount", help="discount_factor.")] = None,
    loss_type: Annotated[
        str | None, _opt("--loss-type", help="huber | 'mean squared error'.")
    ] = None,
    episodes_per_update: Annotated[
        int | None, _opt("--episodes-per-update", help="num_episodes_between_training (approx.).")
    ] = None,
    algorithm: Annotated[str | None, _opt("--algorithm", help="clipped_ppo | sac.")] = None,
    sac_alpha: Annotated[float | None, _opt("--sac-alpha", help="SAC entropy coefficient.")] = None,
    seed: Annotated[int | None, _opt("--seed", help="Seed of every random source.")] = None,
    n_envs: Annotated[
        int | None,
        _opt("--n-envs", help="Environments stepped side by side (default: 4 per core)."),
    ] = None,
    vec_env: Annotated[
        str | None, _opt("--vec-env", help="split (default) | dummy | subproc.")
    ] = None,
    track_pool: Annotated[
        list[str] | None,
        _opt(
            "--track-pool",
            help="Train on tracks drawn per episode (repeatable; generated:1-50 for a range).",
            panel=_ENV,
        ),
    ] = None,
    precision: Annotated[
        str | None, _opt("--precision", help="auto (bf16 where the CPU has it) | bf16 | fp32.")
    ] = None,
    randomize: Annotated[
        list[str] | None,
        _opt(
            "--randomize",
            help="Domain randomisation KEY=VALUE,... (repeatable), e.g. brightness=0.2,noise=4,"
            "latency_steps=1; see docs/sim-to-real.md.",
            panel=_SIM2REAL,
        ),
    ] = None,
    sim2real: Annotated[
        bool,
        _opt(
            "--sim2real",
            help="Randomise with the sim2real preset (--randomize strength=S scales it).",
            panel=_SIM2REAL,
        ),
    ] = False,
    race_type: Annotated[
        str | None,
        _opt("--race-type", help="time_trial | object_avoidance | head_to_bot.", panel=_ENV),
    ] = None,
    round_robin: Annotated[
        bool | None,
        _opt("--round-robin/--no-round-robin", help="Advance each episode's start.", panel=_ENV),
    ] = None,
    round_robin_advance: Annotated[
        float | None,
        _opt("--round-robin-advance", help="Round-robin step, fraction of a lap.", panel=_ENV),
    ] = None,
    random_start: Annotated[
        bool | None,
        _opt("--random-start/--no-random-start", help="Start episodes anywhere.", panel=_ENV),
    ] = None,
    max_episode_steps: Annotated[
        int | None, _opt("--max-episode-steps", help="Step cap of a training episode.", panel=_ENV)
    ] = None,
    eval_every: Annotated[
        float | None, _opt("--eval-every", help="Minutes between evaluation laps.", panel=_BUDGET)
    ] = None,
    eval_episodes: Annotated[
        int | None, _opt("--eval-episodes", help="Laps per evaluation.", panel=_BUDGET)
    ] = None,
    checkpoint_every: Annotated[
        float | None, _opt("--checkpoint-every", help="Minutes between checkpoints.", panel=_BUDGET)
    ] = None,
    config: Annotated[
        Path | None,
        _opt("--config", "-c", help="YAML settings file (options override it).", panel=_RUN),
    ] = None,
    resume: Annotated[
        str | None, _opt("--resume", help="Continue a stopped run.", panel=_RUN)
    ] = None,
    clone: Annotated[
        str | None,
        _opt("--clone", help="Start from a trained run or .zip (new --name).", panel=_RUN),
    ] = None,
    from_deepracer: Annotated[
        Path | None,
        _opt(
            "--from-deepracer", help="Train with a DeepRacer model folder's settings.", panel=_RUN
        ),
    ] = None,
    force: Annotated[
        bool, _opt("--force", help="Replace an existing run folder.", panel=_RUN)
    ] = False,
    models_dir: Annotated[
        Path, _opt("--models-dir", help="Folder of run folders.", panel=_RUN)
    ] = Path("models"),
    quiet: Annotated[bool, _opt("--quiet", "-q", help="No live progress.", panel=_RUN)] = False,
) -> None:
    """Train a model: DeepRacer's settings, a fast simulator, a model folder DeepRacer's tools read.

    Stops at --minutes or --max-steps, whichever comes first. Ctrl-C saves a resumable model.
    """
    from racer.rewards.library import UnknownExampleError
    from racer.train.config import ConfigError
    from racer.train.options import (
        parse_action_space_option,
        parse_randomize_option,
        resolve_run,
    )
    from racer.train.run import RunError
    from racer.train.trainer import train as run_training

    console = Console()
    options: dict[str, object] = {
        "name": name, "track": track, "reward": reward, "minutes": minutes,
        "max_steps": max_steps, "network": network, "image_pooling": image_pooling,
        "batch_size": batch_size,
        "num_epochs": epochs, "lr": lr, "beta_entropy": entropy, "discount_factor": discount,
        "loss_type": loss_type, "num_episodes_between_training": episodes_per_update,
        "algorithm": algorithm, "sac_alpha": sac_alpha, "seed": seed, "n_envs": n_envs,
        "vec_env": vec_env, "precision": precision, "track_pool": track_pool,
        "race_type": race_type, "round_robin": round_robin,
        "round_robin_advance": round_robin_advance, "random_start": random_start,
        "max_episode_steps": max_episode_steps, "eval_every_minutes": eval_every,
        "eval_episodes": eval_episodes, "checkpoint_every_minutes": checkpoint_every,
        "sensors": tuple(sensor) if sensor else None,
    }  # fmt: skip
    try:
        with fail_on_user_error(console):
            if action_space is not None:
                options["action_space"] = parse_action_space_option(action_space)
            options["randomization"] = parse_randomize_option(randomize, sim2real)
            run = resolve_run(
                options,
                config_file=config,
                resume=resume,
                clone=clone,
                from_deepracer=from_deepracer,
                models_dir=models_dir,
            )
            for note in run.notes:
                console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
            result = run_training(
                run.config,
                run.models_dir or models_dir,
                console=None if quiet else console,
                resume=run.resume,
                force=force,
            )
    except (ConfigError, RunError, UnknownExampleError) as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(
        f"{result.stopped_by}: {result.steps:,} steps, {result.episodes:,} episodes, "
        f"{result.session_steps_per_s:,.0f} env-steps/s; model in {result.run_dir}",
        highlight=False,
    )
