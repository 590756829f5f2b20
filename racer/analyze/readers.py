"""Read logs from what users point at: run folders, loose files and ``.tar.gz`` downloads.

A *container* registry says how to list the files of a path (a folder, a tarball or one
file); the text-format registry (:mod:`racer.analyze.formats`) says how to read each of them.
Files no format recognises are ignored inside folders and archives, and an error on their own.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import yaml

from racer.analyze.formats import UNPLACED, Member, ParseContext, TextFormat, phase_of, sniff
from racer.analyze.table import TRAINING, LogFormatError, StepTable, concat

HEAD_CHARS = 4096
LOG_SUFFIXES = frozenset({".csv", ".log", ".txt", ""})
TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class Container:
    """A kind of path that holds log files.

    Attributes:
        name: Short name, shown in the report.
        sniff: Whether a path is of this kind.
        members: The path's candidate log files.
    """

    name: str
    sniff: Callable[[Path], bool]
    members: Callable[[Path], Iterator[Member]]


@dataclass(frozen=True)
class Source:
    """One run or log, read.

    Attributes:
        label: Name in tables and legends (unique among the sources of one analysis).
        path: What the user named.
        container: ``folder``, ``tarball`` or ``file``.
        steps: All its steps.
        formats: Names of the formats read.
        files: Names of the files read.
        skipped: Files left out because another format held the same steps.
        config_track: The ``track:`` of the run's ``config.yaml``, if any.
    """

    label: str
    path: Path
    container: str
    steps: StepTable
    formats: tuple[str, ...]
    files: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    config_track: str | None = None


# ---------------------------------------------------------------------- containers
def _open_text(path: Path) -> IO[str]:
    return path.open(encoding="utf-8", errors="replace", newline="")


def _folder_members(root: Path) -> Iterator[Member]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() in LOG_SUFFIXES and not path.name.startswith("."):
            yield Member(
                str(path),
                PurePosixPath(path.relative_to(root).as_posix()),
                lambda p=path: _open_text(p),  # type: ignore[misc]
            )


def _is_tarball(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(TAR_SUFFIXES) and tarfile.is_tarfile(path)


def _tar_members(path: Path) -> Iterator[Member]:
    try:
        with tarfile.open(path, "r:*") as tar:
            for info in tar:
                inner = PurePosixPath(info.name)
                if not info.isfile() or inner.suffix.lower() not in LOG_SUFFIXES:
                    continue
                stream = tar.extractfile(info)
                if stream is None:
                    continue
                text = stream.read().decode("utf-8", errors="replace")
                yield Member(f"{path}:{info.name}", inner, lambda t=text: io.StringIO(t))  # type: ignore[misc]
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise LogFormatError(f"{path}: not a readable tar archive ({exc})") from None


def _file_members(path: Path) -> Iterator[Member]:
    yield Member(str(path), PurePosixPath(path.name), lambda: _open_text(path))


CONTAINERS: tuple[Container, ...] = (
    Container("folder", Path.is_dir, _folder_members),
    Container("tarball", _is_tarball, _tar_members),
    Container("file", Path.is_file, _file_members),
)
"""Kinds of path, tried in order."""


# ---------------------------------------------------------------------- reading
def _head(member: Member) -> str:
    with member.open() as f:
        return f.read(HEAD_CHARS)


def _not_a_log(member: Member, head: str) -> LogFormatError:
    if not head.strip():
        return LogFormatError(f"{member.name}: the file is empty")
    if "\x00" in head:
        return LogFormatError(f"{member.name}: a binary file, not a text log")
    first = head.strip().splitlines()[0][:80]
    return LogFormatError(
        f"{member.name}: not a log racer can read. Expected a simtrace CSV (header "
        f"'episode,steps,X,Y,...'), a RoboMaker log with SIM_TRACE_LOG lines, a run folder or "
        f"a .tar.gz of those; the file begins {first!r}"
    )


def _label_for(path: Path) -> str:
    name = path.resolve().name if path.name in ("", ".", "..") else path.name
    for suffix in TAR_SUFFIXES + (".csv", ".log", ".txt"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def _config_track(path: Path) -> str | None:
    config = path / "config.yaml"
    if not (path.is_dir() and config.is_file()):
        return None
    try:
        data = yaml.safe_load(config.read_text())
    except yaml.YAMLError as exc:
        raise LogFormatError(f"{config}: not valid YAML ({exc})") from None
    track = data.get("track") if isinstance(data, dict) else None
    return str(track) if track else None


def read_source(
    path: str | Path, *, label: str | None = None, episodes_per_iteration: int = 20
) -> Source:
    """Read every step log under ``path``.

    Args:
        path: A run folder, a folder of logs, a ``.tar.gz`` download or one log file.
        label: Name for the source; defaults to the path's name.
        episodes_per_iteration: Episodes per iteration for logs that do not mark iterations.

    Returns:
        The source with all its steps.

    Raises:
        LogFormatError: If the path does not exist, holds no log, or a log is malformed.
    """
    path = Path(path)
    if not path.exists():
        raise LogFormatError(f"{path}: no such file or folder")
    container = next(c for c in CONTAINERS if c.sniff(path))
    label = label or _label_for(path)
    found: list[tuple[Member, TextFormat]] = []
    for member in container.members(path):
        head = _head(member)
        fmt = sniff(head)
        if fmt is None:
            if container.name == "file":
                raise _not_a_log(member, head)
            continue
        found.append((member, fmt))
    if not found:
        raise LogFormatError(
            f"{path}: no simtrace CSV or RoboMaker log found in this {container.name}"
        )
    kept, skipped = _drop_duplicates(found)
    tables = [
        fmt.parse(m, ParseContext(label, i, episodes_per_iteration))
        for i, (m, fmt) in enumerate(kept)
    ]
    return Source(
        label=label,
        path=path,
        container=container.name,
        steps=_place_evaluations(concat(tables, label)),
        formats=tuple(sorted({fmt.name for _, fmt in kept})),
        files=tuple(m.name for m, _ in kept),
        skipped=tuple(m.name for m in skipped),
        config_track=_config_track(path),
    )


def _drop_duplicates(
    found: Sequence[tuple[Member, TextFormat]],
) -> tuple[list[tuple[Member, TextFormat]], list[Member]]:
    """Per phase, keep the files of the best (lowest-priority) format only."""
    best: dict[str, int] = {}
    for member, fmt in found:
        phase = phase_of(member.inner)
        best[phase] = min(best.get(phase, fmt.priority), fmt.priority)
    kept = [(m, f) for m, f in found if f.priority == best[phase_of(m.inner)]]
    skipped = [m for m, f in found if f.priority != best[phase_of(m.inner)]]
    return kept, skipped


def _place_evaluations(steps: StepTable) -> StepTable:
    """Evaluations with no iteration in their path evaluate the last training iteration."""
    unplaced = steps.iteration == UNPLACED
    if unplaced.any():
        training = steps.iteration[steps.phase == TRAINING]
        last = int(training.max()) if len(training) else 0
        steps.iteration[unplaced] = last
    return steps


def read_sources(paths: Sequence[str | Path], *, episodes_per_iteration: int = 20) -> list[Source]:
    """Read several sources, giving them unique labels (``name``, ``name-2``, ...)."""
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for path in paths:
        base = _label_for(Path(path))
        seen[base] = seen.get(base, 0) + 1
        label = base if seen[base] == 1 else f"{base}-{seen[base]}"
        sources.append(
            read_source(path, label=label, episodes_per_iteration=episodes_per_iteration)
        )
    return sources
