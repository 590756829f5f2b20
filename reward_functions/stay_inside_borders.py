"""Stay inside the borders: a flat reward for keeping every wheel a little away from the edge.

What it teaches: that anywhere on the track is fine, as long as no wheel gets close to a border.
The car is free to cut corners and find its own line, which makes it a good base for fast laps
once it is combined with a speed or progress term.
When to use it: tracks with long straights and wide turns, or as the "safety" part of your own
reward. On its own it learns slowly, because it gives no reason to move forward.

Reward: 1.0 with a safety margin to both borders, 0.5 close to a border, 0.001 off the track.
"""

# Distance from the (x, y) point to a border, in metres, that still counts as safe.
SAFE_MARGIN = 0.15


def reward_function(params):
    if not params["all_wheels_on_track"] or params["is_offtrack"]:
        return 1e-3

    to_border = 0.5 * params["track_width"] - params["distance_from_center"]
    if to_border >= SAFE_MARGIN:
        return 1.0
    return 0.5
