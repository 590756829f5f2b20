"""Text formats of step logs, in a registry: each format sniffs a file's first lines and parses it.

* ``simtrace-csv`` — racer's and DeepRacer's simtrace CSVs (15–19 columns, with or without the
  header; the 17- and 18-column variants lack ``obstacle_crash_counter``/``wall_clock``).
* ``robomaker-log`` — DeepRacer RoboMaker / deepracer-for-cloud logs: one
  ``SIM_TRACE_LOG:episode,steps,...`` line per step among other lines. Iterations are split at
  ``Policy training>`` lines; without any, every ``episodes_per_iteration`` episodes make one.

Add a format by appending a :class:`TextFormat` to :data:`TEXT_FORMATS`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from racer.analyze.table import (
    EVALUATION,
    REQUIRED_COLUMNS,
    TRAINING,
    LogFormatError,
    StepTable,
    build_table,
)
from racer.logs.simtrace import SIMTRACE_COLUMNS

COLUMNS = tuple(c.lower() for c in SIMTRACE_COLUMNS)
MIN_FIELDS, MAX_FIELDS = 15, len(COLUMNS)
SIM_TRACE_PREFIX = "SIM_TRACE_LOG:"
ITERATION_MARKER = "Policy training>"
UNPLACED = -1
"""Iteration of an evaluation whose folder does not say which iteration it evaluated."""

_ITERATION_FILE = re.compile(r"(\d+)-iteration\.csv$", re.IGNORECASE)
_EVAL_ID = re.compile(r"^(\d{1,6})(?:\D|$)")


@dataclass(frozen=True)
class Member:
    """One file to parse, on disk or inside an archive.

    Attributes:
        name: Name for messages (``file`` or ``archive.tar.gz:inner/file``).
        inner: Path inside its container (the folder names tell phase and iteration).
        open: Opens the file as text.
    """

    name: str
    inner: PurePosixPath
    open: Callable[[], IO[str]]


@dataclass(frozen=True)
class ParseContext:
    """What a parser needs besides the file.

    Attributes:
        source: Source label for the rows.
        segment: Segment index for the rows.
        episodes_per_iteration: Episodes per iteration when a log does not mark iterations.
    """

    source: str
    segment: int
    episodes_per_iteration: int = 20


@dataclass(frozen=True)
class TextFormat:
    """A log format.

    Attributes:
        name: Short name, shown in the report.
        description: One line for docs and errors.
        priority: When a folder or archive holds several formats for one phase, only the
            lowest priority's files are read (their rows would repeat each other).
        sniff: ``(head)`` -> whether the file's first few kilobytes are in this format.
        parse: ``(member, context)`` -> the file's steps.
    """

    name: str
    description: str
    priority: int
    sniff: Callable[[str], bool]
    parse: Callable[[Member, ParseContext], StepTable]


def phase_of(inner: PurePosixPath) -> str:
    """``evaluation`` when a folder or file name says so, else ``training``."""
    return EVALUATION if any("evaluation" in p.lower() for p in inner.parts) else TRAINING


def iteration_of(inner: PurePosixPath) -> int:
    """The iteration a simtrace file's path names.

    Training files are ``<k>-iteration.csv``. An evaluation is placed by its folder,
    ``evaluation/<k>/evaluation-simtrace/...`` (a number up to 6 digits), else it is
    :data:`UNPLACED`.
    """
    if phase_of(inner) == EVALUATION:
        parts = inner.parts
        for i, part in enumerate(parts[1:], start=1):
            if part.lower() == "evaluation-simtrace" and (m := _EVAL_ID.match(parts[i - 1])):
                return int(m.group(1))
        return UNPLACED
    m = _ITERATION_FILE.search(inner.name)
    return int(m.group(1)) if m else 0


def merge_brackets(fields: list[str]) -> list[str]:
    """Rejoin a ``[steer, speed]`` cell that a comma split into several fields."""
    out: list[str] = []
    open_cell: list[str] | None = None
    for f in fields:
        if open_cell is not None:
            open_cell.append(f.strip())
            if f.rstrip().endswith("]"):
                out.append(" ".join(open_cell))
                open_cell = None
        elif f.lstrip().startswith("[") and not f.rstrip().endswith("]"):
            open_cell = [f.strip()]
        else:
            out.append(f)
    if open_cell is not None:
        out.append(" ".join(open_cell))
    return out


def _columns_for(n: int, name: str, line: int) -> tuple[str, ...]:
    if not MIN_FIELDS <= n <= MAX_FIELDS:
        raise LogFormatError(
            f"{name}: line {line}: {n} values, but a simtrace step has {MIN_FIELDS}–{MAX_FIELDS} "
            f"({','.join(COLUMNS)})"
        )
    return COLUMNS[:n]


def _cells(rows: list[list[str]], columns: tuple[str, ...]) -> dict[str, list[str]]:
    return {c: [r[i] for r in rows] for i, c in enumerate(columns)}


# ---------------------------------------------------------------------- simtrace CSV
def _first_line(head: str) -> str:
    return head.lstrip("\ufeff").splitlines()[0].strip() if head.strip() else ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sniff_simtrace_csv(head: str) -> bool:
    """A header starting ``episode,steps,X,Y``, or 15–19 comma-separated values."""
    line = _first_line(head)
    if line.lower().replace(" ", "").startswith("episode,steps,x,y,"):
        return True
    fields = merge_brackets(line.split(","))
    return (
        SIM_TRACE_PREFIX not in line
        and MIN_FIELDS <= len(fields) <= MAX_FIELDS
        and all(_is_number(f) for f in fields[:5])
    )


def parse_simtrace_csv(member: Member, ctx: ParseContext) -> StepTable:
    """Read a simtrace CSV (racer or DeepRacer, 15–19 columns)."""
    with member.open() as f:
        lines = list(csv.reader(f))
    lines = [r for r in lines if any(c.strip() for c in r)]
    first = 1
    if lines and not _is_number(lines[0][0].lstrip("\ufeff")):
        header = tuple(c.strip().lstrip("\ufeff").lower() for c in lines[0])
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise LogFormatError(f"{member.name}: header lacks the columns {', '.join(missing)}")
        lines, first = lines[1:], 2
    else:
        header = _columns_for(
            len(merge_brackets(lines[0])) if lines else MAX_FIELDS, member.name, 1
        )
    rows = []
    for i, raw in enumerate(lines):
        row = merge_brackets(raw) if len(raw) != len(header) else raw
        if len(row) != len(header):
            raise LogFormatError(
                f"{member.name}: line {first + i}: {len(row)} values under a header of "
                f"{len(header)} columns"
            )
        rows.append(row)
    return build_table(
        ctx.source,
        {c: v for c, v in _cells(rows, header).items() if c in COLUMNS},
        phase=phase_of(member.inner),
        segment=ctx.segment,
        iterations=[iteration_of(member.inner)] * len(rows),
        origin=member.name,
        first_line=first,
    )


# ---------------------------------------------------------------------- RoboMaker log
def sniff_robomaker_log(head: str) -> bool:
    """Any ``SIM_TRACE_LOG:`` line in the first kilobytes."""
    return SIM_TRACE_PREFIX in head


def parse_robomaker_log(member: Member, ctx: ParseContext) -> StepTable:
    """Read the ``SIM_TRACE_LOG:`` lines of a RoboMaker / deepracer-for-cloud log."""
    rows: list[list[str]] = []
    marks: list[int] = []
    iteration, pending, first_line = 0, 0, 0
    columns: tuple[str, ...] = ()
    with member.open() as f:
        for number, line in enumerate(f, start=1):
            at = line.find(SIM_TRACE_PREFIX)
            if at < 0:
                if ITERATION_MARKER in line and pending:
                    iteration, pending = iteration + 1, 0
                continue
            fields = merge_brackets(line[at + len(SIM_TRACE_PREFIX) :].strip().split(","))
            if not columns:
                columns, first_line = _columns_for(len(fields), member.name, number), number
            elif len(fields) != len(columns):
                raise LogFormatError(
                    f"{member.name}: line {number}: {len(fields)} values after "
                    f"{SIM_TRACE_PREFIX}, earlier lines had {len(columns)}"
                )
            rows.append(fields)
            marks.append(iteration)
            pending += 1
    cells = _cells(rows, columns)
    if iteration == 0:  # no markers: group by episodes, in order of appearance
        order: dict[str, int] = {}
        for e in cells.get("episode", []):
            order.setdefault(e, len(order))
        marks = [order[e] // ctx.episodes_per_iteration for e in cells.get("episode", [])]
    return build_table(
        ctx.source,
        cells,
        phase=phase_of(member.inner),
        segment=ctx.segment,
        iterations=marks,
        origin=member.name,
        first_line=first_line,
    )


TEXT_FORMATS: tuple[TextFormat, ...] = (
    TextFormat(
        "simtrace-csv",
        "simtrace CSV (racer, DeepRacer console; 15–19 columns)",
        0,
        sniff_simtrace_csv,
        parse_simtrace_csv,
    ),
    TextFormat(
        "robomaker-log",
        "RoboMaker / deepracer-for-cloud log with SIM_TRACE_LOG lines",
        1,
        sniff_robomaker_log,
        parse_robomaker_log,
    ),
)
"""Known formats, tried in order."""


def sniff(head: str) -> TextFormat | None:
    """The first format whose sniffer accepts ``head``, if any."""
    return next((fmt for fmt in TEXT_FORMATS if fmt.sniff(head)), None)


def names() -> Iterable[str]:
    """Names of the known text formats."""
    return (fmt.name for fmt in TEXT_FORMATS)
