"""Built-in tracks, DeepRacer import, projection and file round trips."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from racer.sim.track import Track
from racer.sim.track_registry import builtin_track_names, get_track, import_deepracer
from racer.sim.trackio import load_track, save_track, track_to_dict

# name: (display name, rows in the DeepRacer file, length m, min width, max width)
NOTICE_TABLE = {
    "reinvent_base": ("re:Invent 2018", 119, 17.709, 0.756, 0.762),
    "reInvent2019_wide": ("A to Z Speedway", 112, 16.64, 1.067, 1.067),
    "Oval_track": ("Oval Track", 102, 19.55, 0.61, 0.94),
    "Bowtie_track": ("Bowtie Track", 163, 17.43, 0.61, 1.19),
    "Vegas_track": ("AWS Summit Raceway", 151, 22.55, 1.067, 1.067),
    "2022_summit_speedway": ("RL Speedway", 127, 25.17, 1.067, 1.067),
}


def _deepracer_rows(track: Track) -> np.ndarray:
    """The track as a DeepRacer (N, 6) array (closing row repeated, inner border first)."""
    ccw = track.direction == "counterclockwise"
    inner, outer = (track.left, track.right) if ccw else (track.right, track.left)
    rows = np.hstack([track.centre, inner, outer])
    return np.vstack([rows, rows[:1]])


@pytest.mark.parametrize("name", sorted(NOTICE_TABLE))
def test_builtin_deepracer_tracks_match_notice(name: str) -> None:
    display, rows, length, wmin, wmax = NOTICE_TABLE[name]
    track = get_track(name)
    assert track.display_name == display
    assert track.closed and track.direction == "counterclockwise"
    assert len(track.waypoints) == rows  # waypoint indices match DeepRacer's
    assert track.length == pytest.approx(length, abs=0.006)
    assert track.widths.min() == pytest.approx(wmin, abs=0.006)
    assert track.widths.max() == pytest.approx(wmax, abs=0.01)
    assert "Apache" in track.metadata["attribution"]
    assert track.metadata["licence"] == "Apache-2.0"


def test_reinvent_length_to_the_millimetre() -> None:
    assert abs(get_track("reinvent_base").length - 17.709) < 0.001


def test_all_builtins_listed_and_valid() -> None:
    names = builtin_track_names()
    assert set(NOTICE_TABLE) <= set(names)
    assert {"racer_circuit", "practice_loop"} <= set(names)


@pytest.mark.parametrize("name", ["racer_circuit", "practice_loop"])
def test_own_tracks_are_smooth_and_in_range(name: str) -> None:
    track = get_track(name)
    assert track.closed
    assert track.widths.min() >= 0.76 and track.widths.max() <= 1.07
    assert 1.0 / np.abs(track.curvature()).max() >= 0.5
    spacing = np.hypot(*np.diff(np.vstack([track.centre, track.centre[:1]]), axis=0).T)
    assert spacing.min() >= 0.04 and spacing.max() <= 0.1
    assert track.metadata["description"]


def test_reverse_track() -> None:
    fwd = get_track("reinvent_base")
    rev = get_track("reinvent_base:reverse")
    assert rev.direction == "clockwise"
    assert rev.length == pytest.approx(fwd.length)
    assert rev.name == "reinvent_base:reverse"
    np.testing.assert_allclose(rev.centre[0], fwd.centre[0])
    np.testing.assert_allclose(rev.left, fwd.right[np.r_[0, np.arange(fwd.num_points - 1, 0, -1)]])
    assert get_track("reinvent_base:reverse:reverse") is fwd
    # a point on the inside of the loop is left of travel forwards, right of it in reverse
    inside = fwd.point_at(3.0, 0.2)
    assert fwd.project(inside).offset[0] > 0 > rev.project(inside).offset[0]


def test_clockwise_import_swaps_sides(tmp_path: Path) -> None:
    src = get_track("reinvent_base")
    rows = _deepracer_rows(src)[::-1].copy()  # drive it the other way
    path = tmp_path / "cw.npy"
    np.save(path, rows)
    written = import_deepracer(path, out_dir=tmp_path / "out")
    track = load_track(written)
    assert track.direction == "clockwise"
    # driving clockwise, the inner border (DeepRacer column 2-3) is on the right
    np.testing.assert_allclose(track.right, rows[:-1, 2:4], atol=1e-6)
    np.testing.assert_allclose(track.left, rows[:-1, 4:6], atol=1e-6)
    infield = track.point_at(3.0, -0.2)  # 0.2 m to the right = towards the infield
    proj = track.project(infield)
    assert proj.offset[0] == pytest.approx(-0.2, abs=1e-3)
    assert proj.inside[0]
    assert src.project(infield).offset[0] > 0  # the same point is left of the forward track


def test_off_centre_import_keeps_borders(tmp_path: Path) -> None:
    arr = _deepracer_rows(get_track("Bowtie_track"))
    path = tmp_path / "bow.npy"
    np.save(path, arr)
    track = load_track(import_deepracer(path, name="bow", out_dir=tmp_path))
    np.testing.assert_allclose(track.left, arr[:-1, 2:4], atol=1e-6)
    np.testing.assert_allclose(track.right, arr[:-1, 4:6], atol=1e-6)
    assert np.abs(track.left_widths - track.right_widths).max() > 0.05


def test_npy_loads_directly(tmp_path: Path) -> None:
    path = tmp_path / "oval.npy"
    np.save(path, _deepracer_rows(get_track("Oval_track")))
    track = get_track(str(path))
    assert track.name == "oval"
    assert track.length == pytest.approx(19.55, abs=0.006)


def test_save_load_round_trip(tmp_path: Path) -> None:
    track = get_track("Bowtie_track")
    path = save_track(track, tmp_path / "copy.json")
    again = load_track(path)
    for a, b in ((track.centre, again.centre), (track.left, again.left),
                 (track.right, again.right)):  # fmt: skip
        np.testing.assert_allclose(a, b, atol=1e-7)
    assert again.metadata == track.metadata
    assert again.display_name == track.display_name
    assert track_to_dict(again) == track_to_dict(track)


def test_width_form_builds_symmetric_borders(tmp_path: Path) -> None:
    angles = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    doc = {
        "format": "racer-track",
        "version": 1,
        "name": "circle",
        "centerline": np.stack([3 * np.cos(angles), 3 * np.sin(angles)], axis=1).tolist(),
        "width": 1.0,
    }
    import json

    path = tmp_path / "circle.json"
    path.write_text(json.dumps(doc))
    track = load_track(path)
    assert track.display_name == "circle" and track.closed
    np.testing.assert_allclose(np.hypot(*track.left.T), 2.5, atol=1e-3)
    np.testing.assert_allclose(np.hypot(*track.right.T), 3.5, atol=1e-3)


# ---------------------------------------------------------------------- synthetic projection
def _rectangle() -> Track:
    """4 m x 2 m counter-clockwise rectangle, 1 m wide, starting at the origin."""
    centre = np.array([[0, 0], [4, 0], [4, 2], [0, 2]], dtype=float)
    left = np.array([[0.5, 0.5], [3.5, 0.5], [3.5, 1.5], [0.5, 1.5]])
    right = np.array([[-0.5, -0.5], [4.5, -0.5], [4.5, 2.5], [-0.5, 2.5]])
    return Track.from_arrays("rect", centre, left, right)


def test_projection_on_rectangle_by_hand() -> None:
    rect = _rectangle()
    assert rect.length == 12.0
    pts = np.array([[1.0, 0.3], [2.0, -0.25], [4.2, 1.0], [1.0, 2.1], [-0.4, 1.0]])
    proj = rect.project(pts)
    np.testing.assert_allclose(proj.s, [1.0, 2.0, 5.0, 9.0, 11.0])
    np.testing.assert_allclose(proj.offset, [0.3, -0.25, -0.2, -0.1, -0.4])
    np.testing.assert_array_equal(proj.segment, [0, 0, 1, 2, 3])
    assert proj.inside.all()
    np.testing.assert_allclose(rect.point_at(5.0, 0.25), [3.75, 1.0])
    np.testing.assert_allclose(rect.heading_at(np.array([1.0, 5.0, 9.0, 11.0])),
                               [0, math.pi / 2, math.pi, -math.pi / 2])  # fmt: skip
    outside = rect.project(np.array([2.0, 0.8]))
    assert not outside.inside[0]


def test_projection_on_circle() -> None:
    n = 720
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    centre = np.stack([2 * np.cos(a), 2 * np.sin(a)], axis=1)
    track = Track.from_centreline("circle", centre, 0.8)
    assert track.length == pytest.approx(2 * np.pi * 2, rel=1e-4)
    proj = track.project(np.array([[0.0, 1.7], [0.0, -2.3]]))
    np.testing.assert_allclose(proj.offset, [0.3, -0.3], atol=1e-4)
    np.testing.assert_allclose(proj.s, [track.length / 4, track.length * 3 / 4], atol=2e-3)
    np.testing.assert_allclose(track.curvature(), 0.5, rtol=1e-4)
