"""The ``ray`` executor of ``racer tune``: trials as Ray tasks sharing one study.

The test starts a Ray instance of 2 CPUs in this process and runs a 3-trial sweep, 2 trials
at a time, into one SQLite study (every task is on this machine, so they all see the file).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
optuna = pytest.importorskip("optuna")

from racer.train.config import TrainConfig  # noqa: E402
from racer.tune.config import TuneConfig  # noqa: E402
from racer.tune.executors import create_study, tune_study  # noqa: E402
from racer.tune.params import TuneError, parse_params  # noqa: E402
from racer.tune.ray_backend import RayTrialError, run_ray, sqlite_path  # noqa: E402
from tests.train_support import SMALL as BASE_SMALL  # noqa: E402

SMALL: dict[str, Any] = {**BASE_SMALL, "network": "MLP", "n_envs": 1}
BASE = TrainConfig(name="base", max_steps=200, **SMALL)


def test_no_cluster_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    if ray.is_initialized():
        pytest.skip("this process is connected to Ray already")
    with pytest.raises(TuneError, match=r"no Ray cluster at 'auto'.*ray start --head"):
        run_ray(_sweep(tmp_path, 1), 1, address="auto")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[float]:
    """A local Ray instance of 2 CPUs for the module; yields its start-up time, seconds."""
    start = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield time.perf_counter() - start
    ray.shutdown()


def _sweep(tmp_path: Path, trials: int, **kw: Any) -> TuneConfig:
    return TuneConfig(
        name="ray-sweep",
        base=BASE,
        params=parse_params(["lr=loguniform:1e-4:1e-3", "num_epochs=choice:1,2"], BASE),
        trials=trials,
        minutes_per_trial=1.0,
        out_dir=tmp_path / "sweep",
        pruning=False,
        **kw,
    )


def test_ray_trials_share_one_study(tmp_path: Path, ray_cluster: float) -> None:
    seen: list[int] = []
    result = tune_study(
        _sweep(tmp_path, 3),
        "ray",
        workers=2,
        cpus_per_trial=1,
        callbacks=[lambda study, trial: seen.append(trial.number)],
    )
    assert (result.new_trials, result.finished, result.interrupted) == (3, 3, False)
    out = tmp_path / "sweep"
    study = optuna.load_study(study_name="ray-sweep", storage=f"sqlite:///{out / 'study.db'}")
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == [0, 1, 2] == sorted(seen)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    drawn = {round(t.params["lr"], 12) for t in trials}
    assert len(drawn) == 3  # each task's sampler is seeded apart: no two draw the same
    for t in trials:  # each trained its own ordinary run folder, with this machine's threads
        (run_dir,) = t.user_attrs["run_dirs"]
        assert Path(run_dir) == out / "trials" / f"{t.number}-seed0"
        assert (Path(run_dir) / "model.zip").is_file()
    assert (out / "best.yaml").is_file() and (out / "trials.csv").is_file()
    first_two = sorted(trials, key=lambda t: t.number)[:2]  # started together, 2 at a time
    assert first_two[0].datetime_start < first_two[1].datetime_complete  # type: ignore[operator]
    assert first_two[1].datetime_start < first_two[0].datetime_complete  # type: ignore[operator]


def test_a_failing_trial_names_its_number(tmp_path: Path, ray_cluster: float) -> None:
    sweep = _sweep(tmp_path, 1)
    create_study(sweep)
    (tmp_path / "sweep" / "trials").write_text("a file where the run folders should go")
    with pytest.raises(RayTrialError, match=r"trial 0 failed on "):
        run_ray(sweep, 1, workers=1)


def test_sqlite_elsewhere_is_refused_clearly(tmp_path: Path, ray_cluster: float) -> None:
    sweep = _sweep(tmp_path, 1)
    create_study(sweep)
    missing = tmp_path / "elsewhere" / "study.db"
    moved = dataclasses.replace(sweep, storage=f"sqlite:///{missing}")
    with pytest.raises(TuneError, match="SQLite works only when every node shares"):
        run_ray(moved, 1, workers=1)


def test_sqlite_on_several_nodes_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from racer.tune import ray_backend

    monkeypatch.setattr(ray, "nodes", lambda: [{"Alive": True}, {"Alive": True}])
    with caplog.at_level("WARNING", logger="racer.tune"):
        ray_backend._warn_if_sqlite_across_nodes("postgresql://u:p@db/racer")
        assert not caplog.records
        ray_backend._warn_if_sqlite_across_nodes("sqlite:////shared/study.db")
    assert "2 nodes" in caplog.text and "PostgreSQL" in caplog.text


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite:////tmp/a/study.db") == Path("/tmp/a/study.db")
    assert sqlite_path("sqlite:///rel.db?timeout=30") == Path("rel.db")
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u:p@host/db") is None


def test_bad_worker_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TuneError, match="at least 1"):
        run_ray(_sweep(tmp_path, 1), 1, workers=0)
