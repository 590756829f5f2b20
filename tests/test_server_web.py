"""The race server's web pages: every page for anonymous visitors, racers and the organiser,
the forms (race, invites, join, sign-in, upload), access control and the live board."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from racer.server.api.deps import COOKIE
from racer.server.models import Invite, Job, Race, Submission
from racer.server.submissions import record_failure, record_result
from racer.server.testing import constant_policy_onnx
from racer.server.web import forms
from racer.server.web.render import input_time, parse_input_time
from tests.server_support import Server, make_server


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return constant_policy_onnx(tmp_path_factory.mktemp("model") / "straight.onnx")


@pytest.fixture
def srv(tmp_path: Path) -> Server:
    return make_server("sqlite://", tmp_path / "data")


def browser(srv: Server, who: str | None = None) -> TestClient:
    """A client signed in by cookie as the organiser, a named racer, or nobody."""
    client = TestClient(srv.client.app)
    if who is not None:
        token = srv.organiser if who == "organiser" else srv.tokens[who]
        client.cookies.set(COOKIE, token)
    return client


def outcome(laps: list[float], off_tracks: int = 0, files: dict[str, str] | None = None) -> Any:
    return {
        "standing": {
            "best_lap": min(laps) if laps else None,
            "average_lap": sum(laps) / len(laps) if laps else None,
            "total_time": sum(laps) if laps else None,
            "laps_completed": len(laps),
            "lap_times": laps,
            "score": min(laps) if len(laps) >= 1 else None,
        },
        "off_tracks": off_tracks,
        "crashes": 0,
        "progress": 100.0 if laps else 40.0,
        "files": files or {},
    }


def finish(srv: Server, sub_id: int, laps: list[float] | None = None, **kw: Any) -> None:
    """Store a result (or a failure with ``laps=None``) without the simulator."""
    with srv.db.session() as session:
        sub = session.get(Submission, sub_id)
        assert sub is not None
        if laps is None:
            record_failure(session, sub, kw.get("reason", "the model crashed"))
        else:
            record_result(session, sub, outcome(laps, **kw))


def entered(srv: Server, model: Path, race: str, who: str, name: str = "m1") -> int:
    if who not in srv.tokens:
        srv.racer(who)
    r = srv.submit(race, who, model, name=name)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def rows(html: str) -> list[str]:
    """The leaderboard's rows, tags stripped."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in body.split("</tr>")[:-1]
    ]


# ------------------------------------------------------------------ public pages
def test_race_list_shows_public_races_as_cards(srv: Server) -> None:
    srv.race(name="Spring Cup", ranking="average_lap", laps=3, ranking_laps=2)
    srv.race(name="Secret Heat", public=False)
    page = browser(srv).get("/")
    assert page.status_code == 200
    assert "Spring Cup" in page.text and "Secret Heat" not in page.text
    assert "average of 2 consecutive laps" in page.text
    assert 'class="track-svg"' in page.text and "re:Invent 2018" in page.text
    assert "status-open" in page.text
    assert browser(srv).get("/static/style.css").status_code == 200


def test_invite_only_race_is_hidden_from_strangers(srv: Server) -> None:
    srv.race(name="Secret Heat", public=False)
    srv.racer("ada", race="secret-heat")
    srv.racer("bob")
    assert "Secret Heat" in browser(srv, "ada").get("/").text
    assert "Secret Heat" in browser(srv, "organiser").get("/").text
    for who in (None, "bob"):
        for path in ("/races/secret-heat", "/races/secret-heat/board"):
            r = browser(srv, who).get(path)
            assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert browser(srv, "ada").get("/races/secret-heat").status_code == 200


def test_leaderboard_ranks_and_shows_unranked_states(srv: Server, model: Path) -> None:
    srv.race(name="Cup", laps=3, off_track_penalty=2)
    fast = entered(srv, model, "cup", "ada")
    slow = entered(srv, model, "cup", "bob")
    dnf = entered(srv, model, "cup", "cyd")
    failed = entered(srv, model, "cup", "dee")
    entered(srv, model, "cup", "eve")  # still queued
    finish(srv, fast, [10.5, 11.0, 11.5], off_tracks=1)
    finish(srv, slow, [12.25, 12.5, 13.0])
    finish(srv, dnf, [])
    finish(srv, failed, None)
    page = browser(srv).get("/races/cup")
    assert page.status_code == 200
    lines = rows(page.text)
    assert lines[0].startswith("1 ada 10.500 s") and lines[1].startswith("2 bob 12.250 s")
    assert "DNF" in lines[2] and "cyd" in lines[2]
    assert "failed" in " ".join(lines[3:]) and "queued" in " ".join(lines[3:])
    assert 'class="num ranked-col"' in page.text
    assert "off-track +2 s" in page.text and "3 laps in one run" in page.text
    assert 'data-board-url="/races/cup/board"' in page.text
    board = browser(srv).get("/races/cup/board")
    assert board.status_code == 200 and "<html" not in board.text
    assert rows(board.text) == lines
    assert board.headers["cache-control"] == "no-store"
    keys = re.findall(r'data-key="(\d+)" data-sig="([^"]+)"', board.text)
    assert len(keys) == 5


def test_board_signature_changes_with_a_result(srv: Server, model: Path) -> None:
    srv.race(name="Cup")
    sub = entered(srv, model, "cup", "ada")
    before = re.findall(r'data-sig="([^"]+)"', browser(srv).get("/races/cup/board").text)
    finish(srv, sub, [9.0])
    after = re.findall(r'data-sig="([^"]+)"', browser(srv).get("/races/cup/board").text)
    assert before != after and "9.000 s" in browser(srv).get("/races/cup/board").text


def test_ranking_columns_follow_the_race(srv: Server, model: Path) -> None:
    srv.race(name="Total", laps=3, ranking="total_time", ranking_laps=3)
    sub = entered(srv, model, "total", "ada")
    finish(srv, sub, [10.0, 11.0, 12.0])
    with srv.db.session() as session:  # the ranking decides the score
        s = session.get(Submission, sub)
        assert s is not None
        s.score = s.total_time
    page = browser(srv).get("/races/total").text
    assert "Total (3)" in page and "Best lap" in page
    assert rows(page)[0].startswith("1 ada 33.000 s 10.000 s")


def test_submission_page_done_failed_and_queued(srv: Server, model: Path) -> None:
    srv.race(name="Cup", laps=2)
    done = entered(srv, model, "cup", "ada", name="fast one")
    files = {"video": "video.webm", "trajectory": "trajectory.png"}
    finish(srv, done, [10.5, 11.25], files=files)
    page = browser(srv).get(f"/submissions/{done}")
    assert page.status_code == 200
    assert "fast one" in page.text and "10.500 s" in page.text and "11.250 s" in page.text
    assert (
        f'<video controls preload="metadata" playsinline src="/api/submissions/{done}/files/video"'
        in page.text
    )
    assert f"/api/submissions/{done}/files/trajectory" in page.text
    assert 'class="fastest"' in page.text and "Remove" not in page.text
    failed = entered(srv, model, "cup", "bob")
    finish(srv, failed, None, reason="the model crashed the worker")
    page = browser(srv).get(f"/submissions/{failed}")
    assert "The evaluation failed" in page.text and "the model crashed the worker" in page.text
    queued = entered(srv, model, "cup", "cyd")
    page = browser(srv).get(f"/submissions/{queued}")
    assert f'data-poll-submission="/api/submissions/{queued}"' in page.text
    assert "Waiting for an evaluation worker" in page.text


def test_submission_page_waits_for_the_video(srv: Server, model: Path) -> None:
    srv.race(name="Cup")
    sub = entered(srv, model, "cup", "ada")
    finish(srv, sub, [10.0], files={"trajectory": "trajectory.png"})
    with srv.db.session() as session:
        job = session.scalars(select(Job).where(Job.submission_id == sub)).one()
        job.phase, job.state = "video", "queued"
    page = browser(srv).get(f"/submissions/{sub}").text
    assert "Recording the lap video" in page and "data-wait-video" in page
    assert "<video" not in page


def test_licence_is_shown_with_a_download_link(srv: Server, model: Path) -> None:
    srv.race(name="Cup", qualifying_time=20)
    sub = entered(srv, model, "cup", "ada")
    finish(srv, sub, [10.0], files={"licence": "licence.png"})
    with srv.db.session() as session:
        s = session.get(Submission, sub)
        assert s is not None
        s.licence = True
    page = browser(srv).get(f"/submissions/{sub}").text
    assert "Racing licence" in page and f'download="racer-licence-{sub}.png"' in page
    assert "licence" in rows(browser(srv).get("/races/cup").text)[0]


def test_racer_profile_lists_visible_submissions(srv: Server, model: Path) -> None:
    srv.race(name="Open Cup")
    srv.race(name="Secret", public=False)
    srv.racer("ada", race="secret")
    sub = entered(srv, model, "open-cup", "ada", name="alpha")
    entered(srv, model, "secret", "ada", name="hidden-model")
    finish(srv, sub, [9.5])
    racer_id = browser(srv, "ada").get("/api/me").json()["id"]
    page = browser(srv).get(f"/racers/{racer_id}")
    assert page.status_code == 200 and "alpha" in page.text and "9.500 s" in page.text
    assert "hidden-model" not in page.text
    assert "hidden-model" in browser(srv, "ada").get(f"/racers/{racer_id}").text
    assert browser(srv).get("/racers/999").status_code == 404


def test_unknown_pages_are_html_and_the_api_stays_json(srv: Server) -> None:
    for path in ("/nowhere", "/races/nope", "/submissions/999", "/submissions/abc"):
        r = browser(srv).get(path)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"], path
        assert "Not found" in r.text
    r = browser(srv).get("/api/races/nope")
    assert r.status_code == 404 and r.json() == {"detail": "no race 'nope'"}


# ------------------------------------------------------------------ join, sign in, sign out
def test_join_shows_the_token_once_and_signs_in(srv: Server) -> None:
    srv.race(name="Secret", public=False)
    code = srv.client.post("/api/invites", json={"race": "secret"}, headers=srv.auth()).json()
    client = browser(srv)
    assert client.get(f"/join?code={code[0]['code']}").text.count(code[0]["code"]) == 1
    bad = client.post("/join", data={"code": "NOPE-NOPE", "name": "ada"})
    assert bad.status_code == 404 and "unknown invite code" in bad.text
    assert 'value="ada"' in bad.text
    r = client.post("/join", data={"code": code[0]["code"], "name": "ada"})
    assert r.status_code == 201
    token = re.search(r'<code id="token" class="token">([^<]+)</code>', r.text)
    assert token is not None
    assert f"--race secret --token {token.group(1)}" in r.text
    assert "data-copy" in r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert client.cookies.get(COOKIE) == token.group(1)
    assert "Secret" in client.get("/").text and ">ada</a>" in client.get("/").text
    used = browser(srv).post("/join", data={"code": code[0]["code"], "name": "bob"})
    assert used.status_code == 409 and "used up" in used.text
    assert browser(srv).post("/join", data={"code": "", "name": ""}).status_code == 422


def test_a_racer_enters_an_invite_only_race(srv: Server) -> None:
    srv.race(name="Secret", public=False)
    srv.racer("ada")
    code = srv.client.post("/api/invites", json={"race": "secret"}, headers=srv.auth()).json()
    client = browser(srv, "ada")
    assert 'action="/join/race"' in client.get("/join").text
    bad = client.post("/join/race", data={"race_code": "NOPE"})
    assert bad.status_code == 404 and "unknown race invite code" in bad.text
    r = client.post("/join/race", data={"race_code": code[0]["code"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/races/secret"
    assert client.get("/races/secret").status_code == 200
    anon = browser(srv).post("/join/race", data={"race_code": "X"}, follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"] == "/login?next=/"


def test_login_and_logout(srv: Server) -> None:
    srv.racer("ada")
    client = browser(srv)
    bad = client.post("/login", data={"token": "rt_wrong"})
    assert bad.status_code == 401 and "not known" in bad.text
    r = client.post("/login", data={"token": srv.tokens["ada"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert ">ada</a>" in client.get("/").text
    r = client.post("/logout", follow_redirects=False)
    assert r.status_code == 303 and COOKIE not in client.cookies
    org = browser(srv)
    r = org.post(
        "/login", data={"token": srv.organiser, "next": "//evil.example"}, follow_redirects=False
    )
    assert r.headers["location"] == "/admin"
    r = org.post(
        "/login", data={"token": srv.organiser, "next": "/races/x"}, follow_redirects=False
    )
    assert r.headers["location"] == "/races/x"


def test_a_stale_cookie_counts_as_signed_out(srv: Server) -> None:
    client = browser(srv)
    client.cookies.set(COOKIE, "rt_stale")
    r = client.get("/")
    assert r.status_code == 200 and "Sign in" in r.text
    assert f'{COOKIE}=""' in r.headers["set-cookie"]


# ------------------------------------------------------------------ access control
def test_only_the_organiser_gets_the_organiser_pages(srv: Server) -> None:
    srv.race(name="Cup")
    srv.racer("ada")
    anon = browser(srv).get("/admin", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"] == "/login?next=/admin"
    racer = browser(srv, "ada")
    for path in ("/admin", "/admin/races/new", "/admin/races/cup/edit"):
        r = racer.get(path)
        assert r.status_code == 403 and "only the organiser" in r.text, path
    assert racer.post("/admin/races/cup/close").status_code == 403
    anon_post = browser(srv).post("/admin/races/cup/close", follow_redirects=False)
    assert anon_post.headers["location"] == "/login?next=/admin"
    assert racer.post("/admin/invites", data={"count": "1", "max_uses": "1"}).status_code == 403
    assert srv.client.get("/api/races/cup").json()["status"] == "open"
    page = racer.get("/races/cup").text
    assert "Submit a model" in page and "Close race" not in page and "Edit" not in page


# ------------------------------------------------------------------ the organiser's forms
def race_form(**values: str) -> dict[str, str]:
    data = forms.race_values(None)
    data.update(values)
    return data


def test_admin_dashboard(srv: Server, model: Path) -> None:
    srv.race(name="Cup")
    entered(srv, model, "cup", "ada")
    page = browser(srv, "organiser").get("/admin")
    assert page.status_code == 200
    assert "Cup" in page.text and "/api/races/cup/results.csv" in page.text
    assert re.search(r"queued</span><span class=\"value\">1<", page.text)


def test_create_race_through_the_form(srv: Server) -> None:
    org = browser(srv, "organiser")
    form = org.get("/admin/races/new")
    assert form.status_code == 200 and '<option value="reinvent_base" selected>' in form.text
    data = race_form(
        name="Autumn Sprint",
        track="Oval_track",
        laps="2",
        ranking="average_lap",
        ranking_laps="2",
        time_cap="90",
        opens_at="2031-03-04T10:30",
        submission_limit="5",
        entry="invite",
        qualifying_time="12.5",
        reverse="on",
    )
    r = org.post("/admin/races/new", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/races/autumn-sprint?notice=saved"
    with srv.db.session() as session:
        race = session.scalar(select(Race).where(Race.slug == "autumn-sprint"))
        assert race is not None
        assert (race.track, race.laps, race.ranking, race.ranking_laps) == (
            "Oval_track",
            2,
            "average_lap",
            2,
        )
        assert race.reverse and not race.public and race.submission_limit == 5
        assert race.qualifying_time == 12.5 and race.time_cap == 90
        assert race.opens_at == parse_input_time("2031-03-04T10:30")
    page = org.get("/races/autumn-sprint?notice=saved")
    assert "The race was saved." in page.text and "upcoming" in page.text
    edit = org.get("/admin/races/autumn-sprint/edit")
    assert 'value="2031-03-04T10:30"' in edit.text


def test_generated_track_and_race_type_settings(srv: Server) -> None:
    org = browser(srv, "organiser")
    data = race_form(
        name="Boxes",
        track="",
        track_custom="generated:7",
        race_type="object_avoidance",
        obstacles_count="2",
        obstacles_positions="0.25 left, 0.6 right",
    )
    r = org.post("/admin/races/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    race = srv.client.get("/api/races/boxes").json()
    assert race["track"] == "generated:7"
    assert race["settings"]["obstacles"]["positions"] == [[0.25, "left"], [0.6, "right"]]
    assert "2 boxes, places set by the organiser" in org.get("/races/boxes").text
    edit = org.get("/admin/races/boxes/edit").text
    assert 'value="generated:7"' in edit and 'value="0.25 left, 0.6 right"' in edit


def test_invalid_race_form_shows_messages(srv: Server) -> None:
    org = browser(srv, "organiser")
    r = org.post("/admin/races/new", data=race_form(name="", laps="0", time_cap="abc"))
    assert r.status_code == 422
    assert "Some settings are not accepted" in r.text
    assert r.text.count('class="field-error"') == 3
    assert 'id="laps-error"' in r.text and 'id="time_cap-error"' in r.text
    assert 'value="abc"' in r.text
    r = org.post(
        "/admin/races/new", data=race_form(name="X", track="", track_custom="no_such_track")
    )
    assert r.status_code == 422 and "no_such_track" in r.text
    r = org.post(
        "/admin/races/new",
        data=race_form(name="X", laps="1", ranking="total_time", ranking_laps="3"),
    )
    assert r.status_code == 422 and "ranking_laps (3)" in r.text
    r = org.post("/admin/races/new", data=race_form(name="X", opens_at="soon"))
    assert r.status_code == 422 and 'id="opens_at-error"' in r.text
    srv.race(name="Taken")
    r = org.post("/admin/races/new", data=race_form(name="Y", slug="taken"))
    assert r.status_code == 409 and "exists already" in r.text
    assert len(srv.client.get("/api/races").json()) == 1


def test_edit_race(srv: Server, model: Path) -> None:
    srv.race(name="Cup", laps=2)
    sub = entered(srv, model, "cup", "ada")
    finish(srv, sub, [10.0, 10.5])
    org = browser(srv, "organiser")
    values = forms.race_values(None)
    page = org.get("/admin/races/cup/edit").text
    for key in values:  # the form round-trips the race's values
        if key in ("slug", "description"):
            continue
        assert f'name="{key}"' in page, key
    with srv.db.session() as session:
        race = session.scalar(select(Race).where(Race.slug == "cup"))
        assert race is not None
        current = forms.race_values(race)
    r = org.post("/admin/races/cup/edit", data={**current, "name": "Cup 2"}, follow_redirects=False)
    assert r.status_code == 303
    assert srv.client.get(f"/api/submissions/{sub}").json()["state"] == "done"  # not raced again
    bad = org.post(
        "/admin/races/cup/edit",
        data={
            **current,
            "name": "Cup 3",
            "laps": "1",
            "ranking": "total_time",
            "ranking_laps": "2",
        },
    )
    assert bad.status_code == 422 and "ranking_laps" in bad.text
    assert srv.client.get("/api/races/cup").json()["name"] == "Cup 2"  # nothing half-saved
    r = org.post(
        "/admin/races/cup/edit",
        data={**current, "name": "Cup 2", "laps": "3"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert srv.client.get(f"/api/submissions/{sub}").json()["state"] == "queued"  # raced again
    r = org.post("/admin/races/cup/edit", data={**current, "laps": "0"})
    assert r.status_code == 422 and 'id="laps-error"' in r.text


def test_invites_form(srv: Server) -> None:
    srv.race(name="Secret", public=False)
    org = browser(srv, "organiser")
    r = org.post(
        "/admin/invites",
        data={"count": "3", "max_uses": "2", "race": "secret"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?made=3#invites"
    page = org.get("/admin?made=3").text
    with srv.db.session() as session:
        codes = session.scalars(select(Invite.code)).all()
    assert len(codes) == 3 and all(code in page for code in codes)
    assert page.count('<tr class="new') == 3 and page.count("0/2") == 3
    bad = org.post("/admin/invites", data={"count": "0", "max_uses": "1", "race": ""})
    assert bad.status_code == 422 and "count must be 1-500" in bad.text
    bad = org.post("/admin/invites", data={"count": "x", "max_uses": "1", "race": ""})
    assert bad.status_code == 422
    assert (
        org.post("/admin/invites", data={"count": "1", "max_uses": "1", "race": "nope"}).status_code
        == 404
    )


def test_close_race_and_remove_submission(srv: Server, model: Path) -> None:
    srv.race(name="Cup")
    sub = entered(srv, model, "cup", "ada")
    finish(srv, sub, [9.0])
    org = browser(srv, "organiser")
    page = org.get(f"/submissions/{sub}").text
    assert f'action="/admin/submissions/{sub}/remove"' in page and "data-confirm" in page
    r = org.post(f"/admin/submissions/{sub}/remove", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/races/cup?notice=removed"
    assert srv.client.get(f"/api/submissions/{sub}").json()["state"] == "removed"
    assert "No submissions yet" in org.get("/races/cup").text
    r = org.post("/admin/races/cup/close", follow_redirects=False)
    assert r.status_code == 303
    page = org.get("/races/cup?notice=closed").text
    assert "status-closed" in page and "Submit a model" not in page
    blocked = browser(srv, "ada").get("/races/cup/submit")
    assert blocked.status_code == 409 and "is closed" in blocked.text


# ------------------------------------------------------------------ uploads
def test_upload_form(srv: Server, model: Path, tmp_path: Path) -> None:
    srv.race(name="Cup", submission_limit=1)
    srv.racer("ada")
    anon = browser(srv).get("/races/cup/submit", follow_redirects=False)
    assert anon.headers["location"] == "/login?next=/races/cup/submit"
    client = browser(srv, "ada")
    assert 'enctype="multipart/form-data"' in client.get("/races/cup/submit").text
    r = client.post(
        "/races/cup/submit",
        files={"model": ("bad.onnx", b"not a model", "application/octet-stream")},
        data={"name": "junk"},
    )
    assert r.status_code == 415 and 'value="junk"' in r.text and "form-error" in r.text
    r = client.post(
        "/races/cup/submit",
        data={"name": "nothing"},
        files={"model": ("", b"", "application/octet-stream")},
    )
    assert r.status_code == 422 and "choose the model" in r.text
    r = client.post(
        "/races/cup/submit",
        files={"model": ("straight.onnx", model.read_bytes(), "application/octet-stream")},
        data={"name": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    sub = srv.client.get(r.headers["location"].replace("/submissions/", "/api/submissions/")).json()
    assert sub["model_name"] == "straight" and sub["state"] == "queued" and sub["racer"] == "ada"
    again = client.post(
        "/races/cup/submit",
        files={"model": ("straight.onnx", model.read_bytes(), "application/octet-stream")},
    )
    assert again.status_code == 429 and "submissions" in again.text
    assert client.get("/races/cup/submit").status_code == 429


def test_datetime_inputs_are_local_time() -> None:
    utc = parse_input_time("2030-06-01T12:00")
    assert utc is not None and utc.tzinfo is None
    assert input_time(utc) == "2030-06-01T12:00"
    local = datetime(2030, 6, 1, 12, 0).astimezone()
    offset = local.utcoffset()
    assert offset is not None and utc == datetime(2030, 6, 1, 12, 0) - offset
    assert parse_input_time("") is None
    with pytest.raises(ValueError):
        parse_input_time("tomorrow")
