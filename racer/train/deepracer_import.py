"""Reading a DeepRacer / deepracer-for-cloud model folder into a :class:`TrainConfig`.

The folder holds ``model_metadata.json`` (action space, sensors, network, algorithm),
``hyperparameters.json`` and ``reward_function.py``. Settings racer cannot honour are reported,
never fatal: DeepRacer's files carry keys that had no effect in DeepRacer either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racer.train.config import ConfigError, TrainConfig
from racer.train.metadata import config_fields, read_metadata

HYPERPARAMETERS_FILE = "hyperparameters.json"
REWARD_FILE = "reward_function.py"

HONOURED = {
    "batch_size": "batch_size",
    "num_epochs": "num_epochs",
    "lr": "lr",
    "beta_entropy": "beta_entropy",
    "discount_factor": "discount_factor",
    "loss_type": "loss_type",
    "num_episodes_between_training": "num_episodes_between_training",
    "sac_alpha": "sac_alpha",
}
"""hyperparameters.json keys and the TrainConfig fields they set."""

INTEGER_KEYS = ("batch_size", "num_epochs", "num_episodes_between_training")

IGNORED = {
    "e_greedy_value": "epsilon-greedy exploration is not used by PPO's stochastic policy",
    "epsilon_steps": "epsilon-greedy exploration is not used by PPO's stochastic policy",
    "exploration_type": "PPO samples its policy; SAC its entropy-regularised policy",
    "stack_size": "frames are not stacked (DeepRacer's default stack_size 1)",
    "term_cond_avg_score": "training stops at the time or step budget",
    "term_cond_max_episodes": "training stops at the time or step budget",
}
"""Known keys racer does not honour, with the reason reported."""


@dataclass(frozen=True)
class DeepRacerImport:
    """A DeepRacer folder read into racer's terms.

    Attributes:
        config: The training configuration (before command-line overrides).
        notes: Settings ignored or adjusted, one line each, to show the user.
    """

    config: TrainConfig
    notes: tuple[str, ...]


def read_hyperparameters(folder: Path) -> dict[str, Any]:
    """Read ``hyperparameters.json`` (an empty mapping when the folder has none)."""
    path = folder / HYPERPARAMETERS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def import_deepracer(folder: str | Path, **overrides: Any) -> DeepRacerImport:
    """Build a :class:`TrainConfig` from a DeepRacer model folder.

    Args:
        folder: The folder with ``model_metadata.json`` (required), ``hyperparameters.json`` and
            ``reward_function.py``.
        **overrides: TrainConfig settings applied last (``name``, ``track``, ``minutes``...).

    Raises:
        ConfigError: No ``model_metadata.json``, or values out of range.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{root}: not a folder")
    meta = read_metadata(root)
    settings: dict[str, Any] = dict(config_fields(meta, source=str(root / "model_metadata.json")))
    notes: list[str] = []
    for key in sorted(set(meta) - {"action_space", "action_space_type", "sensor"}):
        if key not in ("neural_network", "training_algorithm", "version", "lidar_config"):
            notes.append(f"model_metadata.json: {key!r} ignored (not a DeepRacer setting)")
    for key, value in read_hyperparameters(root).items():
        if key in HONOURED:
            settings[HONOURED[key]] = _number(key, value)
        elif key in IGNORED:
            notes.append(f"hyperparameters.json: {key} ignored: {IGNORED[key]}")
        else:
            notes.append(f"hyperparameters.json: unknown key {key!r} ignored")
    if (root / REWARD_FILE).exists():
        settings["reward"] = str((root / REWARD_FILE).resolve())
    else:
        notes.append(f"no {REWARD_FILE} in the folder; using the default reward")
    settings.setdefault("name", root.resolve().name)
    default_epochs = TrainConfig().num_epochs
    if settings.get("num_epochs", 0) > default_epochs:
        notes.append(
            f"num_epochs {settings['num_epochs']} kept as DeepRacer gave it: each update costs "
            f"{settings['num_epochs'] / default_epochs:.1f}x racer's default of {default_epochs}"
        )
    settings.update({k: v for k, v in overrides.items() if v is not None})
    config = TrainConfig.from_dict(settings, source=str(root))
    if config.loss_type == "huber":
        notes.append("loss_type huber: stable-baselines3 trains with mean squared error")
    return DeepRacerImport(config=config, notes=tuple(notes))


def _number(key: str, value: Any) -> Any:
    if key == "loss_type":
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"hyperparameters.json: {key} must be a number, got {value!r}") from None
    return int(number) if key in INTEGER_KEYS else number
