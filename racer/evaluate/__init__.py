"""Race rules applied to a policy: trials, penalties, lap times, logs, pictures and videos.

Example::

    from racer.evaluate import EvalConfig, PursuitPolicy, evaluate

    report = evaluate(PursuitPolicy(), EvalConfig(track="reinvent_base"), "out/eval")
    print(report.completed, report.best_lap_time)

See ``docs/evaluation.md`` for the rules, the files and the command ``racer evaluate``.
"""

from __future__ import annotations

from racer.evaluate.config import (
    EvalConfig,
    EvalConfigError,
    eval_config_for_model,
    eval_env_config,
)
from racer.evaluate.policies import (
    ConstantPolicy,
    EnvAware,
    Policy,
    PursuitPolicy,
    RandomPolicy,
    encode_action,
)
from racer.evaluate.report import EvalReport, TrialResult, TrialTrace
from racer.evaluate.robustness import RobustnessReport, evaluate_robustness
from racer.evaluate.runner import evaluate

__all__ = [
    "ConstantPolicy",
    "EnvAware",
    "EvalConfig",
    "EvalConfigError",
    "EvalReport",
    "Policy",
    "PursuitPolicy",
    "RandomPolicy",
    "RobustnessReport",
    "TrialResult",
    "TrialTrace",
    "encode_action",
    "eval_config_for_model",
    "eval_env_config",
    "evaluate",
    "evaluate_robustness",
]
