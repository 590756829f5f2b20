"""`racer tracks ...` commands through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from racer.cli.tracks import app, safe_file_name
from racer.sim.track_registry import get_track, list_tracks
from racer.sim.trackio import load_track

runner = CliRunner()


@pytest.fixture(autouse=True)
def racer_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RACER_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def _oval_npy(path: Path) -> Path:
    track = get_track("Oval_track")
    rows = np.hstack([track.centre, track.left, track.right])
    np.save(path, np.vstack([rows, rows[:1]]))
    return path


def test_list_shows_builtins() -> None:
    result = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("reinvent_base", "2022_summit_speedway", "racer_circuit", "17.71 m"):
        assert name in result.output


def test_show_writes_png(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", "reinvent_base:reverse"])
    assert result.exit_code == 0, result.output
    png = tmp_path / "reinvent_base_reverse.png"
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "reinvent_base_reverse.png" in result.output


def test_show_with_out_and_trajectory(tmp_path: Path) -> None:
    from racer.viz.trackplot import plot_track

    out = tmp_path / "pics" / "g.png"
    result = runner.invoke(app, ["show", "generated:4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000
    track = get_track("practice_loop")
    path = plot_track(track, tmp_path / "traj.png", trajectory=track.point_at(
        np.linspace(0, 5, 50), 0.2), title="Lap")  # fmt: skip
    assert path.stat().st_size > 10_000


def test_show_unknown_track_is_one_line_error() -> None:
    result = runner.invoke(app, ["show", "reinvent"])
    assert result.exit_code == 1
    assert "unknown track" in result.output and "reinvent_base" in result.output
    assert "Traceback" not in result.output


def test_import_into_user_dir(tmp_path: Path, racer_home: Path) -> None:
    src = _oval_npy(tmp_path / "my_oval.npy")
    result = runner.invoke(app, ["import", str(src), "--display-name", "My Oval"])
    assert result.exit_code == 0, result.output
    written = racer_home / "tracks" / "my_oval.json"
    assert str(written) in result.output.replace("\n", "")
    track = load_track(written)
    assert track.display_name == "My Oval"
    assert get_track("my_oval").length == pytest.approx(19.55, abs=0.006)
    assert any(i.name == "my_oval" and i.source == "user" for i in list_tracks())
    again = runner.invoke(app, ["import", str(src)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_import_refuses_builtin_name_and_bad_file(tmp_path: Path) -> None:
    src = _oval_npy(tmp_path / "x.npy")
    result = runner.invoke(app, ["import", str(src), "--name", "reinvent_base"])
    assert result.exit_code == 1 and "built-in" in result.output
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 3)))
    result = runner.invoke(app, ["import", str(bad), "--out-dir", str(tmp_path / "o")])
    assert result.exit_code == 1 and "(N, 6)" in result.output and "bad.npy" in result.output


def test_generate_prints_name_and_writes_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "12", "--width", "0.9", "--min-radius", "0.6"])
    assert result.exit_code == 0, result.output
    assert "generated:12:width=0.9:min_radius=0.6" in result.output
    out = tmp_path / "g12.json"
    result = runner.invoke(app, ["generate", "12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(load_track(out).centre, get_track("generated:12").centre, atol=1e-6)


def test_generate_bad_options_exit_2() -> None:
    result = runner.invoke(app, ["generate", "1", "--width", "1.0", "--min-radius", "0.3"])
    assert result.exit_code == 2
    assert "half the width" in result.output and "Traceback" not in result.output


def test_safe_file_name() -> None:
    assert safe_file_name("generated:3:width=0.9") == "generated_3_width_0.9"
    assert safe_file_name("../../etc/passwd") == "etc_passwd"
