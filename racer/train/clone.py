"""Cloning: start a new run from the weights of a trained model (DeepRacer's "clone")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.save_util import load_from_zip_file

from racer.train.config import ConfigError
from racer.train.run import find_model


def _shape(space: Any) -> Any:
    spaces = getattr(space, "spaces", None)
    if spaces is not None:
        return {k: _shape(v) for k, v in spaces.items()}
    n = getattr(space, "n", None)
    return (type(space).__name__, int(n) if n is not None else tuple(space.shape))


def load_clone_weights(model: BaseAlgorithm, source: str, models_dir: Path) -> Path:
    """Copy the policy weights of ``source`` (a run or a ``.zip``) into ``model``.

    The optimiser starts afresh, as with a new run; the step count starts at zero.

    Raises:
        ConfigError: The source's observations (sensors) or action space differ in shape, or
            its network differs.
    """
    path = find_model(source, models_dir, which="best")
    data, params, _ = load_from_zip_file(path, device="cpu")
    if data is None or "policy" not in params:
        raise ConfigError(f"{path}: not a racer/stable-baselines3 model")
    checks = (
        ("sensors (observation shape)", data.get("observation_space"), model.observation_space),
        ("action space", data.get("action_space"), model.action_space),
    )
    for what, theirs, ours in checks:
        if theirs is not None and _shape(theirs) != _shape(ours):
            raise ConfigError(
                f"cannot clone {path}: its {what} {_shape(theirs)} differs from this run's "
                f"{_shape(ours)}; keep the cloned model's sensors and number of actions"
            )
    try:
        model.policy.load_state_dict(params["policy"])  # type: ignore[arg-type]
    except RuntimeError as exc:
        raise ConfigError(
            f"cannot clone {path}: its network differs from this run's ({exc})"
        ) from None
    return path
