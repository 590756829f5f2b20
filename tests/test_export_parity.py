"""racer export's check at its default size: 1000 real-car frames, every figure within bounds."""

from __future__ import annotations

from pathlib import Path

from test_export_helpers import decisive, train_tiny

from racer.export import export_loaded
from racer.export.parity import MIN_AGREEMENT, TOLERANCE
from racer.train.policy import load_policy


def test_car_archive_passes_on_1000_frames(tmp_path: Path) -> None:
    train_tiny(tmp_path, "disc")
    policy = decisive(load_policy("disc", models_dir=tmp_path))
    result = export_loaded(policy, "deepracer")  # frames=1000 by default
    report = result.report
    assert report.frames == 1000 and report.passed
    for check in report.checks:
        assert check.frames == 1000
        assert check.max_abs_diff <= TOLERANCE[check.precision]
        assert check.agreement is not None and check.agreement >= MIN_AGREEMENT
    assert result.path == tmp_path / "disc" / "export" / "disc.tar.gz"
