"""Running a sweep: the study, the executors that run its trials, and :func:`tune_study`.

The study lives in a database (``tune.storage``; SQLite in the sweep's folder by default), so
an interrupted sweep resumes where it stopped and several machines can share one study.
Executors are a registry, ``name -> fn(tune, n_trials, **options)``: ``local`` runs trials one
after another in this process; ``ray`` hands them to :mod:`racer.tune.ray_backend`.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from racer.train.config import ConfigError
from racer.tune.config import TuneConfig
from racer.tune.objective import run_trial
from racer.tune.outputs import TuneOutputs, write_outputs
from racer.tune.params import TuneError

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
"""Trials that count toward ``tune.trials`` (failed and interrupted ones do not)."""
FINGERPRINT_KEY = "racer_tune"
MEDIAN_STARTUP_TRIALS = 3
"""Trials that finish before the pruner prunes any."""
MEDIAN_WARMUP_STEPS = 1
"""A trial's first evaluation never prunes it (too early to tell)."""

logger = logging.getLogger("racer.tune")


def make_sampler(tune: TuneConfig, offset: int = 0) -> optuna.samplers.BaseSampler:
    """TPE, seeded with ``tune.sampler_seed + offset``; random for the first third of trials."""
    startup = max(2, min(10, tune.trials // 3))
    return optuna.samplers.TPESampler(seed=tune.sampler_seed + offset, n_startup_trials=startup)


def make_pruner(tune: TuneConfig) -> optuna.pruners.BasePruner:
    """The median rule (stop a trial below the median of earlier ones), or none."""
    if not tune.pruning:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(
        n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=MEDIAN_WARMUP_STEPS
    )


def create_study(tune: TuneConfig) -> optuna.Study:
    """Create the study, or open it when it exists (an interrupted sweep resumes).

    Raises:
        TuneError: The existing study was made with other settings (tuned parameters,
            objective, seeds, minutes per trial or base run), so its trials would not compare.
    """
    tune.out_dir.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name=tune.name,
        storage=tune.storage_url,
        sampler=make_sampler(tune),
        pruner=make_pruner(tune),
        direction="maximize",
        load_if_exists=True,
    )
    mine = tune.fingerprint()
    theirs = study.user_attrs.get(FINGERPRINT_KEY)
    if theirs is None:
        study.set_user_attr(FINGERPRINT_KEY, mine)
    elif theirs != mine:
        changed = ", ".join(k for k in mine if mine[k] != theirs.get(k))
        raise TuneError(
            f"study {tune.name!r} in {tune.storage_url} was run with other settings "
            f"({changed}); its trials would not compare: use another --name to start afresh"
        )
    return study


def load_study(tune: TuneConfig, worker: int = 0) -> optuna.Study:
    """Open the study to run trials in it, with its sampler and pruner.

    The sampler's seed moves on with the trials already in the study (and with ``worker``,
    for executors that run several side by side), so a resumed sweep does not draw its
    first trials' settings again.
    """
    study = optuna.load_study(study_name=tune.name, storage=tune.storage_url)
    offset = len(study.get_trials(deepcopy=False)) + 10_007 * worker
    study.sampler = make_sampler(tune, offset)
    study.pruner = make_pruner(tune)
    return study


def finished_trials(study: optuna.Study) -> int:
    """Trials that count toward the sweep's total."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))


TrialCallback = Callable[[optuna.Study, FrozenTrial], None]


def run_local(tune: TuneConfig, n_trials: int, *, callbacks: Sequence[TrialCallback] = ()) -> None:
    """Run ``n_trials`` trials one after another in this process."""
    study = load_study(tune)
    study.optimize(
        partial(run_trial, tune=tune),
        n_trials=n_trials,
        catch=(ConfigError,),  # settings that do not go together fail that trial only
        callbacks=list(callbacks),
        gc_after_trial=True,
    )


def run_ray(tune: TuneConfig, n_trials: int, **options: Any) -> None:
    """Run trials on a Ray cluster (:mod:`racer.tune.ray_backend`, imported only here)."""
    try:
        if importlib.util.find_spec("ray") is None:
            raise ImportError("No module named 'ray'")
        from racer.tune.ray_backend import run_ray as backend
    except ImportError as exc:
        raise TuneError(
            f"the ray executor is not available ({exc}); it needs the ray package "
            "(racer's `ray` extra) and racer's Ray backend: see docs/scaling.md"
        ) from exc
    backend(tune, n_trials, **options)


EXECUTORS: dict[str, Callable[..., None]] = {"local": run_local, "ray": run_ray}
"""Executors by name: ``fn(tune, n_trials, **options)`` runs trials in the study."""


@dataclass(frozen=True)
class TuneResult:
    """What a sweep produced.

    Attributes:
        tune: The sweep.
        outputs: Its table rows and files.
        new_trials: Trials this call finished.
        finished: Finished trials in the study.
        interrupted: Ctrl-C or SIGTERM stopped it; the same call resumes it.
    """

    tune: TuneConfig
    outputs: TuneOutputs
    new_trials: int
    finished: int
    interrupted: bool


def tune_study(tune: TuneConfig, executor: str = "local", **executor_options: Any) -> TuneResult:
    """Run the sweep: create (or resume) the study, run the trials it lacks, write the outputs.

    Args:
        tune: The sweep.
        executor: An :data:`EXECUTORS` name.
        **executor_options: Passed to the executor (``callbacks`` for ``local``; for ``ray``,
            see :mod:`racer.tune.ray_backend`).

    Raises:
        TuneError: Unknown executor, or a study made with other settings.
        ConfigError, RunError: The base run does not resolve (``clone_from`` missing...).
    """
    if executor not in EXECUTORS:
        close = difflib.get_close_matches(executor, list(EXECUTORS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TuneError(f"unknown executor {executor!r}{hint}")
    tune.trial_config({}, 0, tune.seeds[0])  # the base resolves before anything runs
    study = create_study(tune)
    before = finished = finished_trials(study)
    logger.info(
        "study %s: %d of %d trials finished; storage %s", tune.name, finished, tune.trials,
        tune.storage_url,
    )  # fmt: skip
    interrupted = False
    try:
        while finished < tune.trials:
            EXECUTORS[executor](tune, tune.trials - finished, **executor_options)
            now = finished_trials(study)
            if now == finished:  # every trial failed: do not loop for ever
                logger.warning("no trial finished in the last round; stopping")
                break
            finished = now
    except KeyboardInterrupt:
        interrupted = True
    outputs = write_outputs(study, tune)
    return TuneResult(tune, outputs, finished_trials(study) - before, finished_trials(study),
                      interrupted)  # fmt: skip
