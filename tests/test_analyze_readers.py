"""Log readers of `racer analyze`: each format on its fixture, sniffing, and clear errors."""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from racer.analyze import LogFormatError, episodes, read_source, read_sources
from racer.analyze.formats import iteration_of, merge_brackets, sniff
from racer.analyze.readers import CONTAINERS
from racer.analyze.table import EVALUATION, TRAINING

LOGS = Path(__file__).parent / "fixtures" / "logs"
RUN = LOGS / "racer_run"
TARBALL = LOGS / "deepracer-console-training.tar.gz"
OLD_CSV = LOGS / "deepracer-17col-4-iteration.csv"
ROBOMAKER = LOGS / "robomaker.log"
CONTINUOUS = LOGS / "robomaker-continuous.log"


def _data_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines()[1:] if line.strip())


def test_racer_run_folder() -> None:
    src = read_source(RUN)
    steps = src.steps
    csvs = sorted(RUN.rglob("*.csv"))
    assert src.container == "folder" and src.formats == ("simtrace-csv",)
    assert len(src.files) == 4 and src.config_track == "reinvent_base"
    assert len(steps) == sum(_data_lines(p) for p in csvs)
    training = steps.phase == TRAINING
    assert sorted(set(steps.iteration[training].tolist())) == [0, 1, 2]
    assert set(steps.iteration[~training].tolist()) == {2}  # evaluation/2/...
    assert np.isfinite(steps.wall_clock).all() and np.isfinite(steps.obstacle_crash_counter).all()
    assert not steps.continuous
    table = episodes(steps)
    assert (table.phase == TRAINING).sum() == 12 and (table.phase == EVALUATION).sum() == 2
    assert table.unfinished == 0


def test_single_racer_csv_takes_iteration_from_name() -> None:
    src = read_source(RUN / "training-simtrace" / "1-iteration.csv")
    assert src.container == "file" and set(src.steps.iteration.tolist()) == {1}
    assert src.label == "1-iteration"


def test_console_tarball_reads_csvs_and_skips_the_duplicate_log() -> None:
    src = read_source(TARBALL)
    steps = src.steps
    assert src.container == "tarball" and src.formats == ("simtrace-csv",)
    assert len(src.files) == 3
    assert len(src.skipped) == 1 and src.skipped[0].endswith("robomaker.log")
    with tarfile.open(TARBALL) as tar:
        names = [m.name for m in tar.getmembers() if m.name.endswith(".csv")]
        total = sum(
            len(tar.extractfile(n).read().decode().strip().splitlines()) - 1  # type: ignore[union-attr]
            for n in names
        )
    assert len(steps) == total
    training, evaluation = steps.phase == TRAINING, steps.phase == EVALUATION
    assert np.isfinite(steps.wall_clock[training]).all()  # 19 columns
    assert np.isnan(steps.wall_clock[evaluation]).all()  # 18 columns: no wall_clock
    assert np.isfinite(steps.obstacle_crash_counter[evaluation]).all()
    # The evaluation folder is a timestamp: it evaluates the last training iteration.
    assert set(steps.iteration[evaluation].tolist()) == {1}


def test_old_17_column_csv() -> None:
    steps = read_source(OLD_CSV).steps
    assert len(steps) == _data_lines(OLD_CSV)
    assert np.isfinite(steps.pause_duration).all()
    assert np.isnan(steps.obstacle_crash_counter).all() and np.isnan(steps.wall_clock).all()
    assert set(steps.iteration.tolist()) == {4}
    assert set(np.unique(steps.episode).tolist()) == {80, 81, 82}


def test_robomaker_log_splits_iterations_at_policy_training_lines() -> None:
    src = read_source(ROBOMAKER)
    steps = src.steps
    assert src.formats == ("robomaker-log",)
    assert len(steps) == ROBOMAKER.read_text().count("SIM_TRACE_LOG:")
    table = episodes(steps)
    assert table.iteration.tolist() == [0, 0, 0, 1, 1, 1]
    assert np.isfinite(steps.pause_duration).all() and np.isnan(steps.wall_clock).all()


def test_robomaker_continuous_log_groups_by_episode_count() -> None:
    steps = read_source(CONTINUOUS).steps
    assert steps.continuous
    moving = steps.episode_status != "prepare"
    assert np.isnan(steps.action[moving]).all()
    assert np.isfinite(steps.steer).all() and np.isfinite(steps.wall_clock).all()
    table = episodes(steps)
    assert len(table) == 25
    assert np.bincount(table.iteration).tolist() == [20, 5]
    again = episodes(read_source(CONTINUOUS, episodes_per_iteration=10).steps)
    assert np.bincount(again.iteration).tolist() == [10, 10, 5]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (RUN / "training-simtrace" / "0-iteration.csv", "simtrace-csv"),
        (OLD_CSV, "simtrace-csv"),
        (ROBOMAKER, "robomaker-log"),
        (CONTINUOUS, "robomaker-log"),
    ],
)
def test_sniffing_picks_the_format(path: Path, expected: str) -> None:
    fmt = sniff(path.read_text()[:4096])
    assert fmt is not None and fmt.name == expected


def test_sniffing_rejects_other_text_and_accepts_headerless_csv() -> None:
    assert sniff("[build-system]\nrequires = []\n") is None
    assert sniff("name,score\nx,1\n") is None
    row = "0,1,3.05,0.68,0.18,0.0,0.0,0,0.0,False,True,0.0,0,17.709,0.0,prepare,0.0"
    fmt = sniff(row + "\n")
    assert fmt is not None and fmt.name == "simtrace-csv"


def test_containers_sniff_paths() -> None:
    kinds = {p: next(c.name for c in CONTAINERS if c.sniff(p)) for p in (RUN, TARBALL, OLD_CSV)}
    assert kinds == {RUN: "folder", TARBALL: "tarball", OLD_CSV: "file"}


def test_headerless_csv_and_bracketed_actions(tmp_path: Path) -> None:
    rows = [
        "0,1,3.0,0.7,0.0,0.0,0.0,0,0.0,False,True,0.0,0,17.709,0.0,prepare,0.0",
        '0,2,3.1,0.7,0.0,-2.5,1.2,"[-2.5, 1.2]",1.0,False,True,0.5,0,17.709,0.07,in_progress,0.0',
        "0,3,3.2,0.7,0.0,-2.5,1.2,[-2.5, 1.2],1.0,True,False,0.9,0,17.709,0.13,off_track,0.0",
    ]
    path = tmp_path / "3-iteration.csv"
    path.write_text("\n".join(rows) + "\n")
    steps = read_source(path).steps
    assert len(steps) == 3 and steps.continuous
    assert steps.iteration.tolist() == [3, 3, 3]
    assert steps.episode_status.tolist() == ["prepare", "in_progress", "off_track"]
    assert merge_brackets(["1", "[-2.5", " 1.2]", "x"]) == ["1", "[-2.5 1.2]", "x"]


def test_oldest_robomaker_lines_without_status_get_a_derived_one(tmp_path: Path) -> None:
    lines = [
        "noise",
        "SIM_TRACE_LOG:0,1,3.0,0.7,0.0,0.0,0.0,0,0.0,False,True,0.0,0,17.709,0.0",
        "SIM_TRACE_LOG:0,2,3.1,0.7,0.0,15.0,1.0,3,1.0,True,False,3.0,0,17.709,0.07",
        "SIM_TRACE_LOG:1,1,3.0,0.7,0.0,0.0,0.0,0,0.0,False,True,0.0,0,17.709,9.0",
        "SIM_TRACE_LOG:1,2,3.1,0.7,0.0,0.0,1.0,2,1.0,True,True,100.0,0,17.709,17.0",
    ]
    path = tmp_path / "old.log"
    path.write_text("\n".join(lines) + "\n")
    table = episodes(read_source(path).steps)
    assert table.status.tolist() == ["off_track", "lap_complete"]
    assert table.lap_time[1] == pytest.approx(8.0)


def test_evaluation_folder_iteration() -> None:
    assert iteration_of(PurePosixPath("evaluation/7/evaluation-simtrace/0-iteration.csv")) == 7
    assert iteration_of(PurePosixPath("training-simtrace/12-iteration.csv")) == 12
    stamped = PurePosixPath("sim-trace/evaluation/20240614101500-abc/evaluation-simtrace/0.csv")
    assert iteration_of(stamped) == -1


def test_duplicate_labels_are_made_unique() -> None:
    labels = [s.label for s in read_sources([OLD_CSV, OLD_CSV])]
    assert labels == ["deepracer-17col-4-iteration", "deepracer-17col-4-iteration-2"]


# ---------------------------------------------------------------------- errors
def test_unreadable_file_names_file_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello world\nthis is not a log\n")
    with pytest.raises(LogFormatError, match=r"notes\.txt: not a log racer can read.*hello world"):
        read_source(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(LogFormatError, match=r"empty\.csv: the file is empty"):
        read_source(empty)
    with pytest.raises(LogFormatError, match="no such file or folder"):
        read_source(tmp_path / "missing.csv")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(LogFormatError, match="no simtrace CSV or RoboMaker log found"):
        read_source(tmp_path / "empty_dir")


def test_bad_cell_names_line_and_column(tmp_path: Path) -> None:
    text = (RUN / "training-simtrace" / "0-iteration.csv").read_text().splitlines()
    cells = text[3].split(",")
    cells[8] = "lots"
    text[3] = ",".join(cells)
    path = tmp_path / "0-iteration.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(LogFormatError, match=r"0-iteration\.csv: line 4: column 'reward'.*'lots'"):
        read_source(path)


def test_missing_columns_and_wrong_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("episode,steps,X,Y,yaw\n0,1,0,0,0\n")
    with pytest.raises(LogFormatError, match=r"short\.csv: header lacks the columns steer"):
        read_source(path)
    log = tmp_path / "bad.log"
    log.write_text("SIM_TRACE_LOG:0,1,2,3\n")
    with pytest.raises(LogFormatError, match=r"bad\.log: line 1: 4 values"):
        read_source(log)


def test_broken_tarball(tmp_path: Path) -> None:
    path = tmp_path / "logs.tar.gz"
    path.write_bytes(TARBALL.read_bytes()[:3000])
    with pytest.raises(LogFormatError, match=r"logs\.tar\.gz"):
        read_source(path)
