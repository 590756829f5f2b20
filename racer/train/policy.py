"""Loading a trained policy to drive with: ``load_policy(...).predict(obs) -> action``.

This is the API the evaluator, the exporter and the race server use; none of them imports
stable-baselines3 themselves.

Example::

    policy = load_policy("my-model")              # models/my-model/best_model.zip
    env = make_env(policy.config.env_config(evaluation=True))
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(policy.predict(obs))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from racer.train.config import ConfigError, TrainConfig
from racer.train.metadata import METADATA_FILE, metadata_from_config, read_metadata
from racer.train.run import CONFIG_FILE, find_model, run_folder_of


@dataclass(frozen=True)
class LoadedPolicy:
    """A trained policy with the settings it was trained with.

    Attributes:
        model: The stable-baselines3 model (PPO or SAC).
        config: The run's :class:`TrainConfig` (sensors, action space, track, ...).
        metadata: The run's ``model_metadata.json`` mapping (DeepRacer's schema).
        path: The ``.zip`` loaded.
    """

    model: Any
    config: TrainConfig
    metadata: dict[str, Any]
    path: Path

    def predict(self, obs: Any) -> Any:
        """The deterministic action for one observation.

        Returns:
            An ``int`` index for a discrete action space; a float32 array ``(2,)`` in
            ``[-1, 1]`` (steering, speed; the env rescales it) for a continuous one. A batch of
            observations gives a batch of actions.
        """
        action, _ = self.model.predict(obs, deterministic=True)
        if self.discrete and np.ndim(action) == 0:
            return int(action)
        return np.asarray(action, dtype=np.int64 if self.discrete else np.float32)

    @property
    def discrete(self) -> bool:
        """Whether the action space is DeepRacer's discrete list."""
        return self.config.action_space.kind == "discrete"


def load_policy(
    model: str | Path, *, which: str = "best", models_dir: Path = Path("models")
) -> LoadedPolicy:
    """Load a trained policy.

    Args:
        model: A run folder (``models/NAME``), a run name under ``models_dir``, or a model
            ``.zip`` (``model.zip``, ``best_model.zip``, ``checkpoints/step_<n>.zip``).
        which: For a run: ``best`` (``best_model.zip``, else ``model.zip``) or ``latest``.
        models_dir: Where run names are looked up.

    Raises:
        RunError: No such run or model file.
        ConfigError: The model carries no racer configuration and has no run folder.
    """
    from racer.train.algorithms import ALGORITHM_CLASSES

    path = find_model(model, models_dir, which=which)
    folder = run_folder_of(path)
    config = model_config(path, folder)
    sb3_model = ALGORITHM_CLASSES[config.algorithm].load(path, device="cpu")
    meta_file = None if folder is None else folder / METADATA_FILE
    if meta_file is not None and meta_file.exists():
        metadata = read_metadata(meta_file)
    else:
        metadata = metadata_from_config(config)
    return LoadedPolicy(model=sb3_model, config=config, metadata=metadata, path=path)


def model_config(path: Path, folder: Path | None = None) -> TrainConfig:
    """The run's config: stored inside the zip by racer, else the run folder's ``config.yaml``.

    The image pooling is read from the network saved in the zip, which is what the weights
    fit: models saved before ``image_pooling`` existed have none, whatever today's default.
    """
    from stable_baselines3.common.save_util import load_from_zip_file

    data, _, _ = load_from_zip_file(path, device="cpu")
    data = data or {}
    stored = data.get("racer_config")
    if isinstance(stored, dict):
        config = TrainConfig.from_dict(stored, source=f"{path} (racer_config)")
    elif folder is not None:
        config = TrainConfig.load(folder / CONFIG_FILE)
    else:
        raise ConfigError(f"{path}: no racer configuration inside and no {CONFIG_FILE} beside it")
    return dataclasses.replace(config, image_pooling=saved_pooling(data))


def saved_pooling(data: dict[str, Any]) -> int:
    """The image pooling of a saved SB3 model's network (its ``policy_kwargs``); 1 if none."""
    kwargs = data.get("policy_kwargs") or {}
    extractor = kwargs.get("features_extractor_kwargs") or {}
    return int(extractor.get("pooling", 1))
