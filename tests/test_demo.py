"""``racer demo``: the README's main job."""

from __future__ import annotations

from typer.testing import CliRunner

from racer.cli.main import app

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
