"""`racer analyze` end to end: the library's pictures and the command through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from racer.analyze import AnalysisReport, analyze
from racer.cli.main import app

LOGS = Path(__file__).parent / "fixtures" / "logs"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AnalysisReport:
    out = tmp_path_factory.mktemp("analysis")
    paths = [LOGS / "racer_run", LOGS / "robomaker-continuous.log"]
    return analyze(paths, out)


def test_analyze_writes_pictures_and_summary(report: AnalysisReport) -> None:
    names = {f.name for f in report.files}
    assert {
        "reward_per_iteration.png", "progress_per_iteration.png", "completion_per_iteration.png",
        "lap_times.png", "racer_run_speed_map.png", "racer_run_steering_map.png",
        "racer_run_actions.png", "robomaker-continuous_actions.png",
        "robomaker-continuous_speed_map.png", "summary.json",
    } <= names  # fmt: skip
    for f in report.files:
        assert f.is_file() and f.stat().st_size > 1000
        if f.suffix == ".png":
            assert f.read_bytes()[:8] == PNG_MAGIC
    data = json.loads((report.out_dir / "summary.json").read_text())
    assert [d["source"] for d in data] == ["racer_run", "robomaker-continuous"]
    assert data[0]["track"] == "reinvent_base"
    assert data[1]["phases"][0]["best_lap"] is None  # NaN written as null


def test_report_holds_summaries(report: AnalysisReport) -> None:
    run, continuous = report.sources
    assert [s.phase for s in run.summaries] == ["training", "evaluation"]
    assert run.summaries[0].episodes == 12 and run.summaries[0].laps >= 1
    assert run.track.how == "from the run's config.yaml"
    assert continuous.summaries[0].episodes == 25


def test_maps_skipped_when_the_track_is_unknown(tmp_path: Path) -> None:
    text = (LOGS / "deepracer-17col-4-iteration.csv").read_text().replace(",17.7092,", ",42.0,")
    odd = tmp_path / "odd.csv"
    odd.write_text(text)
    result = analyze([odd], tmp_path / "out")
    assert not any("map" in f.name for f in result.files)
    assert any("no built-in track is 42.00 m long" in n for n in result.notes)


def test_cli_on_one_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(LOGS / "racer_run"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "reinvent_base" in result.output and "config.yaml" in result.output
    assert "Summary" in result.output and "per iteration" in result.output
    assert (out / "racer_run_speed_map.png").is_file()


def test_cli_compares_two_sources(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["analyze", str(LOGS / "deepracer-console-training.tar.gz"), str(LOGS / "robomaker.log")]
    result = runner.invoke(app, [*args, "--out", str(out), "--track", "reinvent_base"])
    assert result.exit_code == 0, result.output
    assert "deepracer-console-training" in result.output and "robomaker" in result.output
    assert "given with --track" in result.output
    assert (out / "reward_per_iteration.png").is_file()
    assert (out / "robomaker_steering_map.png").is_file()


def test_cli_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "rewards.txt"
    bad.write_text("[x]\nnot a log\n")
    result = runner.invoke(app, ["analyze", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "rewards.txt" in result.output and "not a log racer can read" in result.output
    assert "'[x]'" in result.output
    assert "Traceback" not in result.output
