"""The trainer's ``on_evaluation`` hook, which ``racer tune`` prunes trials with."""

from __future__ import annotations

import json
from pathlib import Path

from racer.train.config import TrainConfig
from racer.train.evaluation import EvalSummary
from racer.train.trainer import EARLY_STOP, train
from tests.train_support import SMALL


def test_the_hook_sees_every_evaluation_and_can_stop_the_run(tmp_path: Path) -> None:
    seen: list[EvalSummary] = []

    def stop_at_first(summary: EvalSummary) -> bool:
        seen.append(summary)
        return True

    config = TrainConfig(name="hooked", minutes=1.0, eval_every_minutes=0.01, **SMALL)  # type: ignore[arg-type]
    result = train(config, tmp_path, on_evaluation=stop_at_first)
    assert result.stopped_by == EARLY_STOP and result.elapsed_s < 30
    assert len(seen) == 1  # no final evaluation after an early stop
    best = json.loads((tmp_path / "hooked" / "best.json").read_text())
    assert best["step"] == seen[0].step and (tmp_path / "hooked" / "model.zip").is_file()
    assert json.loads((tmp_path / "hooked" / "state.json").read_text())["stopped_by"] == "early"


def test_a_hook_that_never_stops_sees_the_final_evaluation(tmp_path: Path) -> None:
    seen: list[int] = []
    config = TrainConfig(name="quiet", max_steps=200, **SMALL)  # type: ignore[arg-type]
    result = train(config, tmp_path, on_evaluation=lambda s: bool(seen.append(s.step)))
    assert result.stopped_by == "steps" and seen == [200]
