"""Chart runs of ``benchmarks/time_to_lap.py`` side by side: best clean lap over training time.

Run: ``python benchmarks/plot_time_to_lap.py LABEL=LOG [LABEL=LOG ...] --out chart.png``, where
each LOG is what ``time_to_lap.py`` printed (``python benchmarks/time_to_lap.py ... > LOG``).
Every evaluation line (``X min wall, Y min trained, N steps: k/3 clean laps, best lap T s``)
becomes a point at Y minutes: its best lap when all 3 trials were clean, an open marker at the
top when not. The optimal lap from the log's first line is drawn as the yardstick with the
1.25x goal. This is how ``docs/images/action-space.png`` in getting-started was made.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LINE = re.compile(
    r"(?P<trained>[\d.]+) min trained,\s+(?P<steps>\d+) steps: (?P<clean>\d)/(?P<trials>\d) "
    r"clean laps(?:, best lap (?P<best>[\d.]+) s)?"
)
OPTIMAL = re.compile(r"optimal lap (?P<optimal>[\d.]+) s")


@dataclass(frozen=True)
class Run:
    """The evaluations of one benchmark run."""

    label: str
    minutes: list[float]
    best: list[float | None]
    optimal: float | None


def read_log(label: str, path: Path) -> Run:
    """Parse a ``time_to_lap.py`` log.

    Raises:
        SystemExit: The file has no evaluation lines.
    """
    text = path.read_text()
    minutes: list[float] = []
    best: list[float | None] = []
    for m in LINE.finditer(text):
        minutes.append(float(m["trained"]))
        clean = m["clean"] == m["trials"] and m["best"] is not None
        best.append(float(m["best"]) if clean else None)
    if not minutes:
        raise SystemExit(f"{path}: no evaluation lines of time_to_lap.py")
    found = OPTIMAL.search(text)
    return Run(label, minutes, best, float(found["optimal"]) if found else None)


def chart(runs: list[Run], out: Path) -> Path:
    """Best clean lap per evaluation for each run; the optimal lap and 1.25x as references."""
    plt.rcParams.update({"font.size": 15, "axes.spines.top": False, "axes.spines.right": False})
    fig, ax = plt.subplots(figsize=(12, 6.75), dpi=110)
    laps = [b for r in runs for b in r.best if b is not None]
    top = max(laps) * 1.12 if laps else 20.0
    for run in runs:
        xs = [m for m, b in zip(run.minutes, run.best, strict=True) if b is not None]
        ys = [b for b in run.best if b is not None]
        (line,) = ax.plot(xs, ys, marker="o", lw=2.5, ms=8, label=run.label)
        misses = [m for m, b in zip(run.minutes, run.best, strict=True) if b is None]
        if misses:
            ax.plot(misses, [top * 0.97] * len(misses), ls="", marker="o", mfc="none", ms=8,
                    color=line.get_color())  # fmt: skip
    optimal = next((r.optimal for r in runs if r.optimal), None)
    if optimal:
        ax.axhline(optimal, color="#2a9d4b", lw=1.5, ls="--")
        ax.text(0.3, optimal * 1.01, f"optimal lap {optimal:.2f} s", color="#2a9d4b",
                va="bottom")  # fmt: skip
        ax.axhline(optimal * 1.25, color="#999999", lw=1.2, ls=":")
        ax.text(0.3, optimal * 1.25 * 1.01, "1.25 x optimal", color="#777777", va="bottom")
    ax.set_ylim(0, top)
    ax.set_xlim(0, max(max(r.minutes) for r in runs) + 1)
    ax.set_xlabel("minutes of training (2-core laptop)")
    ax.set_ylabel("best lap of 3 clean trials (s)")
    ax.set_title("Best clean lap during training", fontweight="bold")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right", frameon=True)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse the logs named on the command line and write the chart."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="LABEL=LOG")
    parser.add_argument("--out", type=Path, default=Path("time-to-lap.png"))
    args = parser.parse_args(argv)
    runs = []
    for spec in args.runs:
        label, sep, path = spec.partition("=")
        if not sep:
            raise SystemExit(f"{spec!r}: give LABEL=LOG")
        runs.append(read_log(label, Path(path)))
    print(chart(runs, args.out))


if __name__ == "__main__":
    main()
