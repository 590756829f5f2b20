"""RaceClient and ``racer submit`` / ``racer join`` against a small real HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx")

import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from racer.cli.submit import join, submit  # noqa: E402
from racer.server.client import RaceClient, ServerError, WaitTimeout  # noqa: E402

TOKEN = "secret-token"
DONE = {
    "id": 7,
    "state": "done",
    "race": "spring",
    "model_name": "fast",
    "lap_times": [12.5, 11.75],
    "best_lap": 11.75,
    "average_lap": 12.125,
    "total_time": 24.25,
    "laps_completed": 2,
    "off_tracks": 1,
    "crashes": 0,
    "error": None,
}


class FakeRaceServer(BaseHTTPRequestHandler):
    """Just enough of the race server's API; records what it was sent."""

    state: dict[str, Any]

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: Any, ctype: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/api/invites/redeem":
            sent = json.loads(body)
            if sent["code"] != "GOOD":
                return self._reply(404, {"detail": "unknown or already used invite code"})
            return self._reply(200, {"racer_id": 3, "name": sent["name"], "token": TOKEN})
        race = self.path.split("/")[3]
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, {"detail": "invalid or missing racer token"})
        if race == "strict":
            problems = [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]
            return self._reply(422, {"detail": problems})
        if race == "broken":
            return self._reply(502, b"<html><h1>Bad Gateway</h1></html>", "text/html")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body
        )
        parts = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            key = part.get_param("name", header="content-disposition")
            parts[key] = (
                part.get_filename(),
                part.get_content_type(),
                part.get_payload(decode=True),
            )
        self.state["upload"] = parts
        name = parts["name"][2].decode()
        return self._reply(201, {"id": 7, "state": "queued", "race": race, "model_name": name})

    def do_GET(self) -> None:
        if self.path == "/api/submissions/7":
            self.state["polls"] = self.state.get("polls", 0) + 1
            final = self.state.get("final", DONE)
            return self._reply(
                200, final if self.state["polls"] > 1 else {"id": 7, "state": "running"}
            )
        if self.path == "/api/submissions/8":
            return self._reply(200, {"id": 8, "state": "queued"})
        if self.path.endswith("/leaderboard"):
            return self._reply(
                200, {"race": "spring", "entries": [{"rank": 1, "submission_id": 7}]}
            )
        return self._reply(404, {"detail": "Not Found"})


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    state: dict[str, Any] = {}
    handler = type("Handler", (FakeRaceServer,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def onnx_file(tmp_path: Path) -> Path:
    path = tmp_path / "fast.onnx"
    path.write_bytes(b"\x08\x08 not really onnx; the fake server does not look")
    return path


def test_redeem_and_submit(server: tuple[str, dict[str, Any]], onnx_file: Path) -> None:
    url, state = server
    with RaceClient(url) as client:
        assert client.server_url == url.rstrip("/")
        assert client.redeem("GOOD", "ada") == {"racer_id": 3, "name": "ada", "token": TOKEN}
    meta = onnx_file.with_name("model_metadata.json")
    meta.write_text('{"action_space": []}')
    with RaceClient(url, token=TOKEN) as client:
        entry = client.submit("spring", onnx_file, "fast", metadata_path=meta)
        assert entry == {"id": 7, "state": "queued", "race": "spring", "model_name": "fast"}
        assert client.submission_url(7) == url + "submissions/7"
        assert client.wait(7, timeout=10, poll=0.01)["best_lap"] == 11.75
        assert state["polls"] == 2
        assert client.leaderboard("spring")["entries"][0]["rank"] == 1
    upload = state["upload"]
    assert upload["model"] == ("fast.onnx", "application/octet-stream", onnx_file.read_bytes())
    assert upload["metadata"][0] == "model_metadata.json"
    assert upload["metadata"][2] == meta.read_bytes()
    assert upload["name"][2] == b"fast"


def test_error_reasons_come_from_the_server(
    server: tuple[str, dict[str, Any]], onnx_file: Path
) -> None:
    url, _ = server
    with RaceClient(url, token=TOKEN) as client:
        with pytest.raises(ServerError) as info:
            client.redeem("BAD", "ada")
        assert info.value.status_code == 404
        assert info.value.reason == "unknown or already used invite code"
        assert str(info.value) == "the race server answered HTTP 404: " + info.value.reason
        with pytest.raises(ServerError, match=r"HTTP 422: name: Field required"):
            client.submit("strict", onnx_file, "fast")
        with pytest.raises(ServerError, match=r"HTTP 502: <html><h1>Bad Gateway"):
            client.submit("broken", onnx_file, "fast")
        with pytest.raises(WaitTimeout, match="submission 8 is still queued after 0.05 s"):
            client.wait(8, timeout=0.05, poll=0.01)
    with RaceClient(url, token="wrong") as client, pytest.raises(ServerError, match="HTTP 401"):
        client.submit("spring", onnx_file, "fast")
    with RaceClient(url) as client, pytest.raises(ServerError, match="RACER_TOKEN") as info:
        client.submit("spring", onnx_file, "fast")
    assert info.value.status_code is None


def test_an_unreachable_server(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    with RaceClient(url, timeout=5) as client, pytest.raises(ServerError) as info:
        client.leaderboard("spring")
    assert info.value.status_code is None
    assert str(info.value).startswith(f"cannot reach the race server at {url}: ")
    with pytest.raises(ServerError, match="must start with http:// or https://"):
        RaceClient(f"127.0.0.1:{closed_port}")


# ---- the command line -------------------------------------------------------------------

app = typer.Typer()
app.command("submit")(submit)
app.command("join")(join)
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RACER_TOKEN", raising=False)
    monkeypatch.delenv("RACER_SERVER", raising=False)


def run(*args: str, **env: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env})


def test_submit_refuses_a_missing_file_or_token(tmp_path: Path, onnx_file: Path) -> None:
    missing = tmp_path / "nope.onnx"
    result = run("submit", str(missing), "--race", "spring", "--server", "http://x", "--token", "t")
    assert result.exit_code == 1, result.output
    assert f"error: no such model file: {missing}" in result.output
    result = run("submit", str(onnx_file), "--race", "spring", "--server", "http://x")
    assert result.exit_code == 1 and "needs your racer token" in result.output
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"\x1f\x8b")
    result = run("submit", str(archive), "--race", "r", "--server", "http://x", "--token", "t")
    assert result.exit_code == 1 and "is not an ONNX model" in result.output
    assert "Traceback" not in result.output


def test_submit_and_wait(server: tuple[str, dict[str, Any]], onnx_file: Path) -> None:
    url, state = server
    result = run("submit", str(onnx_file), "--race", "spring", RACER_SERVER=url, RACER_TOKEN=TOKEN)
    assert result.exit_code == 0, result.output
    assert "submission 7" in result.output and url + "submissions/7" in result.output
    for text in ("Lap 1", "12.500 s", "Best lap", "11.750 s", "Rank", "Off-track"):
        assert text in result.output, result.output
    assert state["upload"]["name"][2] == b"fast" and "metadata" not in state["upload"]


def test_submit_reports_a_failed_evaluation(
    server: tuple[str, dict[str, Any]], onnx_file: Path
) -> None:
    url, state = server
    state["final"] = {"id": 7, "state": "failed", "error": "the car never left the start line"}
    args = ("submit", str(onnx_file), "--race", "spring", "--server", url, "--token", TOKEN)
    result = run(*args, "--name", "mine")
    assert result.exit_code == 1
    assert "failed: the car never left the start line" in result.output
    assert state["upload"]["name"][2] == b"mine"
    result = run(*args, "--no-wait")
    assert result.exit_code == 0 and "Best lap" not in result.output
    result = run("submit", str(onnx_file), "--race", "strict", "--server", url, "--token", TOKEN)
    assert result.exit_code == 1
    assert "error: the race server answered HTTP 422: name: Field required" in result.output


def test_submit_exports_a_trained_model_first(
    server: tuple[str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = server
    run_dir = tmp_path / "models" / "my run"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text("name: my run\n")
    (run_dir / "model.zip").write_bytes(b"")
    exported: list[tuple[str, str]] = []

    def fake_export(model: str, dest: Path, models_dir: Path, which: str, console: Any) -> Path:
        exported.append((model, which))
        dest.write_bytes(b"onnx bytes")
        return dest

    monkeypatch.setattr("racer.cli.submit._export", fake_export)
    args = ("--race", "spring", "--server", url, "--token", TOKEN, "--no-wait")
    models = str(tmp_path / "models")
    result = run("submit", "my run", "--models-dir", models, "--which", "latest", *args)
    assert result.exit_code == 0, result.output
    assert exported == [("my run", "latest")]
    assert state["upload"]["model"][0] == "my_run.onnx"
    assert state["upload"]["model"][2] == b"onnx bytes" and state["upload"]["name"][2] == b"my run"
    result = run("submit", "other run", "--models-dir", models, *args)
    assert result.exit_code == 1 and "error: no run 'other run'" in result.output
    assert len(exported) == 1


def test_join(server: tuple[str, dict[str, Any]], closed_port: int) -> None:
    url, _ = server
    result = run("join", "--server", url, "--code", "GOOD", "--name", "ada")
    assert result.exit_code == 0, result.output
    assert "Welcome, ada" in result.output and f"export RACER_TOKEN={TOKEN}" in result.output
    result = run("join", "--server", url, "--code", "BAD", "--name", "ada")
    assert result.exit_code == 1 and "unknown or already used invite code" in result.output
    down = f"http://127.0.0.1:{closed_port}"
    result = run("join", "--server", down, "--code", "GOOD", "--name", "ada")
    assert result.exit_code == 1 and f"cannot reach the race server at {down}" in result.output
