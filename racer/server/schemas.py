"""The API's request and response bodies (pydantic), which also make its OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RaceType = Literal["time_trial", "object_avoidance", "head_to_bot"]
Ranking = Literal["best_lap", "average_lap", "total_time"]


class ObstaclesIn(BaseModel):
    """Boxes for an object-avoidance race."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(3, ge=1, le=6)
    randomize: bool = False
    positions: list[tuple[float, Literal["left", "right"]]] = Field(default_factory=list)
    min_gap: float = Field(2.0, ge=0.5, le=20.0)


class BotsIn(BaseModel):
    """Bot cars for a head-to-bot race."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(3, ge=1, le=6)
    speed: float = Field(1.0, ge=0.2, le=6.0)
    lane_change: bool = False
    lane_change_interval: float = Field(5.0, ge=1.0, le=60.0)
    lane_change_time: float = Field(1.0, ge=0.2, le=10.0)


class RaceFields(BaseModel):
    """The settings of a race, all optional (an update changes the ones it sends)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=4000)
    track: str | None = Field(None, min_length=1, max_length=200)
    reverse: bool | None = None
    race_type: RaceType | None = None
    obstacles: ObstaclesIn | None = None
    bots: BotsIn | None = None
    ranking: Ranking | None = None
    laps: int | None = Field(None, ge=1, le=20)
    ranking_laps: int | None = Field(None, ge=1, le=20)
    off_track_penalty: float | None = Field(None, ge=0, le=60)
    collision_penalty: float | None = Field(None, ge=0, le=60)
    time_cap: float | None = Field(None, ge=10, le=3600)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    submission_limit: int | None = Field(None, ge=1, le=1000)
    public: bool | None = None
    qualifying_time: float | None = Field(None, gt=0, le=3600)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class RaceIn(RaceFields):
    """A new race: a name and a track at least; the rest has DeepRacer's defaults."""

    name: str = Field(..., min_length=1, max_length=120)
    track: str = Field(..., min_length=1, max_length=200)
    slug: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")


class RaceOut(BaseModel):
    """A race as the API shows it."""

    slug: str
    name: str
    description: str
    track: str
    reverse: bool
    race_type: str
    settings: dict[str, Any]
    ranking: str
    laps: int
    ranking_laps: int
    off_track_penalty: float
    collision_penalty: float
    time_cap: float
    opens_at: datetime | None
    closes_at: datetime | None
    status: Literal["upcoming", "open", "closed"]
    submission_limit: int | None
    public: bool
    qualifying_time: float | None
    seed: int
    submissions: int
    racers: int


class InviteIn(BaseModel):
    """Invite codes to make."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(1, ge=1, le=500)
    max_uses: int = Field(1, ge=1, le=10_000)
    race: str | None = Field(None, description="slug of an invite-only race the code enters")


class InviteOut(BaseModel):
    """An invite code and how much of it is used."""

    code: str
    race: str | None
    max_uses: int
    uses: int
    created_at: datetime


class RedeemIn(BaseModel):
    """A racer's first visit: an invite code and the name to race under."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=64)


class TokenOut(BaseModel):
    """A new personal token (shown once: the server keeps only its hash)."""

    racer_id: int
    name: str
    token: str


class JoinIn(BaseModel):
    """An invite code for an invite-only race, redeemed by an existing racer."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=32)


class RacerOut(BaseModel):
    """A racer's public profile."""

    id: int
    name: str
    is_organiser: bool
    created_at: datetime


class SubmissionOut(BaseModel):
    """A submission and, once evaluated, its result."""

    id: int
    race: str
    racer: str
    racer_id: int
    model_name: str
    state: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    best_lap: float | None
    average_lap: float | None
    total_time: float | None
    laps_completed: int
    lap_times: list[float]
    off_tracks: int
    crashes: int
    progress: float
    score: float | None
    licence: bool
    files: dict[str, str] = Field(description="URLs of the video, trajectory plot and licence")


class LeaderboardRow(BaseModel):
    """One racer's place: their best evaluated submission."""

    rank: int | None
    racer: str
    racer_id: int
    submission_id: int | None
    state: str
    best_lap: float | None
    average_lap: float | None
    total_time: float | None
    laps: int
    off_tracks: int
    crashes: int
    progress: float
    score: float | None
    submissions: int
    licence: bool


class LeaderboardOut(BaseModel):
    """A race's standings."""

    race: RaceOut
    rows: list[LeaderboardRow]
    updated_at: datetime
