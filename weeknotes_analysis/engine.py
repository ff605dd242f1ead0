"""Engines in one place: the engine protocol, what an engine returns, and the one fork pool.

An engine processes the files the cache cannot serve and returns their rows as a
:class:`Processed`. The local engine (:func:`weeknotes_analysis.build.local_engine`) and the
model's batch runner (:func:`weeknotes_analysis.nlp.run_pipeline`) both run forked worker
processes through :func:`fork_pool`: the parent loads what the workers need (a spaCy
pipeline, rules) once, the workers inherit it with the fork and read it with
:func:`inherited`. The Dask engine lives in :mod:`weeknotes_analysis.dask_engine`.

This module imports nothing from the package at run time, so every other module may import it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pandas as pd

if TYPE_CHECKING:
    from .process import Settings

# The Dask engine's scratch folder inside an output folder (removed by the next build).
DASK_SCRATCH = ".dask-scratch"
T = TypeVar("T")

__all__ = [
    "DASK_SCRATCH",
    "Engine",
    "Processed",
    "can_fork",
    "fork_pool",
    "inherited",
    "stop_workers",
    "wait_result",
]


@dataclass
class Processed:
    """What an engine returns for the files it was given.

    Attributes:
        files: ``(relative path, content hash)`` of every file, in the order given (the hash
            is empty for a file that could not be read).
        tables: the files' rows in every table, in any row order: posts, sections, links,
            problems, entities (raw: labels as the model gave them, also in ``model_label``,
            consolidated by the build across the archive), topics, sentiment and phrases.
    """

    files: list[tuple[str, str]]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def post_of(self) -> dict[str, str]:
        """Relative path -> post_id of every file that became a post."""
        posts = self.tables.get("posts")
        if posts is None:
            return {}
        return dict(zip(posts["path"], posts["post_id"], strict=True))


class Engine(Protocol):
    """Processes the files that the cache cannot serve (local processes, a Dask cluster)."""

    def __call__(
        self,
        root: Path,
        relatives: list[str],
        *,
        settings: Settings,
        jobs: int,
        strict: bool,
        progress: bool,
    ) -> Processed: ...


# What the parent of a fork pool hands its workers; set only while the pool runs.
_WORKER: Any = None


def can_fork() -> bool:
    """Whether this platform starts processes by fork (what the pools rely on)."""
    return "fork" in multiprocessing.get_all_start_methods()


def inherited() -> Any:
    """In a forked worker: what the parent passed to :func:`fork_pool`."""
    if _WORKER is None:
        raise RuntimeError("inherited() is for the workers of a running fork_pool")
    return _WORKER


@contextmanager
def fork_pool(state: Any, *, workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` forked processes that inherit ``state`` (read it with
    :func:`inherited` in the task function).

    The workers ignore Ctrl-C (the parent handles it) and die with the parent, so that no
    orphan goes on computing or keeps an output folder's lock held. When the block raises
    (Ctrl-C, SIGTERM, a strict stop), the workers are killed at once rather than awaited."""
    global _WORKER
    _WORKER = state
    try:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        try:
            yield pool
        except BaseException:
            stop_workers(pool)
            raise
        pool.shutdown()
    finally:
        _WORKER = None


def _start_worker(parent: int) -> None:
    """In a forked worker: leave Ctrl-C to the main process, which stops the workers, and die
    with the main process when it is killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        # Linux: the kernel sends SIGKILL when the parent dies (PR_SET_PDEATHSIG).
        if ctypes.CDLL(None).prctl(1, signal.SIGKILL) != 0:
            raise OSError("prctl failed")
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the watch began
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def wait_result(future: Future[T]) -> T:
    """The future's result, waiting in short steps: a wait without a timeout would hold
    Ctrl-C back until the result came, when the signal reaches one of the pool's threads."""
    while True:
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            continue


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill the workers at once."""
    # ``terminate_workers`` is public from Python 3.14; before, the processes are
    # ``_processes``, which ``shutdown`` forgets: take them first.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    results = getattr(manager, "result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.kill()
    for worker in workers:
        worker.join(timeout=1)
    # A worker killed while it wrote a result leaves part of it in the result pipe, and the
    # manager thread waits for the rest (the interpreter's exit waits for that thread: a
    # stopped build that never ends). With the workers dead, closing the main process's end
    # of the pipe, the last one open for writing, turns that wait into an end of file.
    if results is not None:
        results._writer.close()
    # Let the pool's manager thread see its workers gone and close its wake-up pipe now: left
    # running, it races the interpreter's exit hook, which may write to that pipe as it closes
    # ("Bad file descriptor" printed after "stopped").
    if manager is not None:
        manager.join(timeout=2)
