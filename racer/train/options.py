"""Resolving a run's configuration from its sources, for ``racer train``.

Precedence, lowest first: defaults, or the run being resumed / cloned / imported from DeepRacer;
then the ``--config`` file; then command-line options.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from racer.sim.actions import (
    ActionSpace,
    ActionSpaceError,
    ContinuousActionSpace,
    DiscreteActionSpace,
)
from racer.train.config import ConfigError, TrainConfig, parse_action_space
from racer.train.run import CONFIG_FILE, RunState, find_model, find_run, run_folder_of

BUDGET_KEYS = ("minutes", "max_steps")
"""The only settings ``--resume`` accepts: more time or more steps."""


@dataclass(frozen=True)
class ResolvedRun:
    """A configuration ready for :func:`racer.train.trainer.train`.

    Attributes:
        config: The run's configuration.
        resume: Whether it continues a stopped run.
        notes: Things the user should know (ignored DeepRacer settings...).
        models_dir: The folder of the run being resumed (None: the caller's models folder).
    """

    config: TrainConfig
    resume: bool = False
    notes: tuple[str, ...] = ()
    models_dir: Path | None = None


def parse_action_space_option(text: str) -> ActionSpace:
    """Read ``--action-space``.

    Forms: ``grid:STEERING...xSPEED...`` (every combination, e.g. ``grid:-30,0,30x1,2``),
    ``continuous:LOW,HIGHxLOW,HIGH`` (steering then speed ranges), a JSON/YAML string in
    ``model_metadata.json``'s form, or a ``.json``/``.yaml`` file holding one (a whole
    ``model_metadata.json`` works too).
    """
    kind, _, rest = text.partition(":")
    if kind in ("grid", "continuous") and rest:
        try:
            steer_text, speed_text = rest.lower().split("x")
            steer = [float(v) for v in steer_text.split(",")]
            speed = [float(v) for v in speed_text.split(",")]
            if kind == "grid":
                return DiscreteActionSpace.grid(steer, speed)
            (s_lo, s_hi), (v_lo, v_hi) = steer, speed
            return ContinuousActionSpace(s_lo, s_hi, v_lo, v_hi)
        except ValueError as exc:
            raise ActionSpaceError(
                f"--action-space {text!r}: expected {kind}:A,B,...xC,D,... ({exc})"
            ) from None
    path = Path(text).expanduser()
    value: Any
    if path.suffix in (".json", ".yaml", ".yml") and path.is_file():
        value = yaml.safe_load(path.read_text())
        if isinstance(value, dict) and "action_space" in value:
            value = value["action_space"]
    else:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ActionSpaceError(f"--action-space: not valid JSON/YAML: {exc}") from None
    return parse_action_space(value)


def parse_randomize_option(
    texts: list[str] | None, sim2real: bool = False
) -> dict[str, Any] | None:
    """Read ``--randomize KEY=VALUE,...`` (repeatable) and ``--sim2real``.

    ``--sim2real`` starts from the ``sim2real`` preset (``strength=S`` scales it); other keys
    set single options (``docs/sim-to-real.md``); they update the base run's randomisation
    (or the ``--config`` file's) key by key. ``--randomize off`` turns it all off.

    Args:
        texts: The ``--randomize`` values, e.g. ``["brightness=0.2,noise=4", "latency_steps=1"]``.
        sim2real: ``--sim2real`` was given.

    Returns:
        The settings for ``TrainConfig.merged(randomization=...)``, or None when neither
        option was given.

    Raises:
        ConfigError: A malformed item.
    """
    settings: dict[str, Any] = {"preset": "sim2real"} if sim2real else {}
    for text in texts or []:
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, eq, value = item.partition("=")
            if not eq and key.lower() in ("sim2real", "off", "none"):
                settings["preset"] = key.lower()
                continue
            if not eq or not key.strip() or not value.strip():
                raise ConfigError(
                    f"--randomize {item!r}: expected KEY=VALUE (e.g. brightness=0.2,noise=4)"
                )
            settings[key.strip()] = value.strip()
    if not settings and not texts:
        return None
    return settings


def resolve_run(
    options: dict[str, Any],
    *,
    config_file: Path | None = None,
    resume: str | None = None,
    clone: str | None = None,
    from_deepracer: Path | None = None,
    models_dir: Path = Path("models"),
) -> ResolvedRun:
    """The configuration ``racer train`` runs with.

    Args:
        options: TrainConfig settings given on the command line (None = not given).
        config_file: A YAML file of settings (between the base and the options).
        resume: A run to continue; only ``minutes``/``max_steps`` may be given, and they add
            to what the run has already used.
        clone: A run or model to start from; its settings are the base, ``name`` must be new.
        from_deepracer: A DeepRacer model folder whose settings are the base.
        models_dir: Where runs live.

    Raises:
        ConfigError: Conflicting sources, unknown keys or invalid values.
        RunError: The run or model to resume or clone does not exist.
    """
    given = {k: v for k, v in options.items() if v is not None}
    sources = [s for s in (resume, clone, from_deepracer) if s is not None]
    if len(sources) > 1:
        raise ConfigError("use only one of --resume, --clone and --from-deepracer")
    if resume is not None:
        return _resume(resume, given, config_file, models_dir)
    notes: tuple[str, ...] = ()
    if clone is not None:
        base = _clone_base(clone, models_dir)
        if "name" not in given and not _file_sets(config_file, "name"):
            raise ConfigError("--clone needs a --name for the new run")
        given["clone_from"] = clone
    elif from_deepracer is not None:
        from racer.train.deepracer_import import import_deepracer

        imported = import_deepracer(from_deepracer)
        base, notes = imported.config, imported.notes
    else:
        base = TrainConfig()
    if config_file is not None:
        file_config = TrainConfig.load(config_file)
        keys = _file_keys(config_file)
        base = dataclasses.replace(base, **{k: getattr(file_config, k) for k in keys})
    return ResolvedRun(config=base.merged(**given), notes=notes)


def _resume(
    ref: str, given: dict[str, Any], config_file: Path | None, models_dir: Path
) -> ResolvedRun:
    if config_file is not None:
        raise ConfigError("--resume continues a run as it was; it takes no --config file")
    other = sorted(set(given) - set(BUDGET_KEYS) - {"name"})
    if other:
        raise ConfigError(
            f"--resume continues a run as it was; it accepts only --minutes and --max-steps "
            f"(got {', '.join(other)}); use --clone NAME to train on with other settings"
        )
    run = find_run(ref, models_dir)
    config = TrainConfig.load(run / CONFIG_FILE)
    state = RunState.load(run)
    extra: dict[str, Any] = {"name": run.name}  # the folder's name, should it have been renamed
    if "minutes" in given:
        extra["minutes"] = state.elapsed_s / 60.0 + float(given["minutes"])
    if "max_steps" in given:
        extra["max_steps"] = state.steps + int(given["max_steps"])
    return ResolvedRun(config=config.merged(**extra), resume=True, models_dir=run.parent)


def _clone_base(ref: str, models_dir: Path) -> TrainConfig:
    from racer.train.policy import model_config

    path = find_model(ref, models_dir, which="best")
    folder = run_folder_of(path)
    if folder is not None and Path(ref).suffix != ".zip":
        folder = find_run(ref, models_dir)
    return model_config(path, folder)


def _file_keys(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text()) or {}
    return list(data) if isinstance(data, dict) else []


def _file_sets(path: Path | None, key: str) -> bool:
    return path is not None and key in _file_keys(path)
