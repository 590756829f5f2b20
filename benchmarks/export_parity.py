"""Parity figures and timings of every export format for one trained model.

Run: ``python benchmarks/export_parity.py MODEL [--models-dir models] [--frames 1000]
[--out DIR]``. Each format (and the OpenVINO IR at both weight precisions) is exported to
``DIR`` (a temporary folder by default), checked on the same simulator frames, and reported
as one JSON line per export: max |diff| and argmax agreement per runtime, size, seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from racer.export import ExportError, export_loaded
from racer.train.policy import load_policy

CASES = (("deepracer", "fp32"), ("onnx", "fp32"), ("openvino", "fp32"), ("openvino", "fp16"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model")
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    policy = load_policy(args.model, models_dir=args.models_dir)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for fmt, precision in CASES:
            dest = out / f"{fmt}-{precision}"
            try:
                result = export_loaded(
                    policy, fmt, dest, frames=args.frames, seed=args.seed, precision=precision
                )
            except ExportError as exc:
                print(json.dumps({"format": fmt, "precision": precision, "error": str(exc)}))
                continue
            checks = [
                {
                    "runtime": c.runtime,
                    "weights": c.precision,
                    "max_abs_diff": c.max_abs_diff,
                    "mean_abs_diff": c.mean_abs_diff,
                    "agreement": c.agreement,
                    "ties": c.ties,
                }
                for c in result.report.checks
            ]
            line = {
                "format": fmt,
                "precision": precision,
                "frames": result.report.frames,
                "size_mb": round(result.size_bytes / 2**20, 2),
                "seconds": round(result.seconds, 2),
                "checks": checks,
            }
            print(json.dumps(line))


if __name__ == "__main__":
    main()
