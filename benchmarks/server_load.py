"""The race server under load: leaderboard latency with 100 clients, evaluations per worker.

Run: ``python benchmarks/server_load.py [--clients 100] [--seconds 20] [--racers 30]
[--evaluations 4] [--database-url URL]``.

1. **Leaderboard latency.** A race with ``--racers`` racers and three evaluated submissions
   each is written to a new database (SQLite by default; ``--database-url`` for PostgreSQL).
   ``racer server`` runs in its own process on loopback (no workers), and ``--clients``
   concurrent HTTP clients, each with its own connection, fetch the leaderboard in a loop for
   ``--seconds``: the JSON API (``/api/races/R/leaderboard``) and then the page's live-refresh
   fragment (``/races/R/board``), after a 2 s warm-up that is not recorded: first flat out
   (each client asks again as soon as it is answered: the server's limit, where latency is
   clients / throughput), then paced like the page's live refresh (every 5 s, starts spread
   over 5 s). Printed: requests/s, p50, p90, p99 and max latency.
2. **Evaluations per minute per worker.** ``--evaluations`` submissions (a constant
   straight-driving model from :mod:`racer.server.testing`: it leaves the track at every bend
   and is put back after the 5 s penalty, so each run drives the whole 180 s time cap of the
   default 3-lap race) are queued at once and one worker evaluates them in this process,
   with the video off and on. A worker stores every result before it records any video, so
   the table gives results per minute and, separately, videos per minute.

The two parts run one after the other; on a 2-core machine the server and the load generator
share the cores, so the figures are a floor for a workshop laptop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from racer.server.accounts import create_invites, ensure_organiser, redeem
from racer.server.config import ServerConfig
from racer.server.db import Database, connect
from racer.server.models import Race
from racer.server.races import create_race
from racer.server.schemas import RaceIn
from racer.server.submissions import create_submission, record_result
from racer.server.testing import constant_policy_onnx
from racer.server.uploads import validate_upload
from racer.server.worker import Worker

console = Console()
WARM_UP = 2.0
"""Seconds of load before latencies are recorded (100 connections opening at once)."""


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def populate(db: Database, config: ServerConfig, racers: int, model: Path) -> str:
    """A race with ``racers`` racers and three evaluated submissions each; returns its slug."""
    validated = validate_upload(model.read_bytes(), max_bytes=config.max_upload_bytes)
    with db.session() as session:
        ensure_organiser(session)
        race = create_race(
            session,
            RaceIn.model_validate({"name": "Load Test Cup", "track": "reinvent_base", "laps": 3}),
        )
        code = create_invites(session, max_uses=racers)[0].code
        for i in range(racers):
            racer, _ = redeem(session, code, f"Racer {i:03d}")
            for k in range(3):
                sub = create_submission(session, config, race, racer, validated, f"model-{k}")
                laps = [9.0 + (i * 7 + k * 3) % 40 / 10 + j * 0.1 for j in range(3)]
                record_result(
                    session,
                    sub,
                    {
                        "standing": {
                            "lap_times": laps,
                            "best_lap": min(laps),
                            "average_lap": sum(laps) / 3,
                            "total_time": sum(laps),
                            "laps_completed": 3,
                            "score": min(laps),
                        },
                        "off_tracks": (i + k) % 4,
                        "crashes": 0,
                        "progress": 100.0,
                        "files": {},
                    },
                )
        return race.slug


async def _client(
    base: str,
    path: str,
    warm: float,
    until: float,
    out: list[float],
    errors: list[int],
    pause: float,
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        if pause:  # paced clients start spread over one interval, as browsers do
            await asyncio.sleep(random.uniform(0, pause))
        while time.perf_counter() < until:
            start = time.perf_counter()
            response = await client.get(path)
            if start >= warm:  # connections opened and the first board rendered before this
                out.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors.append(response.status_code)
            if pause:
                await asyncio.sleep(pause)


async def hammer(
    base: str, path: str, clients: int, seconds: float, pause: float = 0.0
) -> dict[str, float]:
    """``clients`` concurrent clients GET ``path`` for ``seconds``; latency figures in ms.

    With ``pause`` 0 each client sends its next request as soon as the last is answered (the
    server's limit); otherwise it waits ``pause`` seconds between requests (a page's refresh).
    """
    latencies: list[float] = []
    errors: list[int] = []
    warm = time.perf_counter() + WARM_UP
    until = warm + seconds
    await asyncio.gather(
        *(_client(base, path, warm, until, latencies, errors, pause) for _ in range(clients))
    )
    wall = time.perf_counter() - warm
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    return {
        "requests": len(ms),
        "rps": len(ms) / wall,
        "p50": q[49],
        "p90": q[89],
        "p99": q[98],
        "max": ms[-1],
        "errors": len(errors),
    }


def start_server(url: str, data: Path, port: int) -> subprocess.Popen[bytes]:
    """``racer server`` in its own process, waiting until it answers."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "racer.cli.main",
            "server",
            "--database-url",
            url,
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--workers",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"the server did not start:\n{proc.stderr.read().decode()}")  # type: ignore[union-attr]
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not answer within 30 s")


def latency_part(args: argparse.Namespace, tmp: Path, model: Path) -> None:
    """Part 1: leaderboard latency under ``--clients`` concurrent clients."""
    url = args.database_url or f"sqlite:///{tmp / 'load.db'}"
    config = ServerConfig(database_url=url, data_dir=tmp / "data", workers=0)
    db = connect(url)
    slug = populate(db, config, args.racers, model)
    db.dispose()
    port = free_port()
    proc = start_server(url, config.data_dir, port)
    table = Table(title=f"leaderboard under {args.clients} concurrent clients ({args.seconds:g} s)")
    for col in ("endpoint", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"):
        table.add_column(col, justify="right" if col != "endpoint" else "left")
    try:
        base = f"http://127.0.0.1:{port}"
        runs = [
            ("JSON, flat out", f"/api/races/{slug}/leaderboard", 0.0),
            ("page fragment, flat out", f"/races/{slug}/board", 0.0),
            ("page fragment, every 5 s", f"/races/{slug}/board", 5.0),
        ]
        for label, path, pause in runs:
            if httpx.get(base + path).status_code == 404:
                continue  # the web pages are not installed
            r = asyncio.run(hammer(base, path, args.clients, args.seconds, pause))
            table.add_row(
                label,
                f"{r['rps']:.0f}",
                f"{r['p50']:.1f}",
                f"{r['p90']:.1f}",
                f"{r['p99']:.1f}",
                f"{r['max']:.1f}",
                str(int(r["errors"])),
            )
    finally:
        proc.terminate()
        proc.wait(10)
    backend = url.split(":", 1)[0]
    console.print(table)
    console.print(f"{args.racers} racers x 3 submissions, database: {backend}")


def evaluation_part(args: argparse.Namespace, tmp: Path, model: Path) -> None:
    """Part 2: evaluations per minute of one worker, results first and then videos."""
    table = Table(title=f"one worker, {args.evaluations} submissions queued at once")
    for col in ("video", "results/min", "s per result", "videos/min", "s per video", "sim s"):
        table.add_column(col, justify="right")
    from racer.server.evaluation import evaluate_submission
    from racer.server.ranking import RaceRules

    # warm-up: the first evaluation in a process compiles the camera's kernels
    evaluate_submission(model, {}, RaceRules(track="reinvent_base", time_cap=20), tmp / "warm")
    for video in (False, True):
        url = f"sqlite:///{tmp / f'eval-{video}.db'}"
        config = ServerConfig(database_url=url, data_dir=tmp / f"eval-{video}", video=video)
        db = connect(url)
        validated = validate_upload(model.read_bytes(), max_bytes=config.max_upload_bytes)
        with db.session() as session:
            ensure_organiser(session)
            race = create_race(
                session,
                RaceIn.model_validate({"name": "Eval Cup", "track": "reinvent_base", "seed": 1}),
            )
            code = create_invites(session, max_uses=1)[0].code
            racer, _ = redeem(session, code, "Bench")
            for i in range(args.evaluations):
                create_submission(session, config, race, racer, validated, f"m{i}")
        worker = Worker(config, db, "bench")
        start = time.perf_counter()
        results_at = None
        while worker.run_once():
            if results_at is None and _all_done(db):
                results_at = time.perf_counter() - start
        total = time.perf_counter() - start
        with db.session() as session:
            subs = session.query(Race).one().submissions
            sim = statistics.mean(float(s.result.get("sim_time", 0.0)) for s in subs)
            states = {s.state for s in subs}
            videos = sum("video" in s.result.get("files", {}) for s in subs)
        db.dispose()
        if states != {"done"} or (video and videos != args.evaluations):
            raise SystemExit(f"evaluations did not all finish: {states}, {videos} videos")
        results_at = results_at or total
        n = args.evaluations
        video_time = total - results_at
        table.add_row(
            "on" if video else "off",
            f"{n / results_at * 60:.1f}",
            f"{results_at / n:.2f}",
            f"{n / video_time * 60:.1f}" if video else "-",
            f"{video_time / n:.2f}" if video else "-",
            f"{sim:.0f}",
        )
    console.print(table)
    console.print(
        "A worker stores every queued result before it records any video (the video phase "
        "races the same model again with the same seed)."
    )


def _all_done(db: Database) -> bool:
    with db.session() as session:
        return all(s.state == "done" for s in session.query(Race).one().submissions)


def main(argv: list[str] | None = None) -> None:
    """Run both parts and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--racers", type=int, default=30)
    parser.add_argument("--evaluations", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-evaluations", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="racer-load-") as name:
        tmp = Path(name)
        model = constant_policy_onnx(tmp / "constant.onnx")
        if not args.skip_latency:
            latency_part(args, tmp, model)
        if not args.skip_evaluations:
            evaluation_part(args, tmp, model)


if __name__ == "__main__":
    main()
