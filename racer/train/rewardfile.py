"""Which reward file a run trains with, and its copy in the run folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from racer.rewards.library import example_path, list_examples
from racer.rewards.loader import load_reward_function
from racer.train.config import TrainConfig
from racer.train.run import REWARD_FILE


def resolve_reward(spec: str) -> Path:
    """A reward file path, or the file of the shipped example of that name.

    Raises:
        UnknownExampleError: Neither a file nor an example name.
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path.resolve()
    if path.suffix == ".py" and path.stem not in list_examples():
        return path  # a missing file: the loader reports it with its path
    return example_path(spec)


def training_reward(config: TrainConfig, run_dir: Path, *, resume: bool) -> Path:
    """The reward file to train with, checked by loading it once.

    A fresh run uses ``config.reward`` (so that files beside it stay importable); a resumed run
    whose original file is gone uses the copy in its folder.

    Raises:
        RewardFunctionError: The file does not load.
    """
    copy = run_dir / REWARD_FILE
    try:
        path = resolve_reward(config.reward)
    except ValueError:
        if not (resume and copy.exists()):
            raise
        path = copy
    if resume and not path.exists() and copy.exists():
        path = copy
    load_reward_function(path)
    return path


def copy_reward(path: Path, run_dir: Path) -> Path:
    """Copy the reward function into the run folder as ``reward_function.py``."""
    target = run_dir / REWARD_FILE
    if path.resolve() != target.resolve():
        shutil.copyfile(path, target)
    return target
