"""Per-frame latency of the car's loop on one core, for every model format and runtime.

Run: ``python benchmarks/drive_latency.py [--model NAME] [--frames 500] [--actions 10]``.

Each frame is a 640x480 BGR image (the car's capture size) taken through the car's
preprocessing (resize to 160x120, BGR to gray, float32 NHWC) and the network; the two are
timed separately and the total is reported as p50/p99 and as frames per second. The process
is pinned to one CPU, OpenCV uses one thread, ONNX Runtime one intra-op thread and OpenVINO
``INFERENCE_NUM_THREADS=1``. The goal is a p50 total of at most 5 ms.

Without ``--model`` the network is DeepRacer's shallow CNN (conv 32 8x8/4, conv 64 4x4/2,
conv 64 3x3/1, dense 512, ``--actions`` outputs) with random weights, written by
:mod:`racer.export.synthetic`. With ``--model`` a trained run is exported by ``racer.export``.

Rows: the DeepRacer ``.tar.gz`` (frozen ``.pb``) via OpenVINO, ONNX via ONNX Runtime and via
OpenVINO, OpenVINO IR with FP32 and with FP16 weights. ``--precision`` sets OpenVINO's CPU
compute precision (``f32`` by default; ``f16`` is what the car compiles to).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

from racer.drive import LatencyStats, load_model, preprocess
from racer.export import synthetic as sy

GOAL_MS = 5.0


def camera_frames(n: int, seed: int = 0) -> list[np.ndarray]:
    """Camera-like 640x480 BGR frames (smooth shapes plus sensor noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:480, 0:640]
    frames = []
    for _ in range(n):
        a, b, c = rng.uniform(-1, 1, 3)
        base = 128 + 100 * np.sin(a * xx / 80 + b * yy / 60 + c * 6)
        img = base[..., None] + rng.normal(0, 12, (480, 640, 3))
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def synthetic_models(folder: Path, actions: int) -> dict[str, Path]:
    """The shallow CNN with random weights in every format."""
    graph = sy.random_graph(actions)  # steering spread over -30..30 degrees, 1 or 2 m/s
    return {
        "deepracer": sy.write_deepracer(graph, folder / "shallow.tar.gz"),
        "onnx": sy.write_onnx(graph, folder / "shallow.onnx"),
        "ir32": sy.write_openvino(graph, folder / "shallow-fp32"),
        "ir16": sy.write_openvino(graph, folder / "shallow-fp16", fp16=True),
    }


def exported_models(folder: Path, name: str, models_dir: Path) -> dict[str, Path]:
    """A trained run exported in every format (a short parity check each).

    The FP16 IR is written from the same layers without a parity check: only its speed is
    measured, so the exporter's FP16 parity threshold does not stand in the way.
    """
    from racer.export import export_loaded
    from racer.export.extract import extract_graph
    from racer.train.policy import load_policy

    policy = load_policy(name, models_dir=models_dir)

    def export(fmt: str, out: str) -> Path:
        return Path(export_loaded(policy, fmt, folder / out, frames=50).path)

    return {
        "deepracer": export("deepracer", f"{name}.tar.gz"),
        "onnx": export("onnx", f"{name}.onnx"),
        "ir32": export("openvino", f"{name}-fp32"),
        "ir16": sy.write_openvino(extract_graph(policy), folder / f"{name}-fp16", fp16=True),
    }


def measure(path: Path, runtime: str, precision: str, frames: list[np.ndarray], n: int) -> dict:
    """Preprocessing and inference times of ``n`` frames (after 20 warm-up frames)."""
    model = load_model(path, runtime, threads=1, precision=precision)
    for f in frames[:20]:
        model(preprocess(f))
    pre, inf = [], []
    for i in range(n):
        frame = frames[i % len(frames)]
        t0 = time.perf_counter()
        x = preprocess(frame)
        t1 = time.perf_counter()
        model(x)
        t2 = time.perf_counter()
        pre.append((t1 - t0) * 1e3)
        inf.append((t2 - t1) * 1e3)
    total = [a + b for a, b in zip(pre, inf, strict=True)]
    return {
        "pre": LatencyStats.of(pre),
        "inf": LatencyStats.of(inf),
        "total": LatencyStats.of(total),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="A trained run to export (default: random shallow CNN).")
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--frames", type=int, default=500, help="Timed frames per row.")
    parser.add_argument("--actions", type=int, default=10, help="Outputs of the random CNN.")
    parser.add_argument("--precision", default="f32", help="OpenVINO CPU precision.")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first).")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else cpus[0]})
    cv2.setNumThreads(1)
    frames = camera_frames(30)
    console = Console(width=None if Console().is_terminal else 120)
    with tempfile.TemporaryDirectory(prefix="racer-bench-") as tmp:
        folder = Path(tmp)
        if args.model:
            paths = exported_models(folder, args.model, args.models_dir)
            what = f"{args.model} (exported)"
        else:
            paths = synthetic_models(folder, args.actions)
            what = f"shallow CNN, {args.actions} actions, random weights"
        rows = [
            ("DeepRacer .tar.gz (.pb)", paths["deepracer"], "openvino"),
            ("ONNX", paths["onnx"], "onnxruntime"),
            ("ONNX", paths["onnx"], "openvino"),
            ("OpenVINO IR FP32", paths["ir32"], "openvino"),
            ("OpenVINO IR FP16", paths["ir16"], "openvino"),
        ]
        table = Table(title=f"racer drive latency, one core · {what} · 640x480 frames")
        for col in (
            "Format",
            "Runtime",
            "prep p50",
            "infer p50",
            "p50 ms",
            "p99 ms",
            "fps",
            "≤5ms",
        ):
            table.add_column(col, justify="left" if col in ("Format", "Runtime") else "right")
        for label, path, runtime in rows:
            r = measure(path, runtime, args.precision, frames, args.frames)
            total = r["total"]
            ok = "[green]yes[/]" if total.p50 <= GOAL_MS else "[red]no[/]"
            table.add_row(
                label,
                runtime if runtime == "onnxruntime" else f"openvino {args.precision}",
                f"{r['pre'].p50:.2f}",
                f"{r['inf'].p50:.2f}",
                f"{total.p50:.2f}",
                f"{total.p99:.2f}",
                f"{1000.0 / total.mean:.0f}",
                ok,
            )
    console.print(table)


if __name__ == "__main__":
    main()
