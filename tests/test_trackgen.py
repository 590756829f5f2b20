"""Generated tracks: valid, drivable, varied and reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from racer.sim.track_registry import get_track
from racer.sim.trackgen import generate_track
from racer.sim.trackio import TrackError, validate_track


@pytest.mark.parametrize("seed", range(100))
def test_generated_tracks_are_valid_and_drivable(seed: int) -> None:
    track = generate_track(seed)
    validate_track(track, f"seed {seed}")
    assert track.closed
    assert 1.0 / np.abs(track.curvature()).max() >= 0.5
    assert track.widths == pytest.approx(0.76, abs=0.01)
    assert track.length == pytest.approx(20.0, rel=0.01)


@pytest.mark.parametrize(("width", "min_radius", "length"), [(0.9, 0.6, 25.0), (1.07, 0.8, 30.0)])
def test_options_are_respected(width: float, min_radius: float, length: float) -> None:
    for seed in range(10):
        track = generate_track(seed, width=width, min_radius=min_radius, approx_length=length)
        assert 1.0 / np.abs(track.curvature()).max() >= min_radius
        assert np.median(track.widths) == pytest.approx(width, abs=0.01)
        assert track.length == pytest.approx(length, rel=0.01)


def test_same_seed_same_arrays() -> None:
    a, b = generate_track(7), generate_track(7)
    for x, y in ((a.centre, b.centre), (a.left, b.left), (a.right, b.right)):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(generate_track(8).centre[:5], a.centre[:5])


def test_shapes_vary() -> None:
    tracks = [generate_track(seed) for seed in range(20)]
    assert {t.direction for t in tracks} == {"clockwise", "counterclockwise"}
    radii = [1.0 / np.abs(t.curvature()).max() for t in tracks]
    assert max(radii) - min(radii) > 0.3


def test_registry_names_round_trip() -> None:
    track = get_track("generated:3:width=0.9:min_radius=0.6")
    assert track.name == "generated:3:width=0.9:min_radius=0.6"
    assert get_track(track.name) is track
    np.testing.assert_array_equal(track.centre, generate_track(3, width=0.9, min_radius=0.6).centre)
    assert get_track("generated:3:reverse").direction != get_track("generated:3").direction


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0.1}, "larger than the car"),
        ({"width": 1.0, "min_radius": 0.4}, "half the width"),
        ({"min_radius": 4.0}, "cannot keep every turn radius"),
    ],
)
def test_impossible_options(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_track(0, **kwargs)


def test_impossible_options_through_registry() -> None:
    with pytest.raises(TrackError, match="half the width"):
        get_track("generated:1:width=1.0:min_radius=0.4")
