"""A sweep's typed, frozen configuration: the base run, the tuned settings, the budget.

This module imports no optimisation library; :mod:`racer.tune.executors` runs the sweep.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racer.train.config import TrainConfig
from racer.train.run import find_model
from racer.tune.distributions import ParamSpec
from racer.tune.objectives import OBJECTIVES
from racer.tune.params import TuneError

EVALS_PER_TRIAL = 4
"""Periodic evaluations in a trial that runs its whole time budget (then one final one)."""

STUDY_DB = "study.db"
TRIALS_DIR = "trials"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class TuneConfig:
    """Everything that defines a sweep.

    Attributes:
        name: The study's name (in its storage) and its folder's, ``tune/NAME/``.
        base: The training run every trial starts from; the tuned settings replace its own.
        params: The tuned settings and their distributions.
        trials: Finished trials the study should have (complete or pruned); a rerun adds
            only the missing ones.
        minutes_per_trial: Wall-clock budget of each training run (one per seed); the base's
            ``max_steps``, if any, caps it too.
        seeds: Seeds each trial trains with, one run each; its value is their mean.
        objective: What a trial maximises (:data:`racer.tune.objectives.OBJECTIVES`).
        storage: The study's database URL; None means ``sqlite:///OUT/study.db`` (after
            construction it always holds the URL).
        out_dir: The sweep's folder (trial runs, tables, plots); default ``tune/NAME``.
        pruning: Stop trials whose evaluations trail the median of earlier trials.
        sampler_seed: Seed of the parameter sampler.
        models_dir: Where a run named by the base's ``clone_from`` is looked up.
    """

    name: str
    base: TrainConfig
    params: tuple[ParamSpec, ...]
    trials: int = 30
    minutes_per_trial: float = 5.0
    seeds: tuple[int, ...] = (0,)
    objective: str = "laps"
    storage: str | None = None
    out_dir: Path = None  # type: ignore[assignment]  # None: tune/NAME, set in __post_init__
    pruning: bool = True
    sampler_seed: int = 0
    models_dir: Path = Path("models")

    def __post_init__(self) -> None:
        _validate(self)
        out = Path("tune") / self.name if self.out_dir is None else Path(self.out_dir)
        object.__setattr__(self, "out_dir", out)
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "params", tuple(self.params))
        if self.storage is None:
            object.__setattr__(self, "storage", f"sqlite:///{(out / STUDY_DB).resolve()}")

    @property
    def storage_url(self) -> str:
        """The study's database URL."""
        return str(self.storage)

    @property
    def trials_dir(self) -> Path:
        """The folder of the trials' run folders (a ``models`` folder of its own)."""
        return self.out_dir / TRIALS_DIR

    @staticmethod
    def run_name(number: int, seed: int) -> str:
        """The run folder name of one trial's training with one seed."""
        return f"{number}-seed{seed}"

    def trial_config(self, settings: dict[str, Any], number: int, seed: int) -> TrainConfig:
        """The training run of trial ``number`` with ``seed``: the base with ``settings``.

        The run's budget is ``minutes_per_trial`` with :data:`EVALS_PER_TRIAL` evaluations
        spread over it; checkpoints are left out (a trial is never resumed).

        Raises:
            ConfigError: The drawn settings do not go together (e.g. SAC with a discrete
                action space).
            RunError: The base's ``clone_from`` names no run or model.
        """
        extra: dict[str, Any] = {}
        if self.base.clone_from:
            extra["clone_from"] = str(
                find_model(self.base.clone_from, self.models_dir, which="best").resolve()
            )
        return self.base.merged(
            **settings,
            **extra,
            name=self.run_name(number, seed),
            seed=seed,
            minutes=self.minutes_per_trial,
            eval_every_minutes=self.minutes_per_trial / EVALS_PER_TRIAL,
            checkpoint_every_minutes=self.minutes_per_trial * 2,
        )

    def best_config(self, settings: dict[str, Any]) -> TrainConfig:
        """The base run with the best trial's ``settings``, named ``NAME-best``."""
        return self.base.merged(**settings, name=f"{self.name}-best")

    def fingerprint(self) -> dict[str, Any]:
        """What makes trials comparable: a study resumed with other values is refused."""
        base = {k: v for k, v in self.base.to_dict().items() if k != "name"}
        data = {
            "params": [p.describe() for p in self.params],
            "objective": self.objective,
            "minutes_per_trial": self.minutes_per_trial,
            "seeds": list(self.seeds),
            "base": base,
        }
        loaded: dict[str, Any] = json.loads(json.dumps(data))  # JSON types, as stored
        return loaded


def _validate(t: TuneConfig) -> None:
    if not _NAME.match(t.name):
        raise TuneError(f"study name {t.name!r}: use letters, digits, '.', '_' and '-'")
    if t.objective not in OBJECTIVES:
        close = difflib.get_close_matches(t.objective, list(OBJECTIVES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TuneError(f"unknown objective {t.objective!r}{hint} (one of {', '.join(OBJECTIVES)})")
    checks = [
        (t.trials >= 1, f"trials must be at least 1, got {t.trials}"),
        (t.minutes_per_trial > 0, f"minutes per trial must be positive, got {t.minutes_per_trial}"),
        (len(t.seeds) >= 1, "give at least one seed"),
        (len(set(t.seeds)) == len(t.seeds), f"a seed is given twice: {list(t.seeds)}"),
        (len(t.params) >= 1, "give at least one --param to tune"),
    ]
    for ok, message in checks:
        if not ok:
            raise TuneError(message)
    names = [p.name for p in t.params]
    if len(set(names)) != len(names):
        raise TuneError(f"a tuned setting is given twice: {names}")
