"""The race server in a real browser (Chromium driven by Playwright) against a real server.

The organiser signs in and creates a race and an invite code through the web pages; a racer
joins and submits from the command line (``racer join``, ``racer submit``); the leaderboard,
left open in the browser, shows the ranked result by its live refresh, without a reload; the
submission page plays the lap video. Screenshots of each page at projector (1920x1080) and
phone (390x844) sizes go to ``$RACER_SHOTS`` (default ``/tmp/racer-shots``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from racer.server.testing import constant_policy_onnx
from tests.server_support import ServerProcess, cli_env

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"desktop": (1920, 1080), "phone": (390, 844)}
SHOTS = Path(os.environ.get("RACER_SHOTS", "/tmp/racer-shots"))

if not CHROMIUM.exists():
    if os.environ.get("RACER_TEST_BROWSER_REQUIRED") == "1":  # CI installs it: missing is a failure
        raise RuntimeError(f"RACER_TEST_BROWSER_REQUIRED=1 but there is no Chromium at {CHROMIUM}")
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium) for the browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is needed")


def _racer(*args: str, cwd: Path) -> str:
    """Run the ``racer`` command line; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "racer.cli.main", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    running = ServerProcess(
        tmp_path,
        "--workers",
        "1",
        env={
            "RACER_DATABASE_URL": f"sqlite:///{tmp_path / 'races.db'}",
            "RACER_DATA_DIR": str(tmp_path / "data"),
        },
    )
    try:
        yield running
    finally:
        running.stop()


def _shoot(page: Any, name: str, url: str) -> None:
    """Screenshots of ``url`` at each size."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.wait_for_load_state("load")
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 1920, "height": 1080})


def _wait_for_video(url: str, sid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sub = httpx.get(f"{url}/api/submissions/{sid}").json()
        if "video" in sub["files"] or sub["state"] == "failed":
            return
        time.sleep(0.5)


def test_organiser_and_racer_in_a_browser(server: ServerProcess, tmp_path: Path) -> None:
    model = constant_policy_onnx(tmp_path / "straight.onnx")
    url = server.url
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            errors: list[str] = []
            organiser = browser.new_page(viewport={"width": 1920, "height": 1080})
            organiser.on("pageerror", lambda exc: errors.append(str(exc)))
            organiser.goto(f"{url}/login")
            organiser.fill("#token", server.token())
            organiser.click("form.form button")
            organiser.wait_for_url(f"{url}/admin")

            organiser.goto(f"{url}/admin/races/new")
            organiser.fill("#name", "Browser Cup")
            organiser.select_option("#track", "reinvent_base")
            organiser.fill("#laps", "1")
            organiser.fill("#time_cap", "120")
            organiser.fill("#seed", "3")
            organiser.fill("#qualifying_time", "600")
            organiser.click(".form-actions button")
            organiser.wait_for_url(re.compile(r"/races/browser-cup"))
            assert organiser.locator("h1").inner_text().startswith("Browser Cup")

            organiser.goto(f"{url}/admin")
            organiser.fill("#count", "1")
            organiser.click("#invites form button")
            organiser.wait_for_url(re.compile(r"/admin\?made=1"))
            code = organiser.locator("#invites tr.new code").first.inner_text().strip()

            joined = _racer("join", "--server", url, "--code", code, "--name", "Ada", cwd=tmp_path)
            found = re.search(r"rt_[A-Za-z0-9_-]{20,}", joined)
            assert found, joined
            token = found.group(0)

            board = browser.new_page(viewport={"width": 1920, "height": 1080})
            board.on("pageerror", lambda exc: errors.append(str(exc)))
            board.goto(f"{url}/races/browser-cup")
            assert "No submissions yet" in board.inner_text("#board")
            board.evaluate("window.stayedOnPage = true")

            submitted = _racer(
                "submit", str(model), "--server", url, "--race", "browser-cup",
                "--token", token, "--no-wait", cwd=tmp_path,
            )  # fmt: skip
            sid = int(re.search(r"submission (\d+)", submitted).group(1))  # type: ignore[union-attr]

            first = board.locator("#board tr.row-ranked").first
            first.wait_for(timeout=60_000)  # the live refresh brings it in
            assert first.locator("td.rank").inner_text().strip() == "1"
            assert first.locator("td.racer a").inner_text().strip() == "Ada"
            assert re.fullmatch(
                r"\d+\.\d{3} s", first.locator("td.ranked-col").inner_text().strip()
            )
            assert board.evaluate("window.stayedOnPage") is True  # no reload
            assert "flash" in (first.get_attribute("class") or "")  # a new row lights up

            _wait_for_video(url, sid)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}/submissions/{sid}")
            assert "Ada" in page.inner_text(".race-title")
            if page.locator("video").count():
                media = page.evaluate(
                    """() => new Promise((resolve) => {
                        const v = document.querySelector("video");
                        const done = () => resolve({error: v.error && v.error.code,
                                                    duration: v.duration});
                        if (v.readyState >= 1) return done();
                        v.addEventListener("loadedmetadata", done);
                        v.addEventListener("error", done);
                        setTimeout(done, 15000);
                    })"""
                )
                assert media["error"] is None and media["duration"] > 0, media

            shots = {
                "races": "/",
                "leaderboard": "/races/browser-cup",
                "submission": f"/submissions/{sid}",
            }
            for name, path in shots.items():
                _shoot(page, name, url + path)
            for name, path in {"admin": "/admin", "race-form": "/admin/races/new"}.items():
                _shoot(organiser, name, url + path)
            assert not errors, errors
        finally:
            browser.close()
