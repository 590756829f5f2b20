"""``analyze``: read sources, summarise them and draw the pictures (the library behind the CLI)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racer.analyze.episodes import EpisodeTable, episodes
from racer.analyze.maps import plot_action_map, plot_speed_map
from racer.analyze.plots import ITERATION_METRICS, plot_actions, plot_lap_times, plot_per_iteration
from racer.analyze.readers import Source, read_sources
from racer.analyze.summary import PhaseSummary, summarise
from racer.analyze.trackguess import TrackChoice, choose_track


@dataclass(frozen=True)
class SourceReport:
    """What was found in one source.

    Attributes:
        source: The source as read.
        track: The track of its maps and how it was chosen.
        summaries: Per-phase numbers (training, then evaluation when present).
        episodes: Its finished episodes.
        files: Pictures of this source alone.
    """

    source: Source
    track: TrackChoice
    summaries: tuple[PhaseSummary, ...]
    episodes: EpisodeTable
    files: tuple[Path, ...]


@dataclass(frozen=True)
class AnalysisReport:
    """The result of :func:`analyze`.

    Attributes:
        sources: One report per source, in the order given.
        out_dir: Where the files went.
        files: Every file written (pictures of all sources together first, then per source,
            then ``summary.json``).
        notes: Pictures not drawn, and why.
    """

    sources: tuple[SourceReport, ...]
    out_dir: Path
    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()


def safe_name(label: str) -> str:
    """A file-name-safe form of a source label."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._") or "source"


def analyze(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    *,
    track: str | None = None,
    episodes_per_iteration: int = 20,
) -> AnalysisReport:
    """Summarise and chart training and evaluation logs, several sources overlaid.

    Args:
        paths: Run folders, folders of logs, ``.tar.gz`` downloads or single log files.
        out_dir: Folder for the PNGs and ``summary.json`` (created).
        track: Track of the maps for every source; by default the run's ``config.yaml``, else
            the built-in track whose length matches the logs' ``track_len``.
        episodes_per_iteration: Episodes per iteration for logs that do not mark iterations.

    Returns:
        The summaries and the files written.

    Raises:
        LogFormatError: If a path holds no readable log or a log is malformed.
        TrackError: If ``track`` names no track.
    """
    if not paths:
        raise ValueError("give at least one run folder or log file")
    out = Path(out_dir)
    sources = read_sources(paths, episodes_per_iteration=episodes_per_iteration)
    reports = [_source_report(s, out, choose_track(s, track)) for s in sources]
    notes = [
        f"{r.source.label}: no track maps, track {r.track.how}"
        for r in reports
        if r.track.track is None
    ]
    pairs = [(i, p) for i, r in enumerate(reports) for p in r.summaries if p.per_iteration]
    files = [
        plot_per_iteration(pairs, m, out / f"{m}_per_iteration.png") for m in ITERATION_METRICS
    ]
    laps = plot_lap_times([(i, r.episodes) for i, r in enumerate(reports)], out / "lap_times.png")
    if laps is None:
        notes.append("no lap-time histogram: no completed laps")
    else:
        files.append(laps)
    files += [f for r in reports for f in r.files]
    files.append(_write_json(reports, out / "summary.json"))
    return AnalysisReport(tuple(reports), out, tuple(files), tuple(notes))


def _source_report(source: Source, out: Path, choice: TrackChoice) -> SourceReport:
    table = episodes(source.steps)
    stem = safe_name(source.label)
    files = [plot_actions(source.steps, out / f"{stem}_actions.png")]
    if choice.track is not None and len(source.steps):
        files.append(plot_speed_map(source.steps, choice.track, out / f"{stem}_speed_map.png"))
        files.append(plot_action_map(source.steps, choice.track, out / f"{stem}_steering_map.png"))
    return SourceReport(source, choice, tuple(summarise(table)), table, tuple(files))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _write_json(reports: Sequence[SourceReport], path: Path) -> Path:
    data = [
        {
            "source": r.source.label,
            "path": str(r.source.path),
            "formats": list(r.source.formats),
            "track": r.track.name,
            "track_how": r.track.how,
            "phases": [dataclasses.asdict(s) for s in r.summaries],
        }
        for r in reports
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(data), indent=2) + "\n")
    return path
