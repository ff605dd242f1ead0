"""How build time and memory grow with the archive: N copies of This Week in Rust.

For each N (default 1, 4, 16) a synthetic archive holds N copies of the archive, each in a
folder of its own (``copy-00/...``: distinct post ids, the same dates). For each engine
(``local``, ``dask``) three builds run, rules only (``model="none"``), each in a fresh Python
process, into one output folder:

1. cold (an empty output folder);
2. unchanged (nothing changed: the cache serves everything);
3. one post changed (a line added to one post of the first copy).

Each build reports its seconds (the ``load_corpus`` call, without the interpreter's start),
the driver's peak resident memory and the largest peak of its child processes (the local
engine's forked workers, or the Dask workers of the cluster the build starts: their peak
includes what the fork inherited). The ratios to the cold build and a fitted growth
(seconds = a * N ** b, least squares on the logs) are printed. Usage:

    .venv/bin/python benchmarks/bench_scale.py [--copies 1 4 16] [--engines local dask]
        [--jobs 2] [--json FILE]

It writes into a temporary folder only (and FILE when asked).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("WEEKNOTES_CORPORA", REPO.parent / "shared" / "corpora"))
DEFAULT_ARCHIVE = CORPORA / "this-week-in-rust"

BUILD = """
import json, resource, sys, time
from weeknotes_analysis import load_corpus
started = time.perf_counter()
corpus = load_corpus({archive!r}, model="none", out={out!r}, jobs={jobs}, engine={engine!r},
                     progress=False)
seconds = time.perf_counter() - started
# VmHWM rather than RUSAGE_SELF, which carries the peak of the process that forked this one.
with open("/proc/self/status") as status:
    own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({{
    "seconds": seconds,
    "fresh": corpus.stats.get("fresh"),
    "driver_mb": own / 1024,
    "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}}))
"""


def synthetic_archive(source: Path, copies: int, target: Path) -> Path:
    """``copies`` copies of ``source`` side by side (post ids ``copy-07/<file>``)."""
    for index in range(copies):
        shutil.copytree(source, target / f"copy-{index:02d}", symlinks=False)
    return target


def build(archive: Path, out: Path, *, jobs: int, engine: str) -> dict:
    """One build in a fresh interpreter; its figures."""
    code = textwrap.dedent(BUILD).format(
        archive=str(archive), out=str(out), jobs=jobs, engine=engine
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def edit_one_post(archive: Path) -> None:
    """Add a line to one post of the first copy (the middle of the archive's years)."""
    posts = sorted(
        path for path in (archive / "copy-00").rglob("*") if path.suffix in (".md", ".markdown")
    )
    post = posts[len(posts) // 2]
    post.write_text(
        post.read_text(encoding="utf-8") + "\nOne more line about Tokio.\n", encoding="utf-8"
    )


def fitted_growth(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """``(a, b)`` of seconds = a * N ** b, least squares on the logs."""
    points = [(n, s) for n, s in points if s > 0]
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    if spread == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread
    return math.exp(my - b * mx), b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", default=str(DEFAULT_ARCHIVE))
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--engines", nargs="+", default=["local", "dask"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        for copies in args.copies:
            for engine in args.engines:
                archive = Path(scratch) / f"archive-{copies}-{engine}"
                synthetic_archive(Path(args.archive), copies, archive)
                out = Path(scratch) / f"out-{copies}-{engine}"
                row = {"copies": copies, "engine": engine}
                row["cold"] = build(archive, out, jobs=args.jobs, engine=engine)
                row["unchanged"] = build(archive, out, jobs=args.jobs, engine=engine)
                edit_one_post(archive)
                row["one_post"] = build(archive, out, jobs=args.jobs, engine=engine)
                results.append(row)
                cold = row["cold"]["seconds"]
                print(
                    f"N={copies:2d} {engine:5s} cold {cold:6.1f} s  "
                    f"unchanged {row['unchanged']['seconds']:5.2f} s "
                    f"({row['unchanged']['seconds'] / cold:.3f})  "
                    f"one post {row['one_post']['seconds']:5.2f} s "
                    f"({row['one_post']['seconds'] / cold:.3f})  "
                    f"driver {row['cold']['driver_mb']:5.0f} MB  "
                    f"workers {row['cold']['worker_mb']:5.0f} MB",
                    flush=True,
                )
                shutil.rmtree(archive)
                shutil.rmtree(out)
    for engine in args.engines:
        for step in ("cold", "unchanged", "one_post"):
            points = [(r["copies"], r[step]["seconds"]) for r in results if r["engine"] == engine]
            fit = fitted_growth(points)
            if fit:
                print(f"{engine:5s} {step:9s} seconds ~ {fit[0]:.2f} * N^{fit[1]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
