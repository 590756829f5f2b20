"""The race form: a race's settings as form values, and form values back as API fields.

Form values are strings, exactly as the inputs hold them. An edit sends only the settings
whose values differ from the race's current ones, so saving an unchanged form never races
the submissions again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from racer.server.models import Race
from racer.server.schemas import BotsIn, ObstaclesIn, RaceFields, RaceIn
from racer.server.web.render import input_time, parse_input_time

CHECKBOXES = ("reverse", "obstacles_randomize", "bots_lane_change")
TEXT = (
    "name",
    "slug",
    "description",
    "track",
    "track_custom",
    "race_type",
    "obstacles_count",
    "obstacles_min_gap",
    "obstacles_positions",
    "bots_count",
    "bots_speed",
    "bots_lane_change_interval",
    "bots_lane_change_time",
    "ranking",
    "ranking_laps",
    "laps",
    "off_track_penalty",
    "collision_penalty",
    "time_cap",
    "opens_at",
    "closes_at",
    "submission_limit",
    "entry",
    "qualifying_time",
    "seed",
)
SIDES = ("left", "right")


def number(value: float | int | None) -> str:
    """A number as an input shows it: ``180``, ``12.345``; None is blank."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.6f}".rstrip("0").rstrip(".")


def track_names() -> list[str]:
    """The tracks the server has (built-in and imported), for the track select."""
    from racer.sim.track_registry import list_tracks

    return [info.name for info in list_tracks()]


def race_values(race: Race | None) -> dict[str, str]:
    """The form's values for a race (None: a new race, with racer's defaults)."""
    settings: dict[str, Any] = dict(race.settings or {}) if race else {}
    obs = ObstaclesIn(**(settings.get("obstacles") or {}))
    bots = BotsIn(**(settings.get("bots") or {}))
    track = race.track if race else "reinvent_base"
    known = track in track_names()
    return {
        "name": race.name if race else "",
        "slug": race.slug if race else "",
        "description": race.description if race else "",
        "track": track if known else "",
        "track_custom": "" if known else track,
        "reverse": "on" if race and race.reverse else "",
        "race_type": race.race_type if race else "time_trial",
        "obstacles_count": number(obs.count),
        "obstacles_randomize": "on" if obs.randomize else "",
        "obstacles_min_gap": number(obs.min_gap),
        "obstacles_positions": ", ".join(f"{number(d)} {side}" for d, side in obs.positions),
        "bots_count": number(bots.count),
        "bots_speed": number(bots.speed),
        "bots_lane_change": "on" if bots.lane_change else "",
        "bots_lane_change_interval": number(bots.lane_change_interval),
        "bots_lane_change_time": number(bots.lane_change_time),
        "ranking": race.ranking if race else "best_lap",
        "ranking_laps": number(race.ranking_laps if race else 1),
        "laps": number(race.laps if race else 3),
        "off_track_penalty": number(race.off_track_penalty if race else 5.0),
        "collision_penalty": number(race.collision_penalty if race else 5.0),
        "time_cap": number(race.time_cap if race else 180.0),
        "opens_at": input_time(race.opens_at) if race else "",
        "closes_at": input_time(race.closes_at) if race else "",
        "submission_limit": number(race.submission_limit) if race else "",
        "entry": "public" if race is None or race.public else "invite",
        "qualifying_time": number(race.qualifying_time) if race else "",
        "seed": number(race.seed) if race else "",
    }


def form_values(form: FormData) -> dict[str, str]:
    """The race form's submitted values, as strings (a missing checkbox is blank)."""
    values = {}
    for key in TEXT + CHECKBOXES:
        value = form.get(key)
        values[key] = value.strip() if isinstance(value, str) else ""
    return values


def _positions(text: str) -> list[tuple[str, str]]:
    """``0.25 left, 0.6 right`` → ``[("0.25", "left"), ("0.6", "right")]``."""
    out = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        bits = part.split()
        if len(bits) != 2 or bits[1].lower() not in SIDES:
            raise ValueError(f"write each box as 'FRACTION left' or 'FRACTION right', not {part!r}")
        out.append((bits[0], bits[1].lower()))
    return out


def _blank_none(text: str) -> str | None:
    return text or None


def _raw_fields(values: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """Form values as the API's field names (numbers left as text for pydantic to check)."""
    data: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "track": values["track_custom"] or values["track"],
        "reverse": bool(values["reverse"]),
        "race_type": values["race_type"],
        "ranking": values["ranking"],
        "ranking_laps": values["ranking_laps"],
        "laps": values["laps"],
        "off_track_penalty": values["off_track_penalty"],
        "collision_penalty": values["collision_penalty"],
        "time_cap": values["time_cap"],
        "submission_limit": _blank_none(values["submission_limit"]),
        "public": values["entry"] != "invite",
        "qualifying_time": _blank_none(values["qualifying_time"]),
    }
    if values["seed"]:
        data["seed"] = values["seed"]
    for key in ("opens_at", "closes_at"):
        try:
            data[key] = parse_input_time(values[key])
        except ValueError:
            errors[key] = "enter a date and time, or leave it blank"
    if values["race_type"] == "object_avoidance":
        try:
            positions = _positions(values["obstacles_positions"])
        except ValueError as exc:
            errors["obstacles_positions"] = str(exc)
            positions = []
        data["obstacles"] = {
            "count": values["obstacles_count"],
            "randomize": bool(values["obstacles_randomize"]),
            "min_gap": values["obstacles_min_gap"],
            "positions": positions,
        }
    if values["race_type"] == "head_to_bot":
        data["bots"] = {
            "count": values["bots_count"],
            "speed": values["bots_speed"],
            "lane_change": bool(values["bots_lane_change"]),
            "lane_change_interval": values["bots_lane_change_interval"],
            "lane_change_time": values["bots_lane_change_time"],
        }
    return data


def _messages(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors by form input name (``obstacles_count``)."""
    out: dict[str, str] = {}
    for err in exc.errors():
        key = "_".join(str(part) for part in err["loc"] if isinstance(part, str)) or "form"
        out.setdefault(key, str(err["msg"]))
    return out


def new_race_fields(values: Mapping[str, str]) -> tuple[RaceIn | None, dict[str, str]]:
    """A new race's fields from the form, or None and the messages by input name."""
    errors: dict[str, str] = {}
    data = _raw_fields(values, errors)
    if values.get("slug"):
        data["slug"] = values["slug"]
    try:
        fields = RaceIn.model_validate(data)
    except ValidationError as exc:
        errors = {**_messages(exc), **errors}
        return None, errors
    return (None, errors) if errors else (fields, errors)


def edit_race_fields(
    race: Race, values: Mapping[str, str]
) -> tuple[RaceFields | None, dict[str, str]]:
    """The changed settings of a race from the form, or None and the messages by input name."""
    errors: dict[str, str] = {}
    data = _raw_fields(values, errors)
    current = _raw_fields(race_values(race), {})
    changed = {key: value for key, value in data.items() if current.get(key) != value}
    try:
        fields = RaceFields.model_validate(changed)
    except ValidationError as exc:
        errors = {**_messages(exc), **errors}
        return None, errors
    return (None, errors) if errors else (fields, errors)
