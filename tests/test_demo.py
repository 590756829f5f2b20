"""``racer demo``: the README's main job."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from racer.cli.main import app
from racer.train.evaluation import EvalEpisode, EvalSummary

runner = CliRunner()


def test_demo_scripted_lap_only(tmp_path):
    result = runner.invoke(app, ["demo", "--minutes", "0", "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Scripted lap" in result.output
    png = tmp_path / "reinvent_base-lap.png"
    assert png.stat().st_size > 50_000


def test_demo_trains_evaluates_and_charts_a_first_model(tmp_path):
    models = tmp_path / "models"
    result = runner.invoke(
        app,
        ["demo", "--minutes", "0.1", "--out-dir", str(tmp_path / "out"),
         "--models-dir", str(models), "--track", "practice_loop", "--trials", "1",
         "--max-time", "15"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = models / "demo"
    videos = list((run / "evaluation").glob("*/video.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 10_000
    assert list((run / "analysis").glob("*.png"))
    assert "video:" in result.output and str(videos[0]) in result.output.replace("\n", "")


def _lap(lap_time: float | None, off_tracks: int = 0, crashes: int = 0) -> EvalEpisode:
    info: dict[str, Any] = {"off_track_count": off_tracks, "crash_count": crashes}
    status = "lap_complete" if lap_time is not None else "time_up"
    return EvalEpisode(100.0 if lap_time else 40.0, status, lap_time, 1.0, 100, info)


def test_training_stops_only_at_clean_evaluation_laps() -> None:
    assert EvalSummary(1000, (_lap(9.1), _lap(8.7), _lap(9.0))).all_clean
    assert not EvalSummary(1000, (_lap(9.1), _lap(None), _lap(9.0))).all_clean
    assert not EvalSummary(1000, (_lap(9.1), _lap(14.2, off_tracks=1))).all_clean
    assert not EvalSummary(1000, (_lap(9.1), _lap(13.9, crashes=1))).all_clean
