"""Live training progress (a rich panel refreshed twice a second) and the final summary table."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from stable_baselines3.common.callbacks import BaseCallback

from racer.train.run import RunState
from racer.train.steplog import RECENT_EPISODES, LiveStats


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class ProgressView:
    """A renderable that reads the run's numbers each time it is drawn.

    Args:
        name: Run name (the panel's title).
        state: The run's counters.
        stats: Live episode numbers.
        budget_s: Total time budget (all sessions), seconds.
        max_steps: Total step budget, or None.
    """

    def __init__(
        self, name: str, state: RunState, stats: LiveStats, budget_s: float, max_steps: int | None
    ) -> None:
        self.name = name
        self.state = state
        self.stats = stats
        self.budget_s = budget_s
        self.max_steps = max_steps
        self.started = time.monotonic()
        self.elapsed_before = state.elapsed_s
        self.steps_before = state.steps
        self.steps = state.steps

    @property
    def session_s(self) -> float:
        """Seconds since this session started."""
        return time.monotonic() - self.started

    @property
    def steps_per_s(self) -> float:
        """Env steps per second in this session."""
        return (self.steps - self.steps_before) / max(self.session_s, 1e-9)

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs shown in the panel and the summary."""
        elapsed = self.elapsed_before + self.session_s
        steps = f"{self.steps:,}" + (f" / {self.max_steps:,}" if self.max_steps else "")
        best = self.stats.best_lap
        return [
            ("elapsed", _clock(elapsed)),
            ("remaining", _clock(self.budget_s - elapsed)),
            ("env steps", steps),
            ("env steps/s", f"{self.steps_per_s:,.0f}"),
            ("iterations", str(self.state.iterations)),
            ("episodes", f"{self.state.episodes:,}"),
            (f"mean progress (last {RECENT_EPISODES})", f"{self.stats.mean_progress:.1f} %"),
            ("lap completion", f"{self.stats.completion_rate:.0%}"),
            ("best training lap", f"{best:.2f} s" if best is not None else "-"),
            ("last evaluation", self.stats.last_eval),
        ]

    def table(self, title: str | None = None) -> Table:
        """The numbers as a two-column table."""
        table = Table(show_header=False, box=None, title=title)
        table.add_column(style="bold")
        table.add_column()
        for label, value in self.rows():
            table.add_row(label, value)
        return table

    def __rich__(self) -> Panel:
        return Panel(self.table(), title=f"training {self.name}", expand=False)


class ProgressCallback(BaseCallback):
    """Shows :class:`ProgressView` in a ``rich.live`` panel while training runs.

    Args:
        view: What to show.
        console: Where to draw it.
    """

    def __init__(self, view: ProgressView, console: Console) -> None:
        super().__init__()
        self.view = view
        self.console = console
        self._live: Live | None = None

    def _on_training_start(self) -> None:
        self._live = Live(self.view, console=self.console, refresh_per_second=2, transient=True)
        self._live.start()

    def _on_step(self) -> bool:
        self.view.steps = self.num_timesteps
        return True

    def _on_training_end(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop drawing (idempotent)."""
        if self._live is not None:
            self._live.stop()
            self._live = None


class StepCounter(BaseCallback):
    """Keeps the view's step count current when nothing is drawn (quiet runs)."""

    def __init__(self, view: ProgressView) -> None:
        super().__init__()
        self.view = view

    def _on_step(self) -> bool:
        self.view.steps = self.num_timesteps
        return True


def summary_table(view: ProgressView, extra: dict[str, Any]) -> Table:
    """The end-of-run table: the live numbers plus ``extra`` rows (paths, stop reason)."""
    table = view.table(title=f"run {view.name}")
    for label, value in extra.items():
        table.add_row(label, str(value))
    return table
