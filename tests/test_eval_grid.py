"""``evaluate_grid`` and ``racer evaluate --models/--tracks/--perturbations [--ray]``."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from racer.cli.main import app
from racer.evaluate.config import EvalConfigError
from racer.evaluate.grid import GridCellError, evaluate_grid, grid_cells
from racer.train.config import TrainConfig
from racer.train.trainer import train

runner = CliRunner()
TRACKS = ("reinvent_base", "Oval_track")
PERTURBATIONS = ("clean", "steering")
RACE = {"max_time": 6.0}  # short trials: the model is barely trained


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one tiny state-vector model, ``tiny``."""
    folder = tmp_path_factory.mktemp("models")
    config = TrainConfig(
        name="tiny", sensors=("STATE",), network="MLP", batch_size=64, max_steps=64,
        num_episodes_between_training=1, max_episode_steps=32, eval_episodes=1, n_envs=1,
    )  # fmt: skip
    train(config, folder)
    return folder


def _check(report_dir: Path, rows: list[dict[str, object]]) -> None:
    cells = [(r["model"], r["track"], r["perturbation"]) for r in rows]
    assert cells == [("tiny", t, p) for t in TRACKS for p in PERTURBATIONS]
    for row in rows:
        assert row["trials"] == 1 and 0 <= float(row["completion_rate"]) <= 1  # type: ignore[arg-type]
        assert (report_dir / str(row["folder"]) / "metrics.json").is_file()


def test_grid_runs_every_cell_here(models: Path, tmp_path: Path) -> None:
    seen: list[str] = []
    report = evaluate_grid(
        ["tiny"], TRACKS, [*PERTURBATIONS, "noise"], trials=1, seed=3, out_dir=tmp_path / "grid",
        models_dir=models, race=RACE, on_cell=lambda cell, row: seen.append(str(cell)),
    )  # fmt: skip
    out = tmp_path / "grid"
    data = json.loads((out / "grid.json").read_text())
    _check(out, data["rows"])
    assert data["trials"] == 1 and data["seed"] == 3 and data["race"] == RACE
    assert [c["perturbation"] for c in data["skipped"]] == ["noise", "noise"]  # no camera
    assert len(seen) == 6 and len(report.rows) == 4
    with (out / "grid.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["track"] for r in table] == [r.track for r in report.rows]
    assert table[0]["folder"] == "tiny/reinvent_base/clean"
    metrics = json.loads((out / "tiny" / "Oval_track" / "steering" / "metrics.json").read_text())
    assert metrics["summary"]["config"]["randomization"]["steering_gain"] != 0
    assert metrics["summary"]["config"]["seed"] == 3


def test_grid_on_ray_gives_the_same_table(models: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    kw: dict[str, Any] = {"trials": 1, "seed": 0, "models_dir": models, "race": RACE}
    here = evaluate_grid(["tiny"], TRACKS, PERTURBATIONS, out_dir=tmp_path / "here", **kw)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        there = evaluate_grid(
            ["tiny"], TRACKS, PERTURBATIONS, out_dir=tmp_path / "ray", address="local", **kw
        )
        with pytest.raises(GridCellError, match="nope on reinvent_base"):
            evaluate_grid(["nope"], TRACKS[:1], ["clean"], address="local", **kw)
    finally:
        ray.shutdown()
    rows = [r.to_dict() for r in there.rows]
    _check(tmp_path / "ray", rows)
    same = ("completion_rate", "mean_progress", "off_track_count", "best_lap_time")
    for a, b in zip(here.rows, there.rows, strict=True):  # same seeds, same results
        assert {k: a.to_dict()[k] for k in same} == {k: b.to_dict()[k] for k in same}


def test_grid_refuses_unknown_perturbations_and_empty_lists() -> None:
    with pytest.raises(EvalConfigError, match="did you mean 'steering'"):
        grid_cells(["m"], ["t"], ["stearing"])
    with pytest.raises(EvalConfigError, match="at least one of tracks"):
        grid_cells(["m"], [], ["clean"])


def test_grid_cli(models: Path, tmp_path: Path) -> None:
    args = [
        "evaluate", "--models", str(models / "tiny"), "--tracks", ",".join(TRACKS),
        "--perturbations", "clean", "--trials", "1", "--max-time", "6",
        "--out", str(tmp_path / "g"),
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Oval_track" in result.output and "reinvent_base" in result.output
    assert (tmp_path / "g" / "grid.csv").is_file()
    bad = runner.invoke(app, ["evaluate", "--models", "x", "--tracks", "t", "--robustness"])
    assert bad.exit_code == 1 and "--robustness" in bad.output
    none = runner.invoke(app, ["evaluate"])
    assert none.exit_code == 1 and "--models" in none.output
