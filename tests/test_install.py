"""A non-editable install (a built wheel) finds its built-in tracks and example reward functions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
from pathlib import Path
import racer
from racer.rewards.library import example_path, list_examples
from racer.sim.track_registry import get_track, list_tracks

target = Path(sys.argv[1]).resolve()
assert Path(racer.__file__).resolve().is_relative_to(target), racer.__file__
names = {t.name for t in list_tracks()}
assert {"reinvent_base", "Vegas_track", "racer_circuit", "practice_loop"} <= names, names
assert abs(get_track("reinvent_base").length - 17.709) < 1e-3
assert "follow_centerline" in list_examples()
path = example_path("progress_speed")
assert path.resolve().is_relative_to(target), path
print("ok", len(names), len(list_examples()))
"""


def test_wheel_install_finds_tracks_and_reward_functions(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = next(wheels.glob("racer-*.whl"))
    target = tmp_path / "site"
    inst = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert inst.returncode == 0, inst.stdout + inst.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run(
        [sys.executable, "-c", CHECK, str(target)],
        cwd=elsewhere, capture_output=True, text=True,
        env={"PYTHONPATH": str(target), "RACER_HOME": str(tmp_path / "home"), "PATH": "/usr/bin"},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok")
