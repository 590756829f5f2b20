"""Racing line: reward driving on the physically optimal line at the optimal speed.

What it teaches: the fastest way round, as `racer tracks optimal TRACK` draws it. Each step
earns up to 1 for staying close to the racing line (the minimum-time path for the car's
measured limits), up to 0.5 for matching the optimal speed at that point of the line (paid
only when close to the line) and up to 0.5 for pointing along the line a little ahead.
When to use it: time trials, once a model completes laps; it asks for more than
``progress_speed`` and gives a denser signal about where to brake and where to turn in.

racer only: ``racer.rewards.extras.racing_line`` recognises the track from ``params`` and
computes its optimal lap once per process (a second or two); AWS DeepRacer does not have it.
"""

import math

from racer.rewards.extras import racing_line


def reward_function(params):
    if params["is_offtrack"] or not params["all_wheels_on_track"]:
        return 1e-3

    line = racing_line(params)
    # 1 on the line, 0 at a quarter of the track width from it.
    closeness = max(0.0, 1.0 - line["distance"] / (0.25 * params["track_width"]))
    # 1 at the optimal speed, 0 at half or double it.
    speed_match = max(0.0, 1.0 - abs(math.log(params["speed"] / line["speed"])) / math.log(2.0))
    alignment = max(0.0, math.cos(math.radians(line["heading_error"])))
    return float(1e-3 + closeness + 0.5 * speed_match * closeness + 0.5 * alignment)
