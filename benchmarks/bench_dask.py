"""The Dask engine against the local engine, side by side, and what N workers would give.

Every build is cold (a fresh output folder) and runs in a fresh Python process, so the figures
include imports and model loads as a user sees them. Three runs on the same archive:

1. local: ``load_corpus(..., jobs=J)`` (``weeknotes build --jobs J``);
2. dask, cluster started by the build: ``engine="dask", workers=W`` (``--engine dask
   --workers W``): a LocalCluster is started and stopped inside the timing;
3. dask on a running cluster: W workers started beforehand (as `dask scheduler` and
   `dask worker` would be), then two cold builds against its address: the first pays the
   workers' pipeline loads, the second finds the pipelines loaded (a long-lived cluster).

From run 3 it splits a build into the driver's serial part S (listing and hashing files,
reading the parts back, sorting, label consolidation, topic tagging, writing the output), the
workers' work W (sum of the task times) and the per-worker start-up L, and estimates, Amdahl
style, T(N) = k*S + k*W/N + L for an archive k times larger. Usage:

    .venv/bin/python benchmarks/bench_dask.py [ARCHIVE] [--jobs 2] [--workers 2]
        [--model none] [--estimate-mb 1000] [--json FILE]

It writes into a temporary folder only (and FILE when asked).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("WEEKNOTES_CORPORA", REPO.parent / "shared" / "corpora"))
DEFAULT_ARCHIVE = CORPORA / "this-week-in-rust"
WORKER_COUNTS = (1, 2, 4, 8, 16, 32, 64)

PRELUDE = """
import json, logging, time
from dataclasses import asdict
from weeknotes_analysis import load_corpus
from weeknotes_analysis.dask_engine import DaskEngine
def stats_of(engine):
    return {
        "connect": engine.stats.connect,
        "tasks": engine.stats.tasks,
        "collect": engine.stats.collect,
        "work": sum(engine.stats.task_seconds),
        "partitions": len(engine.stats.partitions),
        "pipeline_loads": engine.stats.pipeline_loads,
    }
"""


def run(body: str) -> dict:
    """Run ``body`` in a fresh interpreter; it prints one JSON line, which is returned."""
    code = PRELUDE + textwrap.dedent(body)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def local(archive: Path, out: Path, *, model: str, jobs: int) -> dict:
    return run(
        f"""
        start = time.perf_counter()
        corpus = load_corpus({str(archive)!r}, model={model!r}, jobs={jobs}, out={str(out)!r})
        print(json.dumps({{"seconds": time.perf_counter() - start, "posts": len(corpus.posts)}}))
        """
    )


def dask_started_by_the_build(archive: Path, out: Path, *, model: str, workers: int) -> dict:
    return run(
        f"""
        start = time.perf_counter()
        engine = DaskEngine(workers={workers}, scratch={str(out / ".dask-scratch")!r},
                            dashboard_address=":0")
        corpus = load_corpus({str(archive)!r}, model={model!r}, out={str(out)!r}, engine=engine)
        print(json.dumps({{"seconds": time.perf_counter() - start, **stats_of(engine)}}))
        """
    )


def dask_on_a_running_cluster(archive: Path, outs: list[Path], *, model: str, workers: int) -> dict:
    return run(
        f"""
        from distributed import LocalCluster
        cluster = LocalCluster(n_workers={workers}, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        runs = []
        for out in {[str(out) for out in outs]!r}:
            start = time.perf_counter()
            engine = DaskEngine(cluster.scheduler_address, scratch=out + "/.dask-scratch")
            corpus = load_corpus({str(archive)!r}, model={model!r}, out=out, engine=engine)
            runs.append({{"seconds": time.perf_counter() - start, **stats_of(engine)}})
        cluster.close()
        print(json.dumps({{"first": runs[0], "second": runs[1]}}))
        """
    )


def same_tables(left: Path, right: Path) -> bool:
    """Every table file of one output folder equals the other's."""
    import pandas as pd

    names = sorted(path.name for path in left.glob("*.parquet"))
    if not names or names != sorted(path.name for path in right.glob("*.parquet")):
        return False
    for name in names:
        try:
            pd.testing.assert_frame_equal(
                pd.read_parquet(right / name), pd.read_parquet(left / name)
            )
        except AssertionError:
            return False
    return True


def estimate(first: dict, second: dict, local_seconds: float, *, scale: float) -> dict:
    """Amdahl: T(N) = F + L + k*S + k*W/N for an archive k times larger.

    F: the driver's fixed start (imports, its own model loads): 1st minus 2nd build's driver
    time on the running cluster; L: the workers' start-up (pipeline loads): 1st minus 2nd
    build's task time; S: the driver's serial time per archive (2nd build); W: the workers'
    work (2nd build, summed over tasks). The local build is taken as F + k*(local - F).
    """
    driver_first = first["seconds"] - first["tasks"]
    serial = second["seconds"] - second["tasks"]
    fixed = max(0.0, driver_first - serial)
    startup = max(0.0, first["tasks"] - second["tasks"])
    work = second["work"]
    return {
        "fixed_s": fixed,
        "startup_s": startup,
        "serial_s": serial,
        "work_s": work,
        "scale": scale,
        "local_big_s": fixed + scale * (local_seconds - fixed),
        "predicted": {n: fixed + startup + scale * (serial + work / n) for n in WORKER_COUNTS},
        "floor": fixed + startup + scale * serial,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", default=str(DEFAULT_ARCHIVE))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="none")
    parser.add_argument("--estimate-mb", type=float, default=1000.0)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    archive = Path(args.archive)
    if not archive.is_dir():
        print(f"{archive}: absent; the real archives live in ../shared/corpora", file=sys.stderr)
        return 2
    archive_mb = sum(p.stat().st_size for p in archive.rglob("*") if p.is_file()) / 1e6
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        base = Path(tmp)
        local_run = local(archive, base / "local", model=args.model, jobs=args.jobs)
        started = dask_started_by_the_build(
            archive, base / "dask", model=args.model, workers=args.workers
        )
        running = dask_on_a_running_cluster(
            archive, [base / "run1", base / "run2"], model=args.model, workers=args.workers
        )
        equal = all(same_tables(base / "local", base / name) for name in ("dask", "run1", "run2"))
    first, second = running["first"], running["second"]
    figures = estimate(first, second, local_run["seconds"], scale=args.estimate_mb / archive_mb)
    load = os.getloadavg()[0]
    print(
        f"{archive.name}: {local_run['posts']} posts, {archive_mb:.1f} MB, model {args.model}, "
        f"{os.cpu_count()} cores, load average {load:.1f}; tables equal: {equal}"
    )
    rows = [
        (f"local --jobs {args.jobs}", local_run["seconds"], None),
        (f"dask --workers {args.workers} (starts a LocalCluster)", started["seconds"], started),
        (f"dask, running cluster of {args.workers}, 1st build", first["seconds"], first),
        (f"dask, running cluster of {args.workers}, 2nd build", second["seconds"], second),
    ]
    print(f"{'build':52} {'seconds':>8} {'/local':>7}  connect  tasks  work  collect  parts")
    for label, seconds, stats in rows:
        ratio = seconds / local_run["seconds"]
        detail = ""
        if stats:
            detail = (
                f"  {stats['connect']:7.1f} {stats['tasks']:6.1f} {stats['work']:5.1f} "
                f"{stats['collect']:8.1f} {stats['partitions']:6d}"
            )
        print(f"{label:52} {seconds:8.1f} {ratio:7.2f}{detail}")
    print(
        f"\nAmdahl fit: driver start F = {figures['fixed_s']:.1f} s, worker start-up L = "
        f"{figures['startup_s']:.1f} s, driver serial S = {figures['serial_s']:.1f} s and "
        f"worker work W = {figures['work_s']:.1f} s per archive"
    )
    local_big = figures["local_big_s"]
    print(
        f"estimate for a {args.estimate_mb:.0f} MB archive ({figures['scale']:.0f}x): local "
        f"--jobs {args.jobs} ~ {local_big / 60:.0f} min; dask with N workers:"
    )
    for count, seconds in figures["predicted"].items():
        print(f"  N = {count:3d}: {seconds / 60:6.1f} min  ({local_big / seconds:4.1f}x local)")
    print(f"  N -> inf: {figures['floor'] / 60:6.1f} min (the driver's serial part)")
    if args.json:
        record = {"local": local_run, "started": started, "running": running, **figures}
        Path(args.json).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
