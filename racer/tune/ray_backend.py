"""The ``ray`` executor: a sweep's trials as Ray tasks, side by side on a cluster's cores.

:func:`run_ray` connects to a Ray cluster and keeps up to ``workers`` tasks running, each
reserving ``cpus_per_trial`` CPUs. A task opens the sweep's study from its storage, runs one
trial with :func:`racer.tune.objective.run_trial` and returns its number; the driver hands out
the next until ``n_trials`` have run. Ray chooses the machine of each task; every trial reads
and writes the same study, so the sampler learns from all of them.

The study's storage must be reachable from every machine: a PostgreSQL or MySQL URL
(``postgresql://user:password@host/db``). The default SQLite file works only while every Ray
node sees the same file (one machine); a task on a node that does not see it fails with a
message saying so. Trial run folders go to ``tune.out_dir`` on the machine that trained them.

Each task sets ``RACER_TORCH_THREADS`` to its CPUs, so PyTorch uses the cores Ray gave it and
no more. ``racer`` (and the same packages) must be installed on every node. See
``docs/scaling.md``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import optuna

from racer.evaluate.grid import ray_connection
from racer.train.config import ConfigError
from racer.tune.config import TuneConfig
from racer.tune.executors import TrialCallback, load_study
from racer.tune.objective import run_trial
from racer.tune.params import TuneError

logger = logging.getLogger("racer.tune")


class RayTrialError(RuntimeError):
    """A trial (or the task running it) failed on a Ray worker; the message names it."""


def run_ray(
    tune: TuneConfig,
    n_trials: int,
    *,
    address: str | None = "auto",
    workers: int | None = None,
    cpus_per_trial: int = 1,
    callbacks: Sequence[TrialCallback] = (),
) -> None:
    """Run ``n_trials`` trials of the sweep as Ray tasks, up to ``workers`` at a time.

    Args:
        tune: The sweep; its study must exist (:func:`racer.tune.executors.create_study`).
        n_trials: Trials to run.
        address: Ray address: ``auto`` (the cluster ``ray start`` began on this machine, or
            ``RAY_ADDRESS``), ``local`` (start Ray on this machine for this call),
            ``HOST:6379`` (a head node), or None (``auto``, else ``local``). When this
            process is connected to Ray already, that connection is used.
        workers: Trials at a time; None: as many as the cluster's CPUs allow.
        cpus_per_trial: CPUs Ray reserves for each trial (and PyTorch threads it uses).
        callbacks: Called here with ``(study, trial)`` as each trial ends, as Optuna's.

    Raises:
        TuneError: Bad ``workers``/``cpus_per_trial``, or no Ray cluster at ``address``.
        RayTrialError: A trial failed (its number, the machine and the cause in the
            message); the trials still running are cancelled.
    """
    if cpus_per_trial < 1 or (workers is not None and workers < 1):
        raise TuneError(
            f"workers and cpus per trial must be at least 1: {workers}, {cpus_per_trial}"
        )
    tune = _absolute(tune)
    try:
        _run(tune, n_trials, address, workers, cpus_per_trial, callbacks)
    except ConnectionError as exc:  # no cluster there: a setup mistake, said in one line
        raise TuneError(str(exc)) from exc


def _run(
    tune: TuneConfig,
    n_trials: int,
    address: str | None,
    workers: int | None,
    cpus_per_trial: int,
    callbacks: Sequence[TrialCallback],
) -> None:
    """:func:`run_ray` once the arguments are checked."""
    import ray

    level = logger.getEffectiveLevel()
    with ray_connection(address):
        _warn_if_sqlite_across_nodes(tune.storage_url)
        slots = workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_trial)
        task = ray.remote(_trial_task).options(num_cpus=cpus_per_trial, max_retries=0)
        logger.info(
            "Ray: %d trial(s), %d at a time, %d CPU(s) each", n_trials, slots, cpus_per_trial
        )
        study = None  # opened here only for callbacks: the tasks are the study's users
        if callbacks:
            study = optuna.load_study(study_name=tune.name, storage=tune.storage_url)
        pending: dict[Any, int] = {}
        submitted = 0
        try:
            while submitted < n_trials or pending:
                while submitted < n_trials and len(pending) < slots:
                    ref = task.remote(tune, submitted, cpus_per_trial, level)
                    pending[ref], submitted = submitted, submitted + 1
                ready, _ = ray.wait(list(pending), num_returns=1)
                index = pending.pop(ready[0])
                number = _task_result(ready[0], index)
                if study is not None and number is not None:
                    trial = _frozen_trial(study, number)
                    for callback in callbacks:
                        callback(study, trial)
        finally:
            for ref in pending:
                ray.cancel(ref)


def _trial_task(tune: TuneConfig, worker: int, cpus: int, log_level: int) -> int | None:
    """A Ray task: one trial in the study, with ``cpus`` PyTorch threads; its number."""
    os.environ["RACER_TORCH_THREADS"] = str(cpus)
    _log_to_stderr(log_level)
    _check_storage_here(tune.storage_url)
    study = load_study(tune, worker=worker)
    numbers: list[int] = []
    study.optimize(
        partial(_objective, tune=tune, numbers=numbers),
        n_trials=1,
        catch=(ConfigError,),  # settings that do not go together fail that trial only
        gc_after_trial=True,
    )
    return numbers[-1] if numbers else None


def _objective(trial: optuna.Trial, tune: TuneConfig, numbers: list[int]) -> float:
    """:func:`run_trial`; an unexpected error is raised again naming the trial and machine."""
    numbers.append(trial.number)
    try:
        return run_trial(trial, tune)
    except (optuna.TrialPruned, ConfigError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise RayTrialError(
            f"trial {trial.number} failed on {socket.gethostname()}: {type(exc).__name__}: {exc}"
        ) from exc


def _task_result(ref: Any, index: int) -> int | None:
    """The task's trial number; its failure as a :class:`RayTrialError` naming the trial."""
    import ray

    try:
        number: int | None = ray.get(ref)
        return number
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause
        if isinstance(cause, RayTrialError | TuneError):
            raise cause from None
        raise RayTrialError(f"Ray task {index} (before its trial began): {cause!r}") from exc
    except ray.exceptions.RayError as exc:  # the worker process or its node died
        raise RayTrialError(f"Ray task {index}: {type(exc).__name__}: {exc}") from exc


def _frozen_trial(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)


def _absolute(tune: TuneConfig) -> TuneConfig:
    """The sweep with absolute folders: a Ray worker's working folder is not the driver's."""
    return dataclasses.replace(
        tune,
        out_dir=Path(tune.out_dir).expanduser().resolve(),
        models_dir=Path(tune.models_dir).expanduser().resolve(),
    )


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL; None for other databases (and in-memory SQLite)."""
    if not url.startswith("sqlite:"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def _warn_if_sqlite_across_nodes(url: str) -> None:
    """Warn when a SQLite study meets a cluster of several machines."""
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if sqlite_path(url) is not None and len(nodes) > 1:
        logger.warning(
            "the study is a SQLite file (%s) and the Ray cluster has %d nodes: trials on a "
            "node that does not share that file system fail. Give --storage a PostgreSQL or "
            "MySQL URL (docs/scaling.md).",
            url,
            len(nodes),
        )


def _check_storage_here(url: str) -> None:
    """Fail clearly when this node cannot see the driver's SQLite study file."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise TuneError(
            f"the study's SQLite file {path} is not on Ray node {socket.gethostname()}: SQLite "
            "works only when every node shares that file system. Give the sweep a database "
            "every node reaches (--storage postgresql://USER:PASSWORD@HOST/DB, docs/scaling.md)."
        )


def _log_to_stderr(level: int) -> None:
    """Show the trial's ``racer.tune`` messages in the worker's output (Ray forwards it)."""
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
