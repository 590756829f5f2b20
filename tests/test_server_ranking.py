"""The race server's ranking maths: rules, standings and the leaderboard order."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from racer.server.ranking import RaceRules, RaceRulesError, best_window, rank_key, standing


def rules(**kw: object) -> RaceRules:
    """Rules on reinvent_base with the given changes."""
    return RaceRules.from_mapping({"track": "reinvent_base", **kw})


# ---------------------------------------------------------------------------- RaceRules
def test_rules_defaults_match_the_race_table() -> None:
    r = RaceRules(track="reinvent_base")
    assert (r.ranking, r.laps, r.ranking_laps, r.time_cap, r.seed) == ("best_lap", 3, 1, 180.0, 0)
    assert (r.off_track_penalty, r.collision_penalty, r.qualifying_time) == (5.0, 5.0, None)


def test_rules_round_trip_through_json() -> None:
    r = rules(
        reverse=True,
        race_type="object-avoidance",
        settings={"obstacles": {"count": 2, "positions": [[0.3, "left"], [0.6, "right"]]}},
        ranking="average_lap",
        laps=5,
        ranking_laps=3,
        time_cap=300,
        seed=7,
        qualifying_time=12.5,
    )
    assert r.race_type == "object_avoidance"
    back = RaceRules.from_mapping(json.loads(json.dumps(r.to_dict())))
    assert back == r


def test_from_mapping_ignores_other_columns_and_coerces() -> None:
    r = RaceRules.from_mapping(
        {"id": 3, "slug": "cup", "name": "Cup", "track": "Oval_track", "laps": 2.0,
         "time_cap": "90", "settings": None, "qualifying_time": None}
    )  # fmt: skip
    assert (r.track, r.laps, r.time_cap, r.settings) == ("Oval_track", 2, 90.0, {})


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"ranking": "fastest"}, "ranking"),
        ({"race_type": "drag"}, "race_type"),
        ({"laps": 0}, "laps"),
        ({"laps": 2.5}, "laps"),
        ({"ranking": "total_time", "laps": 2, "ranking_laps": 3}, "ranking_laps"),
        ({"ranking_laps": 0}, "ranking_laps"),
        ({"off_track_penalty": -1}, "off_track_penalty"),
        ({"time_cap": 0}, "time_cap"),
        ({"qualifying_time": 0}, "qualifying_time"),
        ({"reverse": "yes"}, "reverse"),
        ({"settings": [1, 2]}, "settings"),
        ({"track": ""}, "track"),
    ],
)
def test_invalid_rules_are_refused_by_name(change: dict[str, object], word: str) -> None:
    with pytest.raises(RaceRulesError, match=word):
        rules(**change)


def test_missing_track_is_refused() -> None:
    with pytest.raises(RaceRulesError, match="track"):
        RaceRules.from_mapping({"laps": 3})


def test_best_lap_races_ignore_ranking_laps_beyond_laps() -> None:
    assert rules(ranking="best_lap", laps=2, ranking_laps=5).window == 2


# ---------------------------------------------------------------------------- standings
def test_best_lap() -> None:
    s = standing([12.5, 11.25, 11.75], rules(ranking="best_lap"))
    assert s.best_lap == s.score == 11.25
    assert s.laps_completed == 3
    assert s.total_time == 35.5  # all the race's laps for a best-lap race
    assert s.average_lap == pytest.approx(35.5 / 3, abs=1e-3)


def test_best_lap_counts_the_laps_of_an_unfinished_run() -> None:
    s = standing([12.0], rules(ranking="best_lap", laps=3))
    assert (s.score, s.best_lap, s.total_time, s.average_lap) == (12.0, 12.0, None, None)
    assert s.ranked


def test_average_lap_takes_the_best_window_of_consecutive_laps() -> None:
    r = rules(ranking="average_lap", laps=5, ranking_laps=2)
    s = standing([15.0, 10.0, 14.0, 11.0, 11.0], r)
    # windows: 12.5, 12.0, 12.5, 11.0 -> the last two laps
    assert s.average_lap == s.score == 11.0
    assert s.best_lap == 10.0  # the fastest single lap is not in the best window


def test_average_lap_window_is_consecutive_not_the_n_fastest() -> None:
    r = rules(ranking="average_lap", laps=4, ranking_laps=2)
    s = standing([10.0, 20.0, 10.0, 20.0], r)
    assert s.score == 15.0


def test_average_lap_needs_enough_laps() -> None:
    r = rules(ranking="average_lap", laps=3, ranking_laps=3)
    s = standing([10.0, 10.0], r)
    assert s.score is None and s.average_lap is None and not s.ranked
    assert s.best_lap == 10.0


def test_total_time_is_the_first_n_laps() -> None:
    r = rules(ranking="total_time", laps=4, ranking_laps=3)
    s = standing([10.0, 11.0, 12.0, 5.0], r)
    assert s.total_time == s.score == 33.0


def test_total_time_needs_the_n_laps() -> None:
    r = rules(ranking="total_time", laps=3, ranking_laps=3)
    assert standing([10.0, 11.0], r).score is None
    assert standing([], r).score is None


def test_no_laps_means_no_standing() -> None:
    s = standing([], rules())
    assert (s.best_lap, s.score, s.laps_completed, s.qualified) == (None, None, 0, False)


def test_times_are_rounded_to_milliseconds() -> None:
    s = standing([22.26666666666, 22.06666666667000001], rules(laps=2))
    assert s.lap_times == (22.267, 22.067)
    assert s.to_dict()["lap_times"] == [22.267, 22.067]


def test_extra_laps_beyond_the_race_are_ignored() -> None:
    s = standing([10.0, 9.0, 8.0], rules(laps=2))
    assert s.lap_times == (10.0, 9.0) and s.best_lap == 9.0


def test_bad_lap_times_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        standing([10.0, float("nan")], rules())
    with pytest.raises(ValueError, match="finite"):
        standing([-1.0], rules())


@pytest.mark.parametrize(
    ("qualifying", "best", "qualified"),
    [(None, [10.0], False), (10.0, [10.0], True), (10.0, [10.001], False), (12.0, [], False)],
)
def test_qualification(qualifying: float | None, best: list[float], qualified: bool) -> None:
    assert standing(best, rules(qualifying_time=qualifying)).qualified is qualified


def test_best_window() -> None:
    assert best_window([3.0, 1.0, 2.0], 1) == 1.0
    assert best_window([3.0, 1.0, 2.0], 3) == 2.0
    assert best_window([3.0], 2) is None
    with pytest.raises(ValueError):
        best_window([1.0], 0)


# ---------------------------------------------------------------------------- leaderboard
def test_rank_key_orders_a_leaderboard() -> None:
    t0 = datetime(2025, 1, 1)
    rows = {
        "slow": rank_key(12.0, 3, 100.0, t0),
        "fast-late": rank_key(10.0, 3, 100.0, t0 + timedelta(minutes=5)),
        "fast-early": rank_key(10.0, 3, 100.0, t0 + timedelta(minutes=1)),
        "dnf-2-laps": rank_key(None, 2, 70.0, t0),
        "dnf-1-lap-far": rank_key(None, 1, 60.0, t0),
        "dnf-1-lap-near": rank_key(None, 1, 40.0, t0),
        "dnf-1-lap-near-later": rank_key(None, 1, 40.0, t0 + timedelta(hours=1)),
    }
    order = sorted(rows, key=lambda k: rows[k])
    assert order == [
        "fast-early",
        "fast-late",
        "slow",
        "dnf-2-laps",
        "dnf-1-lap-far",
        "dnf-1-lap-near",
        "dnf-1-lap-near-later",
    ]


def test_rank_key_takes_submission_ids_too() -> None:
    keys = [rank_key(9.5, 1, 100.0, 7), rank_key(9.5, 1, 100.0, 3), rank_key(None, 5, 99.0, 1)]
    assert sorted(keys) == [keys[1], keys[0], keys[2]]


def test_a_ranked_row_beats_an_unranked_one_with_more_laps() -> None:
    # An average-of-3 race: a run with 2 fast laps is not ranked, one with 3 slow laps is.
    r = rules(ranking="average_lap", laps=3, ranking_laps=3)
    two, three = standing([8.0, 8.0], r), standing([20.0, 20.0, 20.0], r)
    k2 = rank_key(two.score, two.laps_completed, 66.0, 1)
    k3 = rank_key(three.score, three.laps_completed, 100.0, 2)
    assert k3 < k2
