"""``racer reward list`` and ``racer reward check`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from racer.cli.main import app

runner = CliRunner()


def test_list_shows_examples_with_summaries() -> None:
    result = runner.invoke(app, ["reward", "list"])
    assert result.exit_code == 0, result.output
    assert "follow_centerline" in result.output and "progress_speed" in result.output
    assert "Follow the centre line" in result.output


def test_check_an_example() -> None:
    result = runner.invoke(
        app, ["reward", "check", "follow_centerline", "--track", "reinvent_base"]
    )
    assert result.exit_code == 0, result.output
    assert "off_track" in result.output and "no errors" in result.output


def test_check_a_buggy_file_exits_1_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "buggy.py"
    path.write_text("def reward_function(params):\n    return params['speed'] / 0\n")
    result = runner.invoke(app, ["reward", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: ZeroDivisionError" in result.output


def test_check_unknown_example_or_track(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reward", "check", "follow_centreline"])
    assert result.exit_code == 1 and "did you mean follow_centerline" in result.output
    result = runner.invoke(app, ["reward", "check", str(tmp_path / "missing.py")])
    assert result.exit_code == 1 and "not found" in result.output
    result = runner.invoke(app, ["reward", "check", "follow_centerline", "--track", "no_such"])
    assert result.exit_code == 1 and "no_such" in result.output
