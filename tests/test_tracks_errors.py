"""Malformed track files give one clear error naming the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from racer.sim.track import Track
from racer.sim.track_registry import get_track
from racer.sim.trackio import TrackError, load_track, validate_track


def _doc(**changes: Any) -> dict[str, Any]:
    a = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    doc: dict[str, Any] = {
        "format": "racer-track",
        "version": 1,
        "name": "ring",
        "closed": True,
        "centerline": np.stack([2 * np.cos(a), 2 * np.sin(a)], axis=1).tolist(),
        "width": 0.8,
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def _write(tmp_path: Path, doc: Any, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _error(path: Path) -> str:
    with pytest.raises(TrackError) as info:
        load_track(path)
    message = str(info.value)
    assert message.startswith(str(path))
    return message


def test_valid_document_loads(tmp_path: Path) -> None:
    assert load_track(_write(tmp_path, _doc())).num_points == 60


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"centreline": [[0, 0]]}, "did you mean 'centerline'"),
        ({"widht": 1.0}, "did you mean 'width'"),
        ({"format": "deepracer"}, "'format' must be"),
        ({"version": 2}, "unsupported 'version' 2"),
        ({"name": None}, "missing required key 'name'"),
        ({"centerline": [[0, 0], [1, 0]]}, "at least 3 points"),
        ({"centerline": [[0, 0, 0], [1, 0, 0], [1, 1, 0]]}, "shape (3, 3)"),
        ({"centerline": [[0, 0], [1, "x"], [1, 1]]}, "[x, y] number pairs"),
        ({"width": 0.1}, "not wider than the car (0.19 m)"),
        ({"width": -1}, "positive finite"),
        ({"left_border": [[0, 0]] * 3}, "not both"),
        ({"closed": "yes"}, "'closed' must be true or false"),
        ({"metadata": []}, "'metadata' must be a JSON object"),
    ],
)
def test_bad_documents(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    assert expected in _error(_write(tmp_path, _doc(**changes)))


def test_nan_is_refused(tmp_path: Path) -> None:
    text = json.dumps(_doc()).replace("2.0, 0.0]", "NaN, 0.0]", 1)
    assert "point 0 is not a finite number" in _error(_write(tmp_path, text))


def test_bad_json(tmp_path: Path) -> None:
    assert "not valid JSON" in _error(_write(tmp_path, '{"format": "racer-track",'))


def test_too_narrow_names_point_and_width(tmp_path: Path) -> None:
    widths = [0.8] * 60
    widths[17] = 0.15
    message = _error(_write(tmp_path, _doc(width=widths)))
    assert "point 17" in message and "0.150 m" in message and "car" in message


def test_self_intersecting_centre_line(tmp_path: Path) -> None:
    # a figure eight: the centre line crosses itself at the origin
    t = np.linspace(0, 2 * np.pi, 80, endpoint=False)
    eight = np.stack([3 * np.sin(t), 3 * np.sin(t) * np.cos(t)], axis=1)
    message = _error(_write(tmp_path, _doc(centerline=eight.tolist(), width=0.5)))
    assert "crosses itself" in message


def test_border_crossing(tmp_path: Path) -> None:
    # a ring of radius 2 and width 4.5: the inner border passes through the middle and folds
    message = _error(_write(tmp_path, _doc(width=4.5)))
    assert "left border runs backwards" in message


def test_left_right_borders_cross(tmp_path: Path) -> None:
    track = get_track("Oval_track")
    left = track.left.copy()
    left[10] = track.right[10] - 0.05 * (track.left[10] - track.right[10])  # past the right one
    doc = _doc(width=None, centerline=track.centre.tolist(), left_border=left.tolist(),
               right_border=track.right.tolist())  # fmt: skip
    assert "border" in _error(_write(tmp_path, doc))


def test_swapped_borders(tmp_path: Path) -> None:
    track = get_track("Oval_track")
    doc = _doc(width=None, centerline=track.centre.tolist(), left_border=track.right.tolist(),
               right_border=track.left.tolist())  # fmt: skip
    assert "borders swapped" in _error(_write(tmp_path, doc))


def test_zero_length_segment(tmp_path: Path) -> None:
    track = get_track("Oval_track")
    centre = track.centre.copy()
    centre[5] = centre[4]  # repeats the centre but not the borders
    doc = _doc(width=None, centerline=centre.tolist(), left_border=track.left.tolist(),
               right_border=track.right.tolist())  # fmt: skip
    assert "zero-length centre-line segment between points 4 and 5" in _error(_write(tmp_path, doc))


def test_npy_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, np.zeros((10, 4)))
    assert "(N, 6)" in _error(path)
    rows = np.zeros((10, 6))
    rows[3, 2] = np.nan
    np.save(path, rows)
    assert "row 3" in _error(path)
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not numpy")
    assert "not a readable NumPy" in _error(garbage)


def test_missing_and_unknown_suffix(tmp_path: Path) -> None:
    assert "no such track file" in _error(tmp_path / "nope.json")
    assert "unknown track file type" in _error(_write(tmp_path, "x", "track.txt"))


def test_unknown_names_suggest() -> None:
    with pytest.raises(TrackError, match="Did you mean 'reinvent_base'"):
        get_track("reinvent_bse")
    with pytest.raises(TrackError, match="Oval_track"):
        get_track("oval")
    with pytest.raises(TrackError, match="did you mean 'width'"):
        get_track("generated:3:widht=0.9")
    with pytest.raises(TrackError, match="seed must be an integer"):
        get_track("generated:abc")


def test_validate_in_memory_track_names_source() -> None:
    c = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    track = Track.from_centreline("tiny", c, 0.1)
    with pytest.raises(TrackError, match=r"^memory: track width"):
        validate_track(track, "memory")


def test_crossing_helpers() -> None:
    from racer.sim.trackcheck import find_crossing, find_self_crossing

    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert find_self_crossing(square, closed=True) is None
    bowtie = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert find_self_crossing(bowtie, closed=True) == (0, 2)
    shifted = square + [0.5, 0.5]
    assert find_crossing(square, shifted, closed=True) is not None
    assert find_crossing(square, square * 0.5 + 0.25, closed=True) is None
