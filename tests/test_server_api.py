"""The race server's JSON API on SQLite and PostgreSQL: roles, races, invites, submissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from racer.server.models import Job, Submission
from racer.server.worker import Worker
from tests.server_support import Server, fake_evaluator, make_server, tiny_onnx


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Server:
    srv = make_server(db_url, tmp_path / "data", max_upload_bytes=2_000_000)
    yield srv
    srv.db.dispose()


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return tiny_onnx(tmp_path / "tiny.onnx")


def test_roles_and_tokens(server: Server) -> None:
    c = server.client
    assert c.post("/api/races", json={"name": "A", "track": "reinvent_base"}).status_code == 401
    bad = c.get("/api/me", headers={"Authorization": "Bearer rt_nonsense"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert c.get("/api/me", headers=server.auth()).json()["is_organiser"] is True
    server.racer("Ada")
    me = c.get("/api/me", headers=server.auth("Ada")).json()
    assert me["name"] == "Ada" and me["is_organiser"] is False
    forbidden = c.post("/api/races", json={"name": "A", "track": "x"}, headers=server.auth("Ada"))
    assert forbidden.status_code == 403
    assert c.get("/api/invites", headers=server.auth("Ada")).status_code == 403
    with server.db.session() as s:  # tokens are stored hashed, never in clear
        from racer.server.models import Racer

        hashes = s.scalars(select(Racer.token_hash)).all()
    assert server.tokens["Ada"] not in hashes and server.organiser not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_race_validation(server: Server) -> None:
    c, h = server.client, server.auth()
    r = c.post("/api/races", json={"name": "A", "track": "reinvnt_base"}, headers=h)
    assert r.status_code == 422 and "reinvnt_base" in r.json()["detail"]
    r = c.post(
        "/api/races",
        json={"name": "A", "track": "reinvent_base", "laps": 2, "ranking_laps": 3},
        headers=h,
    )
    assert r.status_code == 422 and "ranking_laps" in r.json()["detail"]
    r = c.post("/api/races", json={"name": "A", "track": "/etc/passwd"}, headers=h)
    assert r.status_code == 422 and "not a path" in r.json()["detail"]
    r = c.post("/api/races", json={"name": "A", "track": "reinvent_base", "lpas": 2}, headers=h)
    assert r.status_code == 422
    race = server.race(
        name="Bots Night",
        race_type="head_to_bot",
        bots={"count": 2, "speed": 1.2},
        laps=3,
        ranking="average_lap",
        ranking_laps=2,
    )
    assert race["slug"] == "bots-night" and race["settings"]["bots"]["count"] == 2
    assert race["status"] == "open" and isinstance(race["seed"], int)
    again = c.post("/api/races", json={"name": "Bots Night", "track": "reinvent_base"}, headers=h)
    assert again.status_code == 201 and again.json()["slug"] != "bots-night"


def test_invites(server: Server) -> None:
    c, h = server.client, server.auth()
    code = c.post("/api/invites", json={"max_uses": 2}, headers=h).json()[0]["code"]
    assert (
        c.post("/api/invites/redeem", json={"code": code.lower(), "name": "A"}).status_code == 201
    )
    taken = c.post("/api/invites/redeem", json={"code": code, "name": "A"})
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]
    assert c.post("/api/invites/redeem", json={"code": code, "name": "B"}).status_code == 201
    used = c.post("/api/invites/redeem", json={"code": code, "name": "C"})
    assert used.status_code == 409 and "used up" in used.json()["detail"]
    assert c.post("/api/invites/redeem", json={"code": "ZZZZ-ZZZZ", "name": "D"}).status_code == 404
    bad = c.post("/api/invites/redeem", json={"code": code, "name": "<script>"})
    assert bad.status_code in (409, 422)
    listed = c.get("/api/invites", headers=h).json()
    assert listed[0]["uses"] == 2


def test_invite_only_race(server: Server, model: Path) -> None:
    c = server.client
    race = server.race(name="Secret", public=False)
    server.racer("Stranger")
    server.racer("Member", race=race["slug"])
    for who in ("Stranger", None):
        headers = server.auth(who) if who else {}
        assert c.get(f"/api/races/{race['slug']}", headers=headers).status_code == 404
        assert c.get(f"/api/races/{race['slug']}/leaderboard", headers=headers).status_code == 404
        assert all(r["slug"] != "secret" for r in c.get("/api/races", headers=headers).json())
    assert server.submit("secret", "Stranger", model).status_code == 404
    assert c.get("/api/races/secret", headers=server.auth("Member")).status_code == 200
    assert server.submit("secret", "Member", model).status_code == 201
    # an existing racer joins with a race code
    code = c.post("/api/invites", json={"race": "secret"}, headers=server.auth()).json()[0]["code"]
    joined = c.post("/api/me/races", json={"code": code}, headers=server.auth("Stranger"))
    assert joined.status_code == 200 and joined.json()["slug"] == "secret"
    assert server.submit("secret", "Stranger", model).status_code == 201


def test_submission_rules(server: Server, model: Path) -> None:
    c = server.client
    server.race(name="Limited", submission_limit=2)
    server.racer("Ada")
    first = server.submit("limited", "Ada", model)
    assert first.status_code == 201 and first.json()["state"] == "queued"
    assert server.submit("limited", "Ada", model, name="m2").status_code == 201
    third = server.submit("limited", "Ada", model, name="m3")
    assert third.status_code == 429 and "2 submissions" in third.json()["detail"]
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    server.race(name="Later", opens_at=soon)
    later = server.submit("later", "Ada", model)
    assert later.status_code == 409 and "opens at" in later.json()["detail"]
    assert c.post("/api/races/limited/close", headers=server.auth("Ada")).status_code == 403
    assert c.post("/api/races/limited/close", headers=server.auth()).json()["status"] == "closed"
    server.race(name="Open")
    c.post("/api/races/open/close", headers=server.auth())
    closed = server.submit("open", "Ada", model)
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    with server.db.session() as s:
        assert s.scalar(select(func.count(Job.id))) == 2


def test_bad_uploads_store_nothing(server: Server, tmp_path: Path) -> None:
    server.race(name="Cup")
    server.racer("Eve")
    junk = tmp_path / "junk.onnx"
    cases = {
        b"": 415,
        b"not a model at all": 415,
        b"\x80\x04\x95" + b"cos\nsystem\n" * 10: 415,  # a pickle
        b"x" * 2_100_000: 413,
    }
    for data, status in cases.items():
        junk.write_bytes(data)
        r = server.submit("cup", "Eve", junk)
        assert r.status_code == status, (data[:20], r.text)
        assert r.json()["detail"]
    huge = server.client.post(
        "/api/races/cup/submissions",
        content=b"x" * 4_000_000,
        headers={**server.auth("Eve"), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert huge.status_code == 413
    with server.db.session() as s:
        assert s.scalar(select(func.count(Submission.id))) == 0
    models = server.config.models_dir
    assert not models.exists() or not any(models.iterdir())


def test_worker_results_leaderboard_and_csv(server: Server, tmp_path: Path) -> None:
    c = server.client
    server.race(name="Cup")
    for name in ("Ada", "Bob", "Cy"):
        server.racer(name)
    models = {n: tiny_onnx(tmp_path / f"{n}.onnx", seed=i) for i, n in enumerate("abcd")}
    assert server.submit("cup", "Ada", models["a"], name="slow").status_code == 201
    assert server.submit("cup", "Ada", models["b"], name="fast").status_code == 201
    assert server.submit("cup", "Bob", models["c"], name="mid").status_code == 201
    assert server.submit("cup", "Cy", models["d"], name="dnf").status_code == 201
    times = {"slow": [14.0], "fast": [9.5], "mid": [11.25], "dnf": []}
    worker = Worker(server.config, server.db, "w1", evaluate=fake_evaluator(times))
    while worker.run_once():
        pass
    board = c.get("/api/races/cup/leaderboard").json()
    rows = [(r["rank"], r["racer"], r["best_lap"], r["submissions"]) for r in board["rows"]]
    assert rows == [(1, "Ada", 9.5, 2), (2, "Bob", 11.25, 1), (None, "Cy", None, 1)]
    sub = c.get(f"/api/submissions/{board['rows'][0]['submission_id']}").json()
    assert sub["state"] == "done" and sub["model_name"] == "fast" and sub["lap_times"] == [9.5]
    assert c.get("/api/races/cup/results.csv", headers=server.auth("Ada")).status_code == 403
    csv_text = c.get("/api/races/cup/results.csv", headers=server.auth()).text
    assert csv_text.splitlines()[1].startswith("1,Ada,9.500")
    # the organiser removes Ada's best: her other submission ranks
    assert c.delete(f"/api/submissions/{sub['id']}", headers=server.auth("Bob")).status_code == 403
    assert c.delete(f"/api/submissions/{sub['id']}", headers=server.auth()).status_code == 204
    rows = [(r["rank"], r["racer"]) for r in c.get("/api/races/cup/leaderboard").json()["rows"]]
    assert rows == [(1, "Bob"), (2, "Ada"), (None, "Cy")]


def test_model_download_is_private(server: Server, model: Path) -> None:
    c = server.client
    server.race(name="Cup")
    server.racer("Ada")
    server.racer("Bob")
    sid = server.submit("cup", "Ada", model).json()["id"]
    assert c.get(f"/api/submissions/{sid}/model").status_code == 401
    assert c.get(f"/api/submissions/{sid}/model", headers=server.auth("Bob")).status_code == 403
    own = c.get(f"/api/submissions/{sid}/model", headers=server.auth("Ada"))
    assert own.status_code == 200 and own.content == model.read_bytes()
    assert c.get(f"/api/submissions/{sid}/model", headers=server.auth()).status_code == 200
    assert c.get(f"/api/submissions/{sid}/files/video").status_code == 404
    assert c.get(f"/api/submissions/{sid}/files/passwd").status_code == 422


def test_rule_change_races_again_and_ranking_change_rescores(
    server: Server, tmp_path: Path
) -> None:
    c = server.client
    server.race(name="Cup", laps=3)
    server.racer("Ada")
    server.submit("cup", "Ada", tiny_onnx(tmp_path / "a.onnx"), name="a")
    worker = Worker(
        server.config, server.db, "w1", evaluate=fake_evaluator({"a": [10.0, 12.0, 11.0]})
    )
    assert worker.run_once()
    board = c.get("/api/races/cup/leaderboard").json()["rows"]
    assert board[0]["score"] == 10.0
    r = c.patch(
        "/api/races/cup", json={"ranking": "total_time", "ranking_laps": 3}, headers=server.auth()
    )
    assert r.status_code == 200
    row = c.get("/api/races/cup/leaderboard").json()["rows"][0]
    assert row["score"] == pytest.approx(33.0) and row["state"] == "done"
    c.patch("/api/races/cup", json={"off_track_penalty": 3.0}, headers=server.auth())
    row = c.get("/api/races/cup/leaderboard").json()["rows"][0]
    assert row["state"] == "queued" and row["score"] is None
    assert worker.run_once()
    assert c.get("/api/races/cup/leaderboard").json()["rows"][0]["state"] == "done"


def test_openapi_lists_the_api(server: Server) -> None:
    paths = server.client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/races",
        "/api/races/{slug}/leaderboard",
        "/api/races/{slug}/submissions",
        "/api/invites/redeem",
        "/api/submissions/{submission_id}",
    ):
        assert path in paths
