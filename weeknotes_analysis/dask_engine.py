"""Run the build on a Dask cluster: coarse partitions, disk to disk.

The driver splits the files the cache cannot serve into partitions of a few megabytes and submits
one task per partition. A task reads, parses and analyses its files (entities, topics, sentiment
and phrases: :func:`weeknotes_analysis.process.process_files`, as the local engine does) with a
pipeline that its worker process loads once, and writes the partition's tables as parquet into a
scratch folder (one dataset per table: ``<table>/part-00007.parquet``); only a few numbers travel
back. The driver reads the parts back; only label consolidation (one label per entity id across
the archive) is left to the build.
The archive and the scratch folder must be on a file system every worker sees at the same path.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .corpus import StrictError, problem_of_row, write_parquet
from .engine import Processed
from .output import read_table
from .process import (
    LAYERS,
    ROW_TABLES,
    Partition,
    Settings,
    plan_partitions,
    process_files,
)

PARTITION_BYTES = 4_000_000
CONNECT_TIMEOUT = 10.0
PARTITIONS_PER_THREAD = 3
SCRATCH_TABLES = (*ROW_TABLES, "entities", *LAYERS, "index")
INSTALL_HINT = "pip install -e '.[dask]' (dask and distributed 2026.8.0)"
__all__ = ["DaskEngine", "DaskEngineError", "Partition", "RunStats", "plan_partitions"]


class DaskEngineError(RuntimeError):
    """The cluster cannot be reached or a partition failed; the message says which and why."""


@dataclass
class RunStats:
    """What the last call did: its partitions and where the time went (in seconds)."""

    partitions: list[Partition] = field(default_factory=list)
    workers: int = 0
    connect: float = 0.0
    tasks: float = 0.0
    collect: float = 0.0
    task_seconds: list[float] = field(default_factory=list)
    pipeline_loads: int = 0
    worker_pids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Task:
    """What a worker needs besides its partition and the settings (small: it travels with
    every task)."""

    root: str
    scratch: str
    strict: bool


class DaskEngine:
    """A build engine (see :class:`weeknotes_analysis.engine.Engine`) that runs on Dask.

    Args:
        scheduler: address of a running scheduler (``tcp://host:8786``); ``None`` starts a
            ``LocalCluster`` on this machine for the call and stops it afterwards.
        workers: worker processes of the local cluster (default: ``jobs``, the machine's
            cores). With ``scheduler``, the build waits until that many workers have joined.
        partition_bytes: bytes of Markdown per task (partitions shrink on small archives so
            that each worker thread gets about three).
        scratch: folder for the partitions' parquet files, on a file system the workers share;
            the build passes ``<out>/.dask-scratch``. Default: a temporary folder, which only a
            local cluster can see. Each call uses a fresh sub-folder and removes it.
        connect_timeout: seconds to wait for the scheduler (and for ``workers`` to join).
        dashboard_address: where the local cluster serves its dashboard.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        workers: int | None = None,
        partition_bytes: int = PARTITION_BYTES,
        scratch: str | os.PathLike[str] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        dashboard_address: str | None = "localhost:8787",
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.scheduler = scheduler
        self.workers = workers
        self.partition_bytes = partition_bytes
        self.scratch = Path(scratch) if scratch is not None else None
        self.connect_timeout = connect_timeout
        self.dashboard_address = dashboard_address
        self.stats = RunStats()

    def __call__(
        self,
        root: Path,
        relatives: list[str],
        *,
        settings: Settings,
        jobs: int,
        strict: bool,
        progress: bool,
    ) -> Processed:
        """Process ``relatives`` on the cluster; the tables come back as DataFrames."""
        if not relatives:
            self.stats = RunStats()
            return Processed([])
        with self.session(
            root, relatives, settings=settings, jobs=jobs, progress=progress, strict=strict
        ) as (_, run, parts, _):
            started = time.perf_counter()
            processed = _collect(run, parts, strict=strict)
            self.stats.collect = time.perf_counter() - started
            return processed

    @contextmanager
    def session(
        self,
        root: Path,
        relatives: list[str],
        *,
        settings: Settings,
        jobs: int,
        strict: bool,
        progress: bool,
    ) -> Iterator[tuple[Any, Path, list[Partition], list[dict[str, Any]]]]:
        """Process ``relatives`` on the cluster into a scratch folder; yields the client
        (still connected), that folder, the partitions and each one's report (its posts,
        problems, files and model labels: see :func:`_run_partition`). The folder is removed
        afterwards."""
        self.stats = RunStats()
        root = root.resolve()
        run = self._run_folder()
        try:
            for name in SCRATCH_TABLES:
                (run / name).mkdir()
            task = _Task(root=str(root), scratch=str(run), strict=strict)
            started = time.perf_counter()
            with self._client(jobs=jobs, local_directory=run / "dask") as client:
                self.stats.connect = time.perf_counter() - started
                parts, reports = self._process(client, task, relatives, settings, progress=progress)
                yield client, run, parts, reports
        finally:
            shutil.rmtree(run, ignore_errors=True)
            if self.scratch is not None:
                with suppress(OSError):  # still in use: another run's folder is in it
                    self.scratch.rmdir()

    def _process(
        self,
        client: Any,
        task: _Task,
        relatives: list[str],
        settings: Settings,
        *,
        progress: bool,
    ) -> tuple[list[Partition], list[dict[str, Any]]]:
        """Split the files into partitions and run one task per partition on the cluster."""
        root = Path(task.root)
        self.stats.workers = len(client.scheduler_info()["workers"])
        _check_visible(client, [root, Path(task.scratch)])
        threads = sum(client.nthreads().values())
        parts = plan_partitions(
            root,
            relatives,
            partition_bytes=self.partition_bytes,
            at_least=PARTITIONS_PER_THREAD * threads,
        )
        self.stats.partitions = parts
        if progress:
            print(
                f"dask: {len(relatives)} files in {len(parts)} partitions on "
                f"{self.stats.workers} workers; dashboard: {client.dashboard_link}",
                file=sys.stderr,
            )
        started = time.perf_counter()
        reports = _run(client, task, settings, parts, progress=progress)
        self.stats.tasks = time.perf_counter() - started
        self.stats.task_seconds = [report["seconds"] for report in reports]
        self.stats.pipeline_loads = sum(report["loaded"] for report in reports)
        self.stats.worker_pids = {report["pid"] for report in reports}
        return parts, reports

    def _run_folder(self) -> Path:
        if self.scratch is None:
            return Path(tempfile.mkdtemp(prefix="weeknotes-dask-")).resolve()
        run = (self.scratch / f"run-{uuid.uuid4().hex[:12]}").resolve()
        run.mkdir(parents=True)
        return run

    @contextmanager
    def _client(self, *, jobs: int, local_directory: Path) -> Iterator[Any]:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise DaskEngineError(f"the dask engine needs {INSTALL_HINT}: {exc}") from None
        if self.scheduler is None:
            workers = self.workers or jobs
            try:
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=self.dashboard_address,
                    local_directory=str(local_directory),
                    silence_logs=logging.ERROR,
                )
            except (OSError, RuntimeError) as exc:
                raise DaskEngineError(
                    f"cannot start a local Dask cluster of {workers} workers: {exc}; a Python "
                    "script must start the build under `if __name__ == '__main__':`"
                ) from exc
            client = Client(cluster, set_as_default=False)
            try:
                yield client
            finally:
                client.close()
                cluster.close()
            return
        try:
            client = Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise DaskEngineError(
                f"cannot reach the Dask scheduler at {self.scheduler}: {exc}; check the address "
                "and that `dask scheduler` runs there, or drop --scheduler for a local cluster"
            ) from None
        try:
            wanted = self.workers or 1
            try:
                client.wait_for_workers(wanted, timeout=self.connect_timeout)
            except TimeoutError:
                have = len(client.scheduler_info()["workers"])
                raise DaskEngineError(
                    f"the Dask scheduler at {self.scheduler} has {have} workers after "
                    f"{self.connect_timeout:g} s, {wanted} wanted; start them with "
                    f"`dask worker {self.scheduler}`"
                ) from None
            yield client
        finally:
            client.close()


def _sees(paths: list[str]) -> list[str]:
    return [path for path in paths if not os.path.isdir(path)]


def _check_visible(client: Any, paths: list[Path]) -> None:
    """Fail early, naming the worker and the folder, when a worker cannot see the data."""
    missing = client.run(_sees, [str(path) for path in paths])
    for worker, folders in sorted(missing.items()):
        if folders:
            raise DaskEngineError(
                f"the Dask worker {worker} cannot see {folders[0]}: the archive and the output "
                "folder must be on a file system that every worker mounts at the same path"
            )


def _run(
    client: Any, task: _Task, settings: Settings, parts: list[Partition], *, progress: bool
) -> list[Any]:
    """Submit one task per partition; wait, with a progress bar on a terminal."""
    from distributed import as_completed

    run_id = Path(task.scratch).name
    # Sent once to every worker rather than with every task (it weighs ~200 KB pickled).
    shared = client.scatter(settings, broadcast=True, hash=False)
    futures = {
        client.submit(
            _run_partition, task, part, shared, key=f"weeknotes-{run_id}-{part.index}"
        ): part
        for part in parts
    }
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(
            total=sum(len(part.relatives) for part in parts), desc="dask", unit="post", leave=False
        )
    reports: dict[int, Any] = {}
    try:
        for future in as_completed(futures, loop=client.loop):
            part = futures[future]
            if future.status != "finished":
                failure = _failure(part.describe(), future)
                for other in futures:
                    other.cancel()
                raise failure
            reports[part.index] = future.result()
            if bar is not None:
                bar.update(len(part.relatives))
    finally:
        if bar is not None:
            bar.close()
    return [reports[part.index] for part in parts]


def run_tasks(client: Any, calls: list[tuple[str, Any, tuple[Any, ...]]]) -> list[Any]:
    """Run ``(description, function, arguments)`` calls on the cluster, one task each, and
    return their results in order; the first that fails stops the others and raises
    :class:`DaskEngineError` naming its description."""
    from distributed import as_completed

    batch = uuid.uuid4().hex[:12]
    futures = {
        client.submit(function, *arguments, key=f"weeknotes-{batch}-{index}"): (index, what)
        for index, (what, function, arguments) in enumerate(calls)
    }
    results = {}
    for future in as_completed(futures, loop=client.loop):
        index, what = futures[future]
        if future.status != "finished":
            failure = _failure(what, future)
            for other in futures:
                other.cancel()
            raise failure
        results[index] = future.result()
    return [results[index] for index in range(len(calls))]


def _failure(what: str, future: Any) -> DaskEngineError:
    """The error of a failed task, naming ``what`` it did."""
    from distributed import KilledWorker

    error = _error(future)
    if isinstance(error, KilledWorker):
        failure = DaskEngineError(
            f"{what} failed: the workers running it died ({error}); a worker that runs out "
            "of memory is killed: use smaller partitions or give the workers more memory. The "
            "previous output is left as it was."
        )
    else:
        failure = DaskEngineError(
            f"{what} failed on the cluster: {type(error).__name__}: {error}. The previous "
            "output is left as it was."
        )
    failure.__cause__ = error
    return failure


def _error(future: Any) -> BaseException:
    try:
        error = future.exception()
    except BaseException as exc:  # a cancelled future raises instead of returning its error
        error = exc
    if error is None:
        return RuntimeError(f"the task ended as {future.status!r}")
    return error


_PIPELINES: dict[tuple[str, str, bool], Any] = {}


def _worker_pipeline(settings: Settings) -> tuple[Any, bool]:
    """The worker process's pipeline, loaded by its first task and kept for the next ones
    (and the next builds); whether this call loaded it."""
    key = (settings.model, settings.gazetteer.fingerprint, settings.parsed)
    loaded = key not in _PIPELINES
    if loaded:
        _PIPELINES[key] = settings.pipeline()
    return _PIPELINES[key], loaded


def _run_partition(task: _Task, part: Partition, settings: Settings) -> dict[str, Any]:
    """On a worker: process one partition and write its tables; return a few numbers."""
    started = time.perf_counter()
    loads = []

    def pipeline() -> Any:
        nlp, loaded = _worker_pipeline(settings)
        loads.append(loaded)
        return nlp

    tables = process_files(task.root, part.relatives, settings, pipeline, strict=task.strict)
    for name, frame in tables.items():
        write_parquet(frame, Path(task.scratch) / name / part.file_name)
    seconds = time.perf_counter() - started
    scratch = Path(task.scratch)
    return {
        "partition": part.index,
        "seconds": seconds,
        "pid": os.getpid(),
        "loaded": any(loads),
        # Small, for the driver's archive-wide steps: one row per post or problem.
        "posts": read_table(scratch / "posts" / part.file_name, "posts"),
        "problems": read_table(scratch / "problems" / part.file_name, "problems"),
        "file": part.file_name,
        # A strict run that met a problem stops before the analysis: no entities.
        "labels": _model_labels(tables.get("entities", pd.DataFrame())),
    }


def _model_labels(entities: pd.DataFrame) -> dict[str, dict[str, int]]:
    """How often the model gave each label to each entity id."""
    counts: dict[str, dict[str, int]] = {}
    if entities.empty:
        return counts
    model = entities[entities["source"] == "model"]
    keys = [model["entity_id"], model["model_label"].astype(str)]
    for (entity_id, label), size in model.groupby(keys, observed=True).size().items():
        counts.setdefault(str(entity_id), {})[str(label)] = int(size)
    return counts


def _collect(run: Path, parts: list[Partition], *, strict: bool) -> Processed:
    """Read every partition's parts back, in partition order, into one Processed."""

    def read(name: str) -> pd.DataFrame:
        frames = [
            pd.read_parquet(path) if name in ("entities", "index") else read_table(path, name)
            for path in (run / name / part.file_name for part in parts)
        ]
        # Empty parts lack the rows' extra columns (the contract's are always there).
        return pd.concat(
            [frame for frame in frames if not frame.empty] or frames, ignore_index=True
        )

    problems = read("problems")
    if strict and not problems.empty:
        raise StrictError(problem_of_row(problems.iloc[0]))
    tables = {name: read(name) for name in SCRATCH_TABLES if name != "problems"}
    tables["problems"] = problems
    index = tables.pop("index")
    return Processed([(str(rel), str(digest)) for rel, digest in index.to_numpy()], tables)
