"""training_metrics.json: appended in place, byte for byte what one full write gives."""

from __future__ import annotations

import json
from pathlib import Path

from racer.train.steplog import MetricsLog


def _add(log: MetricsLog, phase: str, episode: int) -> None:
    info = {"sim_time": 1.5 + episode, "progress": 10.0 * episode, "status": "off_track"}
    log.add(phase, episode, reward=float(episode), info=info, start_ms=1000 + episode)


def _expected(log: MetricsLog) -> str:
    return json.dumps({"metrics": log.metrics}) + "\n"


def test_saves_append_and_match_a_full_write(tmp_path: Path) -> None:
    path = tmp_path / "training_metrics.json"
    log = MetricsLog(path)
    log.save()
    assert path.read_text() == '{"metrics": []}\n'
    for batch in ([0], [1, 2, 3], [], [4]):
        for episode in batch:
            _add(log, "training" if episode % 2 else "evaluation", episode)
        log.save()
        assert path.read_text() == _expected(log)
    assert [m["episode"] for m in json.loads(path.read_text())["metrics"]] == [0, 1, 2, 3, 4]


def test_a_resumed_log_keeps_the_earlier_entries(tmp_path: Path) -> None:
    path = tmp_path / "training_metrics.json"
    first = MetricsLog(path)
    for episode in range(3):
        _add(first, "training", episode)
    first.save()
    # A foreign layout (an indented file) is rewritten whole by the next session's first save.
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2) + "\n")
    resumed = MetricsLog(path)
    _add(resumed, "training", 3)
    resumed.save()
    _add(resumed, "evaluation", 4)
    resumed.save()
    assert path.read_text() == _expected(resumed)
    assert [m["episode"] for m in json.loads(path.read_text())["metrics"]] == [0, 1, 2, 3, 4]
