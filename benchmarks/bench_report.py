"""Report benchmark (issue 13, item 8): with the tables already built, `weeknotes report` takes at
most a cold rules-only build plus the notebooks' own work.

Each step runs the command line in a fresh process, as a user would, on one archive (default:
This Week in Rust):

1. a cold rules-only build (`weeknotes build --model none` into an empty folder);
2. a first report (`weeknotes report --model none`), which builds the tables into its folder;
3. the same report again: the tables are built, so only the notebooks, the pages and the index
   are left; each notebook's time is read from the report's progress lines.

Goal: report with tables built <= cold build + the notebooks' time (the report's own overhead,
the build from the cache, the findings, the topic pages and the index, fits in one cold build).
Usage:

    .venv/bin/python benchmarks/bench_report.py [--archive PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("WEEKNOTES_CORPORA", REPO.parent / "shared" / "corpora"))
CLI = [sys.executable, "-m", "weeknotes_analysis.cli"]


def timed(arguments: list[str]) -> tuple[float, str]:
    """Seconds the command took and what it printed; stops the benchmark if it fails."""
    started = time.perf_counter()
    done = subprocess.run(
        [*CLI, *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed:\n{done.stderr}")
    return seconds, done.stdout


def notebook_seconds(printed: str) -> dict[str, float]:
    """Each notebook's time, from the report's progress lines ("running X" with a clock)."""
    return {
        name: float(seconds)
        for name, seconds in re.findall(r"ran (\S+\.ipynb) in (\d+\.\d+) s", printed)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", default=str(CORPORA / "this-week-in-rust"))
    args = parser.parse_args()
    archive = Path(args.archive)
    if not archive.is_dir():
        sys.exit(f"{archive}: no such archive (the real archives live in ../shared/corpora)")
    with tempfile.TemporaryDirectory() as scratch:
        cold, _ = timed(["build", str(archive), "--out", f"{scratch}/build", "--model", "none"])
        first, _ = timed(["report", str(archive), "--out", f"{scratch}/report", "--model", "none"])
        warm, printed = timed(
            ["report", str(archive), "--out", f"{scratch}/report", "--model", "none"]
        )
        index = Path(scratch) / "report" / "index.html"
        size = index.stat().st_size / 1e6
    notebooks = notebook_seconds(printed)
    spent = sum(notebooks.values())
    print(f"archive: {archive}")
    print(f"cold rules-only build:             {cold:6.1f} s")
    print(f"first report (builds the tables):  {first:6.1f} s")
    print(f"report with the tables built:      {warm:6.1f} s")
    for name, seconds in notebooks.items():
        print(f"  {name:<34} {seconds:6.1f} s")
    print(f"  notebooks together                 {spent:6.1f} s")
    print(f"  the rest (cache, findings, pages)  {warm - spent:6.1f} s")
    print(f"index.html: {size:.1f} MB")
    budget = cold + spent
    verdict = "met" if warm <= budget else "NOT met"
    print(f"goal: {warm:.1f} s <= cold build + notebooks = {budget:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
